"""The CLI: bad input exits non-zero with one clear line on stderr, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from indicated.inputs import MAX_CHARS

KNOWLEDGE = Path(__file__).resolve().parents[1] / "src" / "indicated" / "knowledge"


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


def test_a_labelled_yaml_case_is_read_for_its_text_alone(tmp_path: Path):
    labelled = tmp_path / "case.yaml"
    labelled.write_text(
        yaml.safe_dump(
            {
                "text": "Is ACDF at C5-6 (22551) indicated? Axial neck pain only, no arm symptoms; MRI with no compression.",
                "expected": {"determination": "not_medically_necessary"},
                # the label's own words name radiculopathy and myelopathy: they must never reach the record
                "basis": "Indicated for radiculopathy or myelopathy with cord compression, severe weakness.",
            }
        )
    )
    p = run("assess", str(labelled), "--format", "json")
    assert p.returncode == 0, p.stderr.decode()
    found = json.loads(p.stdout)["case"]["findings"]
    assert not [f for f in found if f["status"] == "present" and f["concept"] in ("myelopathy", "motor_weakness")]
    bad = tmp_path / "notes.yml"
    bad.write_text("expected: {determination: medically_necessary}\n")
    assert_clean_failure(run("assess", str(bad)), "needs a `text` field")


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


SMOKER_SLIP = (
    "66F, current smoker. L4-5 degenerative spondylolisthesis with 4 mm of translation on flexion-extension films, "
    "neurogenic claudication, severe stenosis; failed 3 months of PT. Request 63047 and 22612 at L4-5."
)


def test_compare_shows_each_set_and_the_criterion_that_differs():
    p = run("compare", "--text", SMOKER_SLIP, "--format", "json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["sets"] == ["clinical", "medicare"]
    assert out["overall"] == {"clinical": "partially_medically_necessary", "medicare": "medically_necessary"}
    fusion = next(s for s in out["services"] if s["code"] == "22612")
    by_set = {o["policy_set"]: o for o in fusion["outcomes"]}
    assert fusion["differs"] is True
    assert by_set["clinical"]["policy"] == "lumbar-fusion" and by_set["medicare"]["policy"] == "medicare-lumbar-fusion"
    assert any("nicotine" in d for d in by_set["clinical"]["deciding"])
    assert by_set["medicare"]["deciding"] == []
    decompression = next(s for s in out["services"] if s["code"] == "63047")
    assert decompression["differs"] is False  # the medicare set falls back to the clinical policy


def test_assess_with_the_medicare_set_names_the_lcd():
    p = run("assess", "--text", SMOKER_SLIP, "--policy-set", "medicare", "--format", "json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["policy_set"] == "medicare"
    fusion = next(s for s in out["services"] if s["code"] == "22612")
    assert fusion["policy"]["id"] == "medicare-lumbar-fusion" and fusion["determination"] == "medically_necessary"


def test_policies_show_prints_criteria_with_sources_and_json():
    p = run("policies", "show", "lumbar-tda")
    assert p.returncode == 0, p.stderr
    text = p.stdout.decode()
    assert "age-18-to-60" in text and "NCD" in text and "pitfalls" in text
    j = json.loads(run("policies", "show", "lumbar-tda", "--format", "json").stdout)
    assert j["id"] == "lumbar-tda" and j["set"] == "clinical"
    assert_clean_failure(run("policies", "show", "no-such-policy"), "unknown policy")


def test_policies_test_runs_the_suites_and_rejects_unknown_ids():
    p = run("policies", "test", "lumbar-tda")
    assert p.returncode == 0, p.stderr
    n = len(yaml.safe_load((KNOWLEDGE / "policies" / "lumbar-tda.cases.yaml").read_text())["cases"])
    assert f"lumbar-tda: {n}/{n} cases hold" in p.stdout.decode()
    assert_clean_failure(run("policies", "test", "nope"), "unknown policy")


def test_a_case_that_does_not_hold_is_reported_with_what_differed():
    from indicated.kb.schema import PolicyCase
    from indicated.suites import check_case

    wrong = PolicyCase(
        name="deliberately-wrong",
        text="Is 22857 at L4-5 indicated for a 67-year-old man with discogenic back pain?",
        determination="medically_necessary",
        services={"22857": "medically_necessary"},
        criteria={"age-18-to-60": "met"},
    )
    problem = check_case("lumbar-tda", wrong)
    assert problem is not None
    assert "overall not_medically_necessary" in problem and "criterion age-18-to-60 not_met" in problem


def test_eval_scores_labelled_cases_and_annotated_notes(tmp_path):
    cases, notes = tmp_path / "cases", tmp_path / "notes"
    cases.mkdir()
    notes.mkdir()
    (cases / "a_01.yaml").write_text(
        "text: 'Request: L4-5 posterolateral fusion (22612).'\n"
        "expected: {determination: [insufficient_information], review: prospective}\n"
    )
    (cases / "a_02.yaml").write_text(
        "text: 'Is an anterior cervical discectomy and fusion at C5-6 medically necessary?'\n"
        "expected: {determination: medically_necessary, absent_codes: ['63030']}\n"
    )
    (notes / "n_01.yaml").write_text(
        "text: 'No bowel or bladder symptoms. Request L5-S1 microdiscectomy (63030).'\n"
        "annotations: {review: prospective, procedures: [{code: '63030', region: lumbar}],"
        " present: [], absent: [bowel_bladder_dysfunction]}\n"
    )
    out = run("eval", str(cases), str(notes), "--misses")
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert "overall right 1/2" in text and "a_02.yaml: overall: expected medically_necessary" in text
    assert "precision 1.000, recall 1.000" in text and "review right 1/1" in text
    assert_clean_failure(run("eval", str(tmp_path / "nothing")), "no *.yaml cases")


def test_version_set_help_and_policy_ids_whole_at_80_columns():
    version = run("--version")
    assert version.returncode == 0 and version.stdout.decode().startswith("indicated ")
    assert "clinical, medicare" in " ".join(run("assess", "--help").stdout.decode().split())
    listed = subprocess.run(
        [sys.executable, "-c", "from indicated.cli import main; main()", "policies", "list"],
        capture_output=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert listed.returncode == 0
    for pid in ("medicare-si-joint-fusion", "medicare-lumbar-fusion", "spinal-hardware-removal"):
        assert pid in listed.stdout.decode()  # the id a user copies into `policies show`, never cut


def test_reviewers_add_list_passwd_remove(tmp_path):
    env = {**os.environ, "INDICATED_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def reviewers(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-c", "from indicated.cli import main; main()", "reviewers", *args]
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120, env=env)

    assert reviewers("add", "ann", "--password-stdin", stdin="a long password\n").returncode == 0
    assert reviewers("add", "bob", "--password-stdin", stdin="another long one\n").returncode == 0
    assert [line.split("\t")[0] for line in reviewers("list").stdout.splitlines()] == ["ann", "bob"]
    assert reviewers("passwd", "ann", "--password-stdin", stdin="a newer password\n").returncode == 0
    assert reviewers("remove", "bob").returncode == 0
    assert [line.split("\t")[0] for line in reviewers("list").stdout.splitlines()] == ["ann"]
    missing = reviewers("remove", "bob")
    assert missing.returncode == 2 and "no reviewer 'bob'" in missing.stderr
    short = reviewers("passwd", "ann", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least" in short.stderr
