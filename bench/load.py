"""Load test on loopback: N concurrent clients create assessments against a fresh `indicated serve` for a
fixed time, a reviewer moves every Nth one through review (writing the audit chain), optionally the
server is killed with SIGKILL mid-run and started again; then every acknowledged id is read back and
`indicated audit verify` checks the audit chain. Bounded: it only ever talks to the server it started
on 127.0.0.1 and stops after --seconds.

    python bench/load.py [--clients 50] [--seconds 60] [--workers 1] [--kill-at S] [--database-url URL]

Prints requests, HTTP errors, requests cut off by the kill, throughput, latency p50/p95/max, records
lost (acknowledged with 201 but not found afterwards) and the audit verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import yaml
from server import EXE, Server, running

ROOT = Path(__file__).resolve().parents[1]


def cases() -> list[str]:
    files = sorted((ROOT / "cases" / "labelled").rglob("*.yaml")) + sorted(
        (ROOT.parent / "shared" / "cases" / "dev").glob("*.yaml")
    )
    return [yaml.safe_load(f.read_text())["text"] for f in files]


async def client(server: Server, texts: list[str], n: int, until: float, out: dict, review_every: int) -> None:
    reviewer = {"Authorization": f"Bearer {out['reviewer']}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=60, auth=server.auth) as http:
        i = n * 7
        while time.monotonic() < until:
            text = texts[i % len(texts)]
            i += 1
            t = time.perf_counter()
            try:
                res = await http.post("/assessments", content=text, headers={"content-type": "text/plain"})
            except httpx.TransportError:  # the server is down (killed): not acknowledged, so not lost
                out["cut"] += 1
                await asyncio.sleep(0.2)
                continue
            out["latency"].append(time.perf_counter() - t)
            if res.status_code != 201:
                out["errors"].append(f"{res.status_code}: {res.text[:200]}")
                continue
            aid = res.json()["id"]
            out["ids"].append(aid)
            if len(out["ids"]) % review_every == 0:
                for action in ("start_review", "approve"):
                    try:
                        res = await http.post(f"/assessments/{aid}/review", json={"action": action}, headers=reviewer)
                    except httpx.TransportError:
                        out["cut"] += 1
                        break
                    if res.status_code != 200:
                        out["errors"].append(f"review {res.status_code}: {res.text[:200]}")
                        break
                    out["reviews"] += 1


async def killer(server: Server, at: float | None, out: dict) -> None:
    if at is None:
        return
    await asyncio.sleep(at)
    server.kill()
    out["restart_s"] = await asyncio.to_thread(server.start)


async def run(server: Server, clients: int, seconds: float, kill_at: float | None, review_every: int) -> dict:
    texts = cases()
    out: dict = {"latency": [], "ids": [], "errors": [], "cut": 0, "reviews": 0, "reviewer": server.reviewer_token()}
    until = time.monotonic() + seconds
    await asyncio.gather(
        killer(server, kill_at, out), *(client(server, texts, n, until, out, review_every) for n in range(clients))
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=60, auth=server.auth) as http:
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
    parser.add_argument("--workers", type=int, default=1, help="indicated serve --workers")
    parser.add_argument("--kill-at", type=float, help="kill -9 the server this many seconds in, then restart it")
    parser.add_argument("--review-every", type=int, default=10, help="a reviewer approves every Nth created article")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with running(args.database_url, args.workers) as (server, _):
        started = time.perf_counter()
        out = asyncio.run(run(server, args.clients, args.seconds, args.kill_at, args.review_every))
        elapsed = time.perf_counter() - started
        verify = subprocess.run(
            [str(EXE), "audit", "verify"],
            env={**os.environ, "INDICATED_DATABASE_URL": server.database_url},
            capture_output=True,
            text=True,
        )
    lat = sorted(out["latency"])
    kind = "PostgreSQL" if args.database_url else "SQLite"
    killed = f", killed -9 at {args.kill_at:g} s (up again in {out['restart_s']:.1f} s)" if args.kill_at else ""
    print(
        f"{args.clients} clients, {args.seconds:g} s, {args.workers} worker(s) ({kind}){killed}: "
        f"{len(lat)} requests, {len(out['ids'])} created, {out['reviews']} review steps, "
        f"{len(out['errors'])} errors, {out['cut']} cut off by the kill, "
        f"{len(out['ids']) / elapsed:.0f} created/s, latency p50 {1000 * statistics.median(lat):.0f} ms, "
        f"p95 {1000 * lat[int(0.95 * len(lat))]:.0f} ms, max {1000 * lat[-1]:.0f} ms; "
        f"stored {out['stored']}, lost {out['missing'] + max(0, len(out['ids']) - out['stored'])}; "
        f"audit verify: exit {verify.returncode}"
    )
    for line in verify.stdout.splitlines():
        if any(word in line for word in ("chain", "head", "state", "broken")):
            print("  " + " ".join(line.replace("│", " ").split()))
    for e in out["errors"][:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
