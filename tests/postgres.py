"""A throwaway PostgreSQL server for the storage tests, started from the Debian package's binaries
(``apt-get install postgresql``) on a free loopback port, or the server INDICATED_TEST_POSTGRES_URL
names. As root, the server runs as the ``postgres`` user, because PostgreSQL refuses to run as root."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server() -> Iterator[str]:
    """The base URL of a PostgreSQL server (database ``postgres``), running for the block."""
    if url := os.environ.get("INDICATED_TEST_POSTGRES_URL"):
        yield url
        return
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "the storage tests need PostgreSQL: apt-get install postgresql (bash .ci/run does), "
            "or set INDICATED_TEST_POSTGRES_URL to a server to use"
        )
    root = Path(tempfile.mkdtemp(prefix="indicated-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(root, pg.pw_uid, pg.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, cwd=root)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "indicated", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        yield f"postgresql+psycopg://indicated@127.0.0.1:{port}/postgres"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
