"""Related-question retrieval quality on the labelled query set (tests/data/related_queries.yaml).

recall@5: share of each query's relevant questions found in the top 5, averaged over queries.
hit@5: share of queries with at least one relevant question in the top 5. MRR: mean reciprocal rank
of the first relevant question (0 when none is in the top 10).

    python bench/retrieval.py [--misses] [--heldout]

--heldout scores the blind set (tests/data/related_queries_heldout.yaml) instead; tune on the first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from indicated.kb.loader import bundled

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
QUERIES = DATA / "related_queries.yaml"
HELDOUT = DATA / "related_queries_heldout.yaml"


def evaluate(show_misses: bool = False, path: Path = QUERIES) -> dict[str, float]:
    kb = bundled()
    queries = yaml.safe_load(path.read_text())["queries"]
    recall = hit = mrr = 0.0
    for q in queries:
        ranked = [h.id for h in kb.library.questions(q["query"], k=10)]
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
    for key, value in evaluate("--misses" in sys.argv, HELDOUT if "--heldout" in sys.argv else QUERIES).items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
