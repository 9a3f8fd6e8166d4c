"""A fresh `indicated serve` on a free loopback port, for the HTTP benchmarks, with a registered client
and a reviewer: the benchmarks call as an EHR does (an API key, a signed JWT on CDS Hooks), so what
they measure includes checking credentials."""

from __future__ import annotations

import os
import signal
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

EXE = Path(sys.executable).with_name("indicated")
REVIEWER, PASSWORD = "bench-reviewer", "a long enough bench password"


class Server:
    """One `indicated serve` (its workers in their own process group, so kill -9 takes them all)."""

    def __init__(self, database_url: str, workers: int = 1) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "INDICATED_DATABASE_URL": database_url}
        self.database_url, self.workers = database_url, workers
        self.auth = ClientAuth(*register(database_url, f"bench-{self.port}", issuer=f"https://b{self.port}.example"))
        subprocess.run(
            [str(EXE), "reviewers", "add", REVIEWER, "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        """Start it and wait until it answers; the seconds that took (warm-up included)."""
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(EXE), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while True:
            try:
                httpx.get(f"{self.url}/cds-services")
                return time.perf_counter() - started
            except httpx.TransportError:
                time.sleep(0.05)

    def kill(self) -> None:
        """kill -9, workers included: no clean shutdown, nothing flushed."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait()
            self.proc = None

    def reviewer_token(self) -> str:
        body = {"username": REVIEWER, "password": PASSWORD}
        return httpx.post(f"{self.url}/auth/login", json=body).json()["token"]


@contextmanager
def running(database_url: str | None = None, workers: int = 1) -> Iterator[tuple[Server, float]]:
    """A started server on ``database_url`` (default: a fresh SQLite file) and its start-up seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(database_url or f"sqlite:///{tmp}/bench.db", workers)
        try:
            yield server, server.start()
        finally:
            server.stop()


@contextmanager
def serve(database_url: str | None = None) -> Iterator[tuple[str, float, httpx.Auth]]:
    """The server's base URL, how many seconds it took to answer, and a registered client's credentials
    (give them to httpx as ``auth``)."""
    with running(database_url) as (server, up):
        yield server.url, up, server.auth
