"""Load test on loopback: N concurrent clients create assessments against a fresh `indicated serve`
for a fixed time, then every created id is read back. Bounded: it only ever talks to the server it
started on 127.0.0.1 and stops after --seconds.

    python bench/load.py [--clients 50] [--seconds 60] [--database-url URL]

Prints requests, errors, throughput, latency p50/p95/max and records lost (created but not found).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import httpx
import yaml
from server import serve

ROOT = Path(__file__).resolve().parents[1]


def cases() -> list[str]:
    files = sorted((ROOT / "cases" / "labelled").rglob("*.yaml")) + sorted(
        (ROOT.parent / "shared" / "cases" / "dev").glob("*.yaml")
    )
    return [yaml.safe_load(f.read_text())["text"] for f in files]


async def client(url: str, auth: httpx.Auth, texts: list[str], offset: int, until: float, out: dict) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60, auth=auth) as http:
        i = offset
        while time.monotonic() < until:
            text = texts[i % len(texts)]
            i += 1
            t = time.perf_counter()
            try:
                res = await http.post("/assessments", content=text, headers={"content-type": "text/plain"})
                out["latency"].append(time.perf_counter() - t)
                if res.status_code == 201:
                    out["ids"].append(res.json()["id"])
                else:
                    out["errors"].append(f"{res.status_code}: {res.text[:200]}")
            except httpx.HTTPError as exc:
                out["errors"].append(type(exc).__name__)


async def run(url: str, auth: httpx.Auth, clients: int, seconds: float) -> dict:
    texts = cases()
    out: dict = {"latency": [], "ids": [], "errors": []}
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(url, auth, texts, n * 7, until, out) for n in range(clients)))
    async with httpx.AsyncClient(base_url=url, timeout=60, auth=auth) as http:
        missing = 0
        for aid in out["ids"]:
            missing += (await http.get(f"/assessments/{aid}")).status_code != 200
        total = (await http.get("/assessments", params={"limit": 1})).json()["total"]
    out["missing"], out["stored"] = missing, total
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with serve(args.database_url) as (url, _, auth):
        started = time.perf_counter()
        out = asyncio.run(run(url, auth, args.clients, args.seconds))
        elapsed = time.perf_counter() - started
    lat = sorted(out["latency"])
    print(
        f"{args.clients} clients, {args.seconds:g} s ({'PostgreSQL' if args.database_url else 'SQLite'}): "
        f"{len(lat)} requests, {len(out['ids'])} created, {len(out['errors'])} errors, "
        f"{len(out['ids']) / elapsed:.0f} created/s, latency p50 {1000 * statistics.median(lat):.0f} ms, "
        f"p95 {1000 * lat[int(0.95 * len(lat))]:.0f} ms, max {1000 * lat[-1]:.0f} ms; "
        f"stored {out['stored']}, lost {out['missing'] + max(0, len(out['ids']) - out['stored'])}"
    )
    for e in out["errors"][:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
