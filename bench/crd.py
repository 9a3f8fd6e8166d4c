"""Latency of a CDS Hooks (CRD) order-sign call on the dev cases, through a real `indicated serve`
on loopback: first call after start-up, then p50 / p95 / max over repeated calls.

    python bench/crd.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from server import serve  # noqa: E402

from indicated.fhir.samples import crd_request, record_bundle  # noqa: E402
from indicated.pipeline import assess  # noqa: E402


def requests() -> list[dict]:
    out = []
    for f in sorted((ROOT.parent / "shared" / "cases" / "dev").glob("*.yaml")):
        text = yaml.safe_load(f.read_text())["text"]
        codes = [s.code for s in assess(text).services]
        if codes:
            out.append(crd_request(record_bundle(text, codes)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bodies = requests()
    with serve() as (url, up, auth), httpx.Client(timeout=30, auth=auth) as client:
        t = time.perf_counter()
        client.post(f"{url}/cds-services/indicated-order-sign", json=bodies[0]).raise_for_status()
        first = time.perf_counter() - t
        times = []
        for _ in range(args.rounds):
            for body in bodies:
                t = time.perf_counter()
                client.post(f"{url}/cds-services/indicated-order-sign", json=body).raise_for_status()
                times.append(time.perf_counter() - t)
    times.sort()
    print(
        f"crd order-sign over HTTP: server up {up:.2f} s, first call {1000 * first:.0f} ms, "
        f"{len(times)} calls p50 {1000 * statistics.median(times):.1f} ms, "
        f"p95 {1000 * times[int(0.95 * len(times))]:.1f} ms, max {1000 * times[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
