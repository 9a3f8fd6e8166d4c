"""The CLI: bad input exits non-zero with one clear line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from indicated.inputs import MAX_CHARS


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-c", "from indicated.cli import main; main()", *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=120)


def assert_clean_failure(p: subprocess.CompletedProcess[bytes], needle: str) -> None:
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err
    assert p.stdout == b""


def test_empty_stdin():
    assert_clean_failure(run("assess", "-", stdin=b"   \n"), "empty")


def test_binary_file(tmp_path: Path):
    f = tmp_path / "scan.bin"
    f.write_bytes(b"\x89PNG\x00\x00\x01")
    assert_clean_failure(run("assess", str(f)), "binary")


def test_missing_file():
    assert_clean_failure(run("assess", "/no/such/case.txt"), "no such file")


def test_unreadable_file(tmp_path: Path):
    loop = tmp_path / "loop.txt"
    os.symlink(loop, loop)  # unreadable even for root: too many levels of symbolic links
    assert_clean_failure(run("assess", str(loop)), "cannot read")


def test_directory_is_not_a_case(tmp_path: Path):
    assert_clean_failure(run("assess", str(tmp_path)), "directory")


def test_malformed_json_case():
    assert_clean_failure(run("assess", "-", stdin=b'{"text": "leg pain",'), "malformed JSON case")


def test_json_case_with_wrong_field_type():
    assert_clean_failure(run("assess", "-", stdin=b'{"age": "old"}'), "invalid JSON case at age")


def test_text_over_the_size_limit():
    assert_clean_failure(run("assess", "-", stdin=b"a" * (MAX_CHARS + 1)), "limit")


def test_not_utf8():
    assert_clean_failure(run("assess", "-", stdin="leg pain café".encode("latin-1")), "UTF-8")


def test_unknown_format_and_policy_set():
    assert_clean_failure(run("assess", "--text", "sciatica", "--format", "pdf"), "unknown format")
    assert_clean_failure(run("assess", "--text", "sciatica", "--policy-set", "nope"), "unknown policy set")


def test_text_option_and_json_output():
    p = run("assess", "--format", "json", "--text", "Is an L5-S1 microdiscectomy medically necessary for sciatica?")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["determination"] == "insufficient_information"
    assert out["services"][0]["code"] == "63030"
    assert out["missing_information"]


def test_json_case_with_structured_services_overrides_text():
    case = {"text": "Right leg pain for 3 months.", "services": [{"code": "63030", "levels": ["L5-S1"]}], "age": 40}
    p = run("assess", "--format", "json", "-", stdin=json.dumps(case).encode())
    out = json.loads(p.stdout)
    assert [s["code"] for s in out["services"]] == ["63030"]
    assert out["case"]["age"] == 40


def test_markdown_is_the_default_and_starts_with_the_verdict():
    p = run("assess", "--text", "Is an L5-S1 microdiscectomy medically necessary for sciatica?")
    lines = p.stdout.decode().splitlines()
    assert lines[0].startswith("# ") and "63030" in lines[0]
    assert lines[2].startswith("**Insufficient information.**")
