"""Speed of the engine on this machine: per-case latency in-process, batch throughput per worker, and
the cold start of `indicated assess FILE`.

    python bench/speed.py [--cases 1000] [--cold-runs 5]

The texts are the project's labelled cases and the shared dev cases, cycled. Figures go in the issue
notes; no test depends on them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def texts() -> list[str]:
    files = sorted((ROOT / "cases" / "labelled").rglob("*.yaml")) + sorted(
        (ROOT.parent / "shared" / "cases" / "dev").glob("*.yaml")
    )
    return [yaml.safe_load(f.read_text())["text"] for f in files]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def latency(corpus: list[str]) -> dict[str, float]:
    from indicated.pipeline import assess
    from indicated.render.json import to_json

    start = time.perf_counter()
    assess(corpus[0])
    first = time.perf_counter() - start
    times = []
    for text in corpus * 3:
        t = time.perf_counter()
        to_json(assess(text), indent=None)
        times.append(time.perf_counter() - t)
    return {
        "first_call_s": first,
        "p50_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * percentile(times, 0.95),
        "mean_ms": 1000 * statistics.mean(times),
    }


def throughput(corpus: list[str], n: int, workers: int) -> dict[str, float]:
    """Cases per second through `run_batch` after start-up (the warm-up case is not counted)."""
    from indicated.batch import run_batch
    from indicated.pipeline import assess

    assess(corpus[0])
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("\n".join(json.dumps({"id": i, "text": corpus[i % len(corpus)]}) for i in range(n)) + "\n")
        t = time.perf_counter()
        run_batch(src, out, workers=workers)
        elapsed = time.perf_counter() - t
    return {
        "cases": n,
        "workers": workers,
        "seconds": elapsed,
        "cases_per_s": n / elapsed,
        "per_worker": n / elapsed / workers,
    }


def cold_start(corpus: list[str], runs: int) -> dict[str, float]:
    """Wall time of a fresh `indicated assess FILE` process (imports, knowledge, pipeline, one case).

    The first run starts with an empty cache folder, as on a new machine; the others find the
    retrieval tokens that run left there (see `indicated.cache`)."""
    exe = Path(sys.executable).with_name("indicated")
    with tempfile.TemporaryDirectory() as tmp:
        case = Path(tmp) / "case.txt"
        case.write_text(corpus[0])
        env = {**os.environ, "INDICATED_CACHE_DIR": str(Path(tmp) / "cache")}
        times = []
        for _ in range(runs + 1):
            t = time.perf_counter()
            subprocess.run([str(exe), "assess", str(case)], check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - t)
    first, rest = times[0], times[1:]
    return {"empty_cache_s": first, "cold_assess_median_s": statistics.median(rest), "cold_assess_min_s": min(rest)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    corpus = texts()
    report = {
        "cold": cold_start(corpus, args.cold_runs),
        "latency": latency(corpus),
        "batch_1_worker": throughput(corpus, args.cases, 1),
        "batch_2_workers": throughput(corpus, args.cases, 2),
    }
    for section, figures in report.items():
        print(
            section
            + ": "
            + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items())
        )


if __name__ == "__main__":
    main()
