"""`indicated batch`: one output row per input line, in order, errors as rows, resumable, same rows on Ray."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED_CASES, load_cases
from indicated.batch import assess_line, run_batch
from indicated.cli import app

DEV = [case["text"] for _, case in load_cases(SHARED_CASES)]
BROKEN = ['{"id": "cut", "text": ', "", "[1, 2]", '{"id": "typed", "age": "old"}', '{"id": "num", "text": 7}']


def write_input(path: Path, n: int) -> list[str]:
    """n lines: dev cases with ids, a JSON case, and the broken kinds, mixed in a fixed pattern."""
    lines = []
    for i in range(n):
        if i % 10 == 3:
            lines.append(BROKEN[(i // 10) % len(BROKEN)])
        elif i % 10 == 7:
            lines.append(json.dumps({"id": f"s{i}", "age": 50, "services": [{"code": "63030"}], "findings": []}))
        else:
            lines.append(json.dumps({"id": f"c{i}", "text": DEV[i % len(DEV)]}))
    path.write_text("\n".join(lines) + "\n")
    return lines


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def sequential(tmp_path_factory) -> tuple[list[str], list[dict]]:
    folder = tmp_path_factory.mktemp("batch")
    lines = write_input(folder / "in.jsonl", 120)
    run_batch(folder / "in.jsonl", folder / "out.jsonl")
    return lines, rows(folder / "out.jsonl")


def test_every_line_yields_one_row_in_order_and_broken_lines_are_error_rows(sequential):
    lines, out = sequential
    assert [r["line"] for r in out] == list(range(1, len(lines) + 1))
    for raw, row in zip(lines, out, strict=True):
        if raw in BROKEN:
            assert row["ok"] is False and row["error"], row
        else:
            assert row["ok"] is True and row["determination"] == row["assessment"]["determination"]
    assert out[3]["id"] == "line-4" and out[13]["id"] == "line-14"  # no usable id: the line number stands in
    assert out[0]["id"] == "c0" and "text" not in out[0]["assessment"]["case"]


def test_a_text_row_matches_a_single_assessment(sequential):
    from indicated.pipeline import assess

    _, out = sequential
    assert out[0]["determination"] == assess(DEV[0]).determination.value


def test_workers_give_identical_rows(tmp_path, sequential):
    _, expected = sequential
    write_input(tmp_path / "in.jsonl", 120)
    run_batch(tmp_path / "in.jsonl", tmp_path / "out.jsonl", workers=2)
    assert [(r["id"], r.get("determination")) for r in rows(tmp_path / "out.jsonl")] == [
        (r["id"], r.get("determination")) for r in expected
    ]


def test_resume_skips_written_ids_and_drops_a_partial_last_line(tmp_path, sequential):
    _, expected = sequential
    write_input(tmp_path / "in.jsonl", 120)
    out = tmp_path / "out.jsonl"
    out.write_text("\n".join(json.dumps(r) for r in expected[:50]) + '\n{"id": "c50", "li')
    summary = run_batch(tmp_path / "in.jsonl", out, resume=True)
    assert summary.skipped == 50 and summary.written == 70
    assert [r["id"] for r in rows(out)] == [r["id"] for r in expected]


def test_an_internal_error_on_one_case_is_a_row_not_a_crash(monkeypatch):
    import indicated.pipeline

    def boom(*_, **__):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(indicated.pipeline, "assess", boom)
    row = json.loads(assess_line(9, json.dumps({"id": "x", "text": "L5-S1 microdiscectomy"})))
    assert row == {"id": "x", "line": 9, "ok": False, "error": "internal error: RuntimeError: kaboom"}


def test_cli_batch_reports_and_rejects_bad_options(tmp_path):
    write_input(tmp_path / "in.jsonl", 30)
    runner = CliRunner()
    ok = runner.invoke(app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")])
    assert ok.exit_code == 0 and "30 rows written" in ok.output
    assert len(rows(tmp_path / "out.jsonl")) == 30
    missing = runner.invoke(app, ["batch", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad = runner.invoke(app, ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.jsonl"), "-w", "0"])
    assert bad.exit_code == 2 and "at least 1" in bad.output


def test_ray_engine_gives_the_same_rows_on_a_local_ray_cluster(tmp_path, sequential):
    """Ray 2.x has no in-process local mode any more: ray.init() here starts a one-node cluster on this
    machine, which is what a laptop run does; a cluster run differs only in the address."""
    import ray

    _, expected = sequential
    write_input(tmp_path / "in.jsonl", 120)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        run_batch(tmp_path / "in.jsonl", tmp_path / "out.jsonl", engine="ray", workers=1)
    finally:
        ray.shutdown()
    assert [(r["id"], r.get("determination")) for r in rows(tmp_path / "out.jsonl")] == [
        (r["id"], r.get("determination")) for r in expected
    ]
