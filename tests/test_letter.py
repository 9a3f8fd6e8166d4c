"""The letter of medical necessity (issue 16): it argues only what the record documents, with the
record's words and cited sources, lists what is missing instead of asserting it, and refuses to argue
for what the record fails."""

from __future__ import annotations

import re
from datetime import date

import pytest
from typer.testing import CliRunner

from conftest import SHARED_CASES, load_cases
from indicated.cli import app
from indicated.models import Assessment, Determination, Span
from indicated.pipeline import assess
from indicated.reasons import leaves, met_through
from indicated.render.letter import NOTICE_TITLE, STILL_TO_DOCUMENT, TITLE, TO_CONFIRM, to_letter

D = Determination
DEV = dict(load_cases(SHARED_CASES))
AS_OF = date(2026, 11, 22)
TODAY = date(2026, 12, 1)
ARGUED = "The record meets each criterion"


@pytest.fixture(scope="module")
def assessed(kb) -> dict[str, Assessment]:
    return {name: assess(case["text"], kb=kb, as_of=AS_OF) for name, case in DEV.items()}


def letter(a: Assessment, fmt: str = "markdown") -> str:
    return to_letter(a, fmt, today=TODAY)


def body_and_references(md: str) -> tuple[str, list[str]]:
    body, _, rest = md.partition("\n## References\n")
    refs = re.findall(r"^\d+\. (.+)$", rest.split("\n## ", 1)[0], re.MULTILINE)
    return body, refs


def marks(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def section(md: str, heading: str) -> str:
    """The text under the level-2 heading that starts with ``heading``, up to the next one."""
    match = re.search(rf"^## {re.escape(heading)}.*?$(.*?)(?=^## |\Z)", md, re.MULTILINE | re.DOTALL)
    assert match, f"no section {heading!r}"
    return match.group(1)


def argued(a: Assessment, code: str) -> list:
    """The met deciding criteria of a primary that the letter states (silence taken as absence is not)."""
    s = next(s for s in a.services if s.code == code)
    shown = [met_through(c, s.criteria) for c in s.criteria if c.depth == 1 and c.status == "met"]
    return [c for c in shown if not c.assumed]


@pytest.mark.parametrize("name", sorted(DEV))
def test_every_listed_reference_is_cited_and_numbered_by_first_use(assessed, name):
    md = letter(assessed[name])
    body, refs = body_and_references(md)
    cited = marks(body)
    assert sorted(set(cited)) == list(range(1, len(refs) + 1)), name
    assert list(dict.fromkeys(cited)) == list(range(1, len(refs) + 1)), f"{name}: not numbered by first use"
    assert len(refs) <= len(assessed[name].references)
    assert md.rstrip().endswith(
        "not a coverage decision."
        if md.startswith(f"# {TITLE}")
        else "the treating clinician's judgement governs care."
    )


@pytest.mark.parametrize("name", sorted(DEV))
def test_never_argues_for_a_service_the_record_fails(assessed, name):
    a = assessed[name]
    md = letter(a)
    for s in a.services:
        if s.serves or s.determination != D.NOT_MEDICALLY_NECESSARY:
            continue
        assert f"cannot support {s.code} " in md, name
        for c in leaves(s.criteria, "not_met"):
            assert c.statement.rstrip(".") in md, f"{name}: unmet criterion not named: {c.id}"
        if md.startswith(f"# {TITLE}"):
            refused = section(md, s.code)
            assert ARGUED not in refused and "In the record:" not in refused


def test_met_case_quotes_the_record_for_each_met_criterion_and_cites_its_sources(assessed):
    a = assessed["d01_discectomy_failed_conservative"]
    md = letter(a)
    body, refs = body_and_references(md)
    assert md.startswith(f"# {TITLE}") and "To the utilization review team" in body
    assert "the patient, a 38-year-old woman" in body and "63030" in body and "L4-L5, left" in body
    assert ARGUED in body and STILL_TO_DOCUMENT not in md and "Not ready to send" not in md
    titles = {r.n: r.title for r in a.references}
    criteria = argued(a, "63030")
    assert len(criteria) >= 3
    for c in criteria:
        line = next(line for line in body.splitlines() if c.statement.rstrip(".") in line)
        for words in {" ".join(e.text.split()) for e in c.evidence}:
            assert f"“{words}”" in line, f"{c.id}: the record's words {words!r} not quoted"
        # the letter's own numbers lead to the same sources the criterion cites
        shown = marks(line.split(c.statement.rstrip("."), 1)[1].split(". ", 1)[0])
        expected = [titles[n] for n in dict.fromkeys(c.citations)]
        assert len(shown) == len(expected) and all(t in refs[m - 1] for m, t in zip(shown, expected, strict=True))
    assert "## Policy applied" in md and "lumbar-discectomy version" in md and "(set clinical)" in md
    assert f"indicated {a.engine_version}" in md and "draft" in section(md, "Disclaimer")


def test_insufficient_case_lists_what_to_document_and_asserts_none_of_it(assessed):
    a = assessed["d04_discectomy_sciatica_only"]
    md = letter(a)
    assert md.startswith(f"# {TITLE}") and "Not ready to send" in md and ARGUED not in md
    todo = section(md, STILL_TO_DOCUMENT)
    assert a.missing_information
    for item in a.missing_information:
        assert item in todo
    missing = leaves(a.services[0].criteria, "unknown")
    assert missing
    for c in missing:
        assert c.statement.rstrip(".") not in md, f"{c.id} is asserted though the record does not document it"
    # what the record does document is still stated, with its words
    assert "“sciatica”" in section(md, "63030")


def test_not_met_case_is_a_notice_that_names_the_unmet_criteria(assessed):
    a = assessed["d08_fusion_ddd_axial_pain"]
    md = letter(a)
    assert md.startswith(f"# {NOTICE_TITLE}")
    assert "meets" not in md and "In the record:" not in md and "To the utilization review team" not in md
    assert "cannot support 22558" in md and "22585" in md
    for c in leaves(a.services[0].criteria, "not_met"):
        assert c.statement.rstrip(".") in md
    # a fact the record states as absent is quoted as such, never as if present
    assert "“spondylolisthesis” (stated as absent)" in md


def test_partial_case_argues_one_service_and_refuses_the_other(assessed):
    a = assessed["d07_fusion_stenosis_without_instability"]
    md = letter(a)
    assert md.startswith(f"# {TITLE}")
    assert ARGUED in section(md, "63047")
    assert re.search(r"^## 22612 .*: not supported$", md, re.MULTILINE)
    refused = section(md, "22612")
    assert "cannot support 22612" in refused and ARGUED not in refused


def test_refused_setting_and_add_ons_and_silence_taken_as_absence(assessed):
    inpatient = letter(assessed["d13_discectomy_inpatient_request"])
    assert "cannot support the requested inpatient setting" in inpatient and ARGUED in inpatient
    fusion = letter(assessed["d12_fusion_with_navigation_and_bma"])
    add_ons = section(fusion, "22630")
    for code in ("22840", "61783", "20939", "20936"):
        assert f"- {code} " in add_ons
    # diabetes control is taken as met because the record is silent: confirmed, not asserted
    confirm = section(letter(assessed["d06_fusion_degenerative_spondylolisthesis"]), TO_CONFIRM)
    assert "HbA1c" in confirm


def test_nothing_to_support_gives_a_notice(kb):
    outside = letter(assess("Right knee arthroscopy with partial meniscectomy (29881).", kb=kb, as_of=AS_OF))
    assert outside.startswith(f"# {NOTICE_TITLE}") and "holds no criteria" in outside and "29881" in outside
    nothing = letter(assess("Is this indicated?", kb=kb, as_of=AS_OF))
    assert nothing.startswith(f"# {NOTICE_TITLE}") and "No requested service" in nothing


def test_html_escapes_everything_from_the_case(assessed):
    a = assessed["d01_discectomy_failed_conservative"].model_copy(deep=True)
    hostile = '<script>alert("x")</script> [link](javascript:alert(1)) *bold*'
    criterion = argued(a, "63030")[0]
    criterion.evidence.append(Span(text=hostile, start=0, end=len(hostile)))
    md = letter(a)
    assert "<script>" not in md and "“\\<script\\>" in md
    page = letter(a, "html")
    assert page.startswith("<!DOCTYPE html>") and "<title>Letter of medical necessity</title>" in page
    assert "<script" not in page.lower() and "&lt;script&gt;" in page
    assert "javascript:" not in page.split("“", 1)[0] and 'href="javascript' not in page
    assert "<em>bold</em>" not in page and "*bold*" in page
    links = set(re.findall(r'href="#(ref-\d+)"', page))
    assert links and links <= set(re.findall(r'id="(ref-\d+)"', page))


def test_cli_writes_the_letter_as_html_and_markdown(tmp_path):
    runner = CliRunner()
    src = tmp_path / "case.txt"
    src.write_text(DEV["d01_discectomy_failed_conservative"]["text"])
    out = tmp_path / "letter.html"
    result = runner.invoke(app, ["letter", str(src), "--format", "html", "--output", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "Letter of medical necessity" in page and "63030" in page
    assert "“disc extrusion”" in page
    text = runner.invoke(app, ["letter", "-t", DEV["d08_fusion_ddd_axial_pain"]["text"], "-p", "clinical"])
    assert text.exit_code == 0 and text.output.startswith(f"# {NOTICE_TITLE}")
    bad = runner.invoke(app, ["letter", str(src), "--format", "json"])
    assert bad.exit_code == 2 and "unknown format" in bad.output
