"""The determination article: every section in order, every citation resolving, three audiences, HTML."""

from __future__ import annotations

import re
import statistics
from datetime import date
from html.parser import HTMLParser

import pytest
import textstat
from typer.testing import CliRunner

from conftest import CERVICAL_CASES, ROOT, SHARED_CASES, edit_yaml, load_cases
from indicated.cli import app
from indicated.kb.loader import load
from indicated.models import Assessment, Determination
from indicated.pipeline import assess
from indicated.render import render
from indicated.render.markdown import SECTIONS
from indicated.wording import RANK, WORDING, best, worst

D = Determination

DEV = load_cases(SHARED_CASES)
CERVICAL = load_cases(CERVICAL_CASES)
AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def assessed(kb):
    return {name: assess(case["text"], kb=kb, as_of=AS_OF) for name, case in DEV + CERVICAL}


def headings(md: str, level: int = 2) -> list[str]:
    return re.findall(rf"^{'#' * level} (.+)$", md, re.MULTILINE)


def reference_numbers(md: str) -> list[int]:
    refs = md.split("\n## References\n", 1)[1].split("\n## ", 1)[0] if "\n## References\n" in md else ""
    return [int(n) for n in re.findall(r"^(\d+)\. ", refs, re.MULTILINE)]


@pytest.mark.parametrize("name", [n for n, _ in DEV + CERVICAL])
def test_clinician_article_has_every_section_in_order_and_resolving_citations(assessed, name):
    md = render(assessed[name], "markdown")
    found = [h for h in headings(md) if h in SECTIONS]
    assert found == list(SECTIONS), f"{name}: sections {headings(md)}"
    assert md.startswith("# ") and "Policy set: clinical" in md.splitlines()[-1]
    numbers = reference_numbers(md)
    assert numbers == list(range(1, len(numbers) + 1))
    body = md.split("\n## References\n")[0]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert cited == set(numbers), f"{name}: cited {sorted(cited)} vs references {numbers}"


def test_verdict_comes_first_with_its_reasons(assessed):
    a = assessed["d08_fusion_ddd_axial_pain"]
    first = render(a, "markdown").split("\n\n")[1]
    assert first.startswith("**Criteria not met")
    assert "(22558), with 22585, is not medically necessary because the record does not show that" in first


def test_title_names_procedure_level_and_side(assessed):
    md = render(assessed["d01_discectomy_failed_conservative"], "markdown")
    title = md.splitlines()[0]
    assert "63030" in title and "L4-L5" in title and title.endswith("left")


def test_component_questions_follow_the_request(assessed):
    by_name = {n: {c.id: c for c in a.components} for n, a in assessed.items()}
    fusion = by_name["d06_fusion_degenerative_spondylolisthesis"]
    assert fusion["fusion"].answer.startswith("Yes") and "22612" in fusion["fusion"].codes
    assert fusion["instrumentation"].codes == ["22840"]
    assert fusion["setting"].question == "Is the inpatient stay justified?"
    disc = by_name["d01_discectomy_failed_conservative"]
    assert disc["fusion"].answer == "It was not requested." and not disc["fusion"].codes
    nav = by_name["d12_fusion_with_navigation_and_bma"]
    assert {"navigation", "graft"} <= set(nav)
    assert "graft" not in disc and "navigation" not in disc


def test_component_evidence_is_quoted_with_resolving_citations(assessed, kb):
    a = assessed["d07_fusion_stenosis_without_instability"]
    quoted = [e for c in a.components for e in c.evidence]
    assert quoted, "component questions quote the library"
    statements = {st.text for _, st in kb.statements.values()}
    refs = {r.n for r in a.references}
    for e in quoted:
        assert e.text in statements
        assert e.citations and set(e.citations) <= refs


def test_what_would_change_names_documentation_or_the_flipping_finding(assessed):
    insufficient = assessed["d04_discectomy_sciatica_only"].would_change
    assert insufficient and all(w.startswith("Document:") for w in insufficient)
    met = assessed["d06_fusion_degenerative_spondylolisthesis"].would_change
    assert any("nicotine" in w and w.startswith("Would change if:") for w in met)
    failed = assessed["d08_fusion_ddd_axial_pain"].would_change
    assert any(w.startswith("Would change if met:") for w in failed)


def test_patient_version_reads_at_grade_8_or_below(assessed):
    grades = [
        textstat.flesch_kincaid_grade(re.sub(r"[#*`>|]", "", render(a, "markdown", audience="patient")))
        for a in assessed.values()
    ]
    assert statistics.median(grades) <= 8, grades


JARGON = ["radiculopathy", "arthrodesis", "laminectomy", "foraminotomy", "claudication", "conservative care", "CPT"]


@pytest.mark.parametrize("name", [n for n, _ in DEV + CERVICAL])
def test_patient_version_avoids_or_explains_jargon(assessed, name):
    md = render(assessed[name], "markdown", audience="patient")
    body = md.split("\n## Sources\n")[0]
    for word in JARGON:
        assert word.lower() not in body.lower(), f"{name}: {word!r} in the patient article"
    glossary = md.split("\n## Words used here\n")[1] if "## Words used here" in md else ""
    for term in ("spondylolisthesis", "HbA1c", "MRI"):
        if re.search(rf"\b{term}\b", body):
            assert f"**{term}**" in glossary, f"{name}: {term} used but not explained"
    assert "[" not in body or all(int(n) in reference_numbers_patient(md) for n in re.findall(r"\[(\d+)\]", body))


def reference_numbers_patient(md: str) -> list[int]:
    refs = md.split("\n## Sources\n", 1)[1].split("\n## ", 1)[0]
    return [int(n) for n in re.findall(r"^(\d+)\. ", refs, re.MULTILINE)]


def test_reviewer_version_opens_with_the_criteria_table_and_audit(assessed):
    a = assessed["d06_fusion_degenerative_spondylolisthesis"]
    md = render(a, "markdown", audience="reviewer")
    assert headings(md)[:2] == ["Criteria", "Audit"]
    table = md.split("## Criteria\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[0].startswith("| service | criterion | status")
    rows = table[2:]
    assert len(rows) == sum(len(s.criteria) or 1 for s in a.services) + len(a.setting.criteria)
    assert any("`no-active-nicotine`" in r for r in rows)
    assert "`lumbar-fusion` version" in md and "SHA-256" in md


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.external: list[str] = []
        self.marks: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])
        for key in ("src", "href"):
            if tag in ("script", "link", "img", "iframe") and a.get(key):
                self.external.append(a[key])
        if tag == "mark":
            self.marks.append(a.get("class", ""))


def test_html_page_is_self_contained_with_working_citation_links_and_highlights(assessed):
    page = render(assessed["d06_fusion_degenerative_spondylolisthesis"], "html")
    parser = _Page()
    parser.feed(page)
    assert page.startswith("<!DOCTYPE html>") and "<title>" in page and "<style>" in page
    assert "script" not in parser.tags and not parser.external
    assert parser.links and set(parser.links) <= parser.ids
    assert {"met"} <= set(parser.marks)
    assert [h for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page) if h in SECTIONS] == list(SECTIONS)


def test_case_text_cannot_inject_markup_into_the_page(kb):
    text = 'L5-S1 microdiscectomy (63030) for <script>alert("x")</script> left sciatica, extrusion on MRI.'
    page = render(assess(text, kb=kb, as_of=AS_OF), "html")
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_cli_writes_html_for_each_audience(tmp_path):
    runner = CliRunner()
    case = SHARED_CASES / "d01_discectomy_failed_conservative.yaml"
    text = load_cases(SHARED_CASES)[0][1]["text"]
    src = tmp_path / "case.txt"
    src.write_text(text)
    for audience in ("clinician", "reviewer", "patient"):
        out = tmp_path / f"{audience}.html"
        result = runner.invoke(app, ["assess", str(src), "--format", "html", "--audience", audience, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.read_text().startswith("<!DOCTYPE html>")
    bad = runner.invoke(app, ["assess", str(case), "--audience", "nurse"])
    assert bad.exit_code == 2 and "unknown audience" in bad.output


def test_silence_taken_as_absence_is_said_never_a_bare_tick():
    a = assess("L4-5 TLIF (22630) for grade 2 isthmic spondylolisthesis with 5 months of failed physical therapy.")
    md = render(a, "markdown")
    assert "✓ met, not mentioned (taken as absent)** — No active nicotine use" in md
    assert "State in the record that this does not apply" in md  # listed under to strengthen the request
    reviewer = render(a, "markdown", audience="reviewer")
    assert "not mentioned (taken as absent)" in reviewer


def test_a_review_of_a_performed_procedure_says_so_first_and_reports_operative_findings():
    text = (
        "OPERATIVE REPORT\n"
        "PROCEDURE: Left L5-S1 microdiscectomy (63030).\n"
        "INDICATIONS: 3 months of left S1 leg pain, an L5-S1 extrusion compressing the S1 root on MRI, "
        "10 weeks of failed physical therapy.\n"
        "FINDINGS: A large extruded fragment beneath the S1 root.\n"
    )
    a = assess(text)
    md = render(a, "markdown")
    first = md.splitlines()
    assert first[0].endswith("review of a procedure already performed")
    assert "This reviews a procedure already performed" in first[2]
    assert "## Operative findings (reported, not used as criteria)" in md and "extruded fragment" in md
    assert "looks back at care you already had" in render(a, "markdown", audience="patient")


def _renamed(a, new_id: str):
    """The stored JSON of ``a`` with its policy renamed, as it reads once the knowledge renamed or
    withdrew that policy."""
    data = a.model_dump(mode="json")
    old = data["services"][0]["policy"]["id"]
    for ref in [s["policy"] for s in data["services"]] + [p for p in data["policies"]]:
        if ref and ref["id"] == old:
            ref["id"] = new_id
    return Assessment.model_validate(data)


def test_a_stored_article_renders_from_its_snapshot_after_the_policy_changes(copy):
    """An article keeps the policy text it was decided under: renamed or withdrawn since, or reworded,
    the article renders as it was (render never reads today's knowledge)."""
    then = "A pitfall as the policy stated it when this request was judged."

    def reword(data):
        data["pitfalls"] = [then]
        data["follows"] = "The policy's sources as they stood then."

    edit_yaml(copy / "policies", "lumbar-discectomy.yaml", reword)
    text = dict(DEV)["d01_discectomy_failed_conservative"]["text"]
    stored = _renamed(assess(text, kb=load(copy), as_of=AS_OF), "lumbar-discectomy-2019")
    assert stored.policies[0].pitfalls == [then]
    md = render(stored, "markdown")
    assert f"- {then}" in md and "The policy's sources as they stood then." in md
    assert "`lumbar-discectomy-2019`" in render(stored, "markdown", audience="reviewer")
    today = load().policies["lumbar-discectomy"].pitfalls[0].text
    assert today not in md, "an old article shows the pitfalls of its own version"
    for audience in ("clinician", "reviewer", "patient"):
        assert render(stored, "html", audience=audience).startswith("<!DOCTYPE html>")
    patient = render(stored, "markdown", audience="patient")
    assert "surgery to remove the part of a disc" in patient.lower() and "**disc**" in patient


def test_an_article_stored_before_snapshots_still_loads_and_renders(assessed):
    data = assessed["d06_fusion_degenerative_spondylolisthesis"].model_dump(mode="json")
    del data["policies"], data["glossary"]
    for s in data["services"]:
        del s["plain_description"]
    old = Assessment.model_validate(data)
    md = render(old, "markdown")
    assert "## Where the sources agree and disagree\n\n- Not stored with this article." in md
    assert "## Common pitfalls\n\n- None recorded." in md
    assert "`lumbar-fusion` version" in render(old, "markdown", audience="reviewer")
    patient = render(old, "markdown", audience="patient")
    assert "## Words used here" not in patient and "(code 22612)" in patient
    assert render(old, "html", audience="patient").startswith("<!DOCTYPE html>")


def test_render_imports_neither_explain_nor_the_knowledge():
    """Render reads the Assessment, the wording table and the reasons beside the models: beyond the
    layer order of tests/test_layers.py, not even the knowledge below it."""
    from test_layers import GRAPH

    banned = ("explain", "kb", "engine", "pipeline", "evaluate")
    for module, targets in GRAPH.items():
        if module.startswith("render"):
            bad = [t for t in targets if t.split(".")[0] in banned]
            assert not bad, f"{module} imports {bad}"


def test_one_table_words_every_determination_and_one_ranking_orders_them():
    assert set(WORDING) == set(Determination) and set(RANK) == set(Determination) and len(RANK) == len(Determination)
    assert (
        worst([D.MEDICALLY_NECESSARY, D.INSUFFICIENT_INFORMATION, D.NOT_MEDICALLY_NECESSARY])
        == D.NOT_MEDICALLY_NECESSARY
    )
    assert best([D.INSUFFICIENT_INFORMATION, D.MEDICALLY_NECESSARY]) == D.MEDICALLY_NECESSARY
    for d, w in WORDING.items():
        assert w.words == d.value.replace("_", " ")


def test_component_questions_of_a_neck_operation_quote_the_neck_library():
    # issue 16: component sections quoted evidence about another condition (lumbar trials under a neck request)
    text = (
        "Is C3-C6 posterior laminectomy and fusion (63045, 63048, 22600, 22614, 22842) medically necessary for a "
        "70-year-old with clumsy hands, bilateral Hoffmann signs, mJOA 12 and cord compression at C3-4 to C5-6 on MRI?"
    )
    a = assess(text)
    by_id = {c.id: c for c in a.components}
    assert by_id["cervical_decompression"].codes == ["63045", "63048"]  # the extra level with its primary
    assert by_id["cervical_fusion"].codes == ["22600", "22614"]
    assert "decompression" not in by_id and "fusion" not in by_id
    quoted = " ".join(e.text for c in a.components for e in c.evidence)
    assert "myelopathy" in quoted and "SPORT" not in quoted and "Swedish" not in quoted
    assert by_id["instrumentation"].evidence == []  # the library's instrumentation evidence is lumbar


def test_the_record_colours_words_by_the_criteria_they_decided():
    """A fusion met through spondylolisthesis also failed the other alternative (a recurrent herniation),
    which quoted the same words: the record marks them as meeting a criterion, not as failing one."""
    from indicated.render.html import to_html

    text = (ROOT / "examples" / "fusion_smoker.txt").read_text()
    page = to_html(assess(text))
    mark = page.split("degenerative spondylolisthesis</mark>")[0].rsplit("<mark", 1)[-1]
    assert mark.startswith(' class="met"'), mark
    smoker = page.split("current smoker</mark>")[0].rsplit("<mark", 1)[-1]
    assert smoker.startswith(' class="not_met"'), smoker  # what did fail still shows as failing


def test_pitfalls_are_chosen_for_the_case(assessed, kb):
    """The bone-marrow and navigation warning sits on the fusion that asks for them, not on every fusion;
    the inpatient-discectomy warning only where a discectomy asks for a stay."""
    graft = next(p.text for p in kb.policies["lumbar-fusion"].pitfalls if "navigation" in p.text)
    stay = kb.policies["spine-setting"].pitfalls[0].text

    def pitfalls(name: str) -> list[str]:
        return [p for pol in assessed[name].policies for p in pol.pitfalls]

    assert graft in pitfalls("d12_fusion_with_navigation_and_bma")
    assert graft not in pitfalls("d06_fusion_degenerative_spondylolisthesis")
    assert stay not in pitfalls("d02_discectomy_acute_axial_only")
    inpatient = assess(
        "L5-S1 extrusion compressing the S1 root, S1 numbness and leg pain, 10 weeks of failed PT. "
        "Microdiscectomy 63030 with a 2-night inpatient stay requested.",
        kb=kb,
        as_of=AS_OF,
    )
    assert stay in [p for pol in inpatient.policies for p in pol.pitfalls]
    # a pitfall with no condition stays on every case of its policy
    always = kb.policies["lumbar-fusion"].pitfalls[1]
    assert always.when is None and always.text in pitfalls("d06_fusion_degenerative_spondylolisthesis")


def test_an_operation_inferred_from_the_findings_is_said_to_be_inferred(kb):
    a = assess(
        "A 41-year-old man has left leg pain and tibialis anterior 2/5. MRI shows a large left paracentral disc "
        "extrusion at L4-L5 compressing the left L5 root. Is surgery indicated?",
        kb=kb,
        as_of=AS_OF,
    )
    assert [(s.code, s.implied) for s in a.services] == [("63030", True)]
    assert a.summary.startswith("The record asks about surgery without naming an operation; this judges ")
    assert "Your question did not name an operation, so we checked" in render(a, "markdown", audience="patient")
    named = assess("L4-L5 extrusion with L5 radiculopathy. Is a microdiscectomy indicated?", kb=kb, as_of=AS_OF)
    assert not any(s.implied for s in named.services) and "without naming" not in named.summary
