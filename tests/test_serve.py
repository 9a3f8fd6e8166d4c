"""`indicated serve --workers N`: several processes on one database, migrated once by the parent, each
taking the settings the command was given (the open demo included)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import SHARED_CASES, load_cases

NOTE = dict(load_cases(SHARED_CASES))["d01_discectomy_failed_conservative"]["text"]


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def test_two_workers_share_one_database_and_the_open_setting(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "INDICATED_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    env.pop("INDICATED_OPEN", None)
    exe = str(Path(sys.executable).with_name("indicated"))
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--workers", "2", "--open"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/cds-services").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("indicated serve --workers 2 did not answer")
        assert len([p for p in _children(proc.pid) if _children(p) == []]) >= 2  # two worker processes
        ids = set()
        with httpx.Client(base_url=url) as http:  # new connections, spread over the workers
            for _ in range(8):
                with httpx.Client(base_url=url) as fresh:
                    made = fresh.post("/assessments", content=NOTE, headers={"content-type": "text/plain"})
                    assert made.status_code == 201 and "anyone" in made.headers["x-indicated-open-demo"]
                    ids.add(made.json()["id"])
            listed = http.get("/assessments", params={"limit": 50}).json()
            assert {i["id"] for i in listed["items"]} == ids
            assert "Open demo:" in http.get("/").text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    assert b"OPEN DEMO" in proc.stderr.read()
