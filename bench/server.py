"""A fresh `indicated serve` on a free loopback port, for the HTTP benchmarks, with a registered client:
the benchmarks call as an EHR does (an API key, a signed JWT on CDS Hooks), so what they measure
includes checking credentials."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from credentials import ClientAuth, register


@contextmanager
def serve(database_url: str | None = None) -> Iterator[tuple[str, float, httpx.Auth]]:
    """The server's base URL, how many seconds it took to answer (warm-up included), and the
    credentials of a client registered on it (give them to httpx as ``auth``)."""
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        database_url = database_url or f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "INDICATED_DATABASE_URL": database_url}
        auth = ClientAuth(*register(database_url, name=f"bench-{port}", issuer=f"https://bench-{port}.example"))
        exe = Path(sys.executable).with_name("indicated")
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(exe), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    httpx.get(f"{url}/cds-services")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield url, time.perf_counter() - started, auth
        finally:
            proc.terminate()
            proc.wait()
