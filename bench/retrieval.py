"""Related-question retrieval quality on the labelled query sets in tests/data.

recall@5: share of each query's relevant questions found in the top 5, averaged over queries.
hit@5: share of queries with at least one relevant question in the top 5. MRR: mean reciprocal rank
of the first relevant question (0 when none is in the top 10).

    python bench/retrieval.py [--misses]

Three sets, each written for the project: `tuning` (related_queries.yaml) is the one to tune on, and
`--misses` lists its misses only; `heldout` and `fresh` were written blind to the retriever and to the
other sets, and are scored but never looked into, so that they keep telling how unseen wording fares.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from indicated.engine import Engine

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
SETS = {
    "tuning": DATA / "related_queries.yaml",
    "heldout": DATA / "related_queries_heldout.yaml",
    "fresh": DATA / "related_queries_fresh.yaml",
}


def evaluate(path: Path, show_misses: bool = False) -> dict[str, float]:
    engine = Engine.bundled()
    queries = yaml.safe_load(path.read_text())["queries"]
    recall = hit = mrr = 0.0
    for q in queries:
        ranked = [h.id for h in engine.library.suggest(q["query"], k=10)]
        relevant = set(q["relevant"])
        found = relevant & set(ranked[:5])
        recall += len(found) / len(relevant)
        hit += bool(found)
        first = next((i for i, qid in enumerate(ranked, 1) if qid in relevant), None)
        mrr += 1 / first if first else 0.0
        if show_misses and found != relevant:
            print(f"- {q['query']!r}\n    want {sorted(relevant - found)}\n    got  {ranked[:5]}")
    n = len(queries)
    return {"queries": n, "recall@5": recall / n, "hit@5": hit / n, "mrr": mrr / n}


if __name__ == "__main__":
    if "--misses" in sys.argv:
        evaluate(SETS["tuning"], show_misses=True)
    print("| set | queries | recall@5 | hit@5 | MRR |\n|---|---|---|---|---|")
    for name, path in SETS.items():
        m = evaluate(path)
        print(f"| {name} | {m['queries']} | {m['recall@5']:.3f} | {m['hit@5']:.3f} | {m['mrr']:.3f} |")
