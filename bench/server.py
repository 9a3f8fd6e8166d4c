"""A fresh `indicated serve` on a free loopback port, for the HTTP benchmarks."""

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


@contextmanager
def serve(database_url: str | None = None) -> Iterator[tuple[str, float]]:
    """The server's base URL and how many seconds it took to answer (warm-up included)."""
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        env = {**os.environ, "INDICATED_DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.db"}
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
            yield url, time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait()
