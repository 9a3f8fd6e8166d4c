"""The article's shape, checked on every dev case and 60 of the team's own (issue 16): a verdict that
agrees with every service line and says *because*, a checklist of the deciding criteria with each line's
own words, references that are exactly those the reader sees, a patient version in the second person at
a reading grade of 8 or below, and a clinician article of a typical length."""

from __future__ import annotations

import re
import statistics
from datetime import date
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SHARED_CASES, load_cases
from indicated.evaluate.determine import overall
from indicated.models import Assessment, Determination
from indicated.pipeline import assess
from indicated.render import render
from indicated.wording import WORDING

D = Determination
AS_OF = date(2026, 12, 1)


def _team_cases() -> list[tuple[str, dict]]:
    """A fixed, varied selection of the team's cases: every 8th labelled case (all families in turn),
    every 8th real note and every 6th cervical case, 60 or more in all."""
    out = []
    for folder, step in (("labelled", 8), ("real", 8), ("cervical", 6)):
        files = sorted((ROOT / "cases" / folder).glob("*.yaml"))[::step]
        out += [(f"{folder}/{f.stem}", yaml.safe_load(f.read_text())) for f in files]
    return out


CASES = [(f"dev/{n}", c) for n, c in load_cases(SHARED_CASES)] + _team_cases()
NAMES = [n for n, _ in CASES]


@pytest.fixture(scope="module")
def assessed(kb) -> dict[str, Assessment]:
    return {name: assess(case["text"], kb=kb, as_of=AS_OF) for name, case in CASES}


def test_the_selection_is_large_and_varied():
    team = [n for n in NAMES if not n.startswith("dev/")]
    assert len(team) >= 50
    assert len({n.split("/")[1].split("_")[0] for n in team if n.startswith("labelled/")}) >= 8


def _section(md: str, heading: str) -> str:
    return md.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0] if f"\n## {heading}\n" in md else ""


def _services(criteria: str) -> dict[str, str]:
    """Each service's part of the Criteria section, by its heading."""
    parts = re.split(r"^### ", criteria, flags=re.MULTILINE)[1:]
    return {p.split("\n", 1)[0]: p.split("\n", 1)[1] if "\n" in p else "" for p in parts}


def _quotes(line: str) -> list[str]:
    return re.findall(r"“([^”]+)”", line)


def _body(md: str, references: str = "References") -> str:
    return md.split(f"\n## {references}\n", 1)[0]


@pytest.mark.parametrize("name", NAMES)
def test_headline_agrees_with_every_service_line_and_says_because(assessed, name):
    a = assessed[name]
    md = render(a, "markdown")
    verdict = md.split("\n\n")[1]
    assert verdict.startswith(f"**{WORDING[a.determination].title}.**"), verdict
    assert overall(a.services, a.setting) == a.determination
    criteria = _section(md, "Criteria")
    for s in a.services:
        line = next((h for h in _services(criteria) if h.startswith(f"{s.code} ")), None)
        assert line is not None and line.endswith(f": {WORDING[s.determination].words}"), f"{name}: {s.code} {line}"
        if s.serves:
            assert f", with {s.code}" in verdict or f" {s.code}," in verdict or f" {s.code} " in verdict, verdict
            continue
        sentence = next((x for x in re.split(r"(?<=\.) (?=[A-Z])", verdict) if f"({s.code})" in x), "")
        state = WORDING[s.determination].state_past if a.review == "performed" else WORDING[s.determination].state
        assert state in sentence, f"{name}: {s.code} not worded in {verdict!r}"
        if s.criteria:
            assert " because " in sentence, f"{name}: no reason for {s.code} in {sentence!r}"
    st = a.setting
    if st is not None and st.determination is not None and not st.follows_procedure:
        sentence = next((x for x in re.split(r"(?<=\.) (?=[A-Z])", verdict) if f"{st.requested} setting" in x), "")
        assert WORDING[st.determination].state in sentence and " because " in sentence, f"{name}: {verdict!r}"


@pytest.mark.parametrize("audience", ["clinician", "reviewer", "patient"])
@pytest.mark.parametrize("name", NAMES)
def test_references_are_exactly_those_cited_in_order_of_first_use(assessed, name, audience):
    md = render(assessed[name], "markdown", audience=audience)
    heading = "Sources" if audience == "patient" else "References"
    listed = [int(n) for n in re.findall(r"^(\d+)\. ", _section(md, heading), re.MULTILINE)]
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", _body(md, heading))]
    assert listed == list(range(1, len(listed) + 1)), f"{name}: references {listed}"
    assert set(cited) == set(listed), f"{name}: cited {sorted(set(cited))}, listed {listed}"
    first_use = list(dict.fromkeys(cited))
    assert first_use == sorted(first_use), f"{name}: numbers not in order of first use: {first_use}"


@pytest.mark.parametrize("name", NAMES)
def test_no_quote_repeated_at_two_levels_of_a_service(assessed, name):
    criteria = _section(render(assessed[name], "markdown"), "Criteria")
    for heading, part in _services(criteria).items():
        depths: dict[str, set[int]] = {}
        for line in part.splitlines():
            depth = (len(line) - len(line.lstrip(" "))) // 2
            for q in _quotes(line):
                depths.setdefault(q, set()).add(depth)
        repeated = {q: d for q, d in depths.items() if len(d) > 1}
        assert not repeated, f"{name}: {heading}: quoted at several levels {repeated}"


@pytest.mark.parametrize("name", NAMES)
def test_every_decided_criterion_carries_words_unless_taken_as_absent(assessed, name):
    """A tick or a cross with no words from the record is a claim the reader cannot check; the one
    exception is a closed-world item the record does not mention, which says so."""
    criteria = _section(render(assessed[name], "markdown"), "Criteria")
    for line in criteria.splitlines():
        if not re.match(r"\s*- \*\*[✓✗]", line):
            continue
        assert _quotes(line) or "not mentioned (taken as absent)" in line, f"{name}: {line}"


@pytest.mark.parametrize("name", NAMES)
def test_checklist_shows_deciding_criteria_flat_without_double_negatives(assessed, name):
    """One level per service (met subtrees collapsed), failed and undocumented before met, and no
    negated statement marked not met ("✗ not met — No active nicotine use")."""
    criteria = _section(render(assessed[name], "markdown"), "Criteria")
    for heading, part in _services(criteria).items():
        lines = [ln for ln in part.splitlines() if ln.lstrip().startswith("- **")]
        assert all(not ln.startswith(" ") for ln in lines), f"{name}: {heading}: nested criteria"
        order = ["✗" if "✗" in ln else "?" if "?" in ln.split("**")[1] else "✓" for ln in lines]
        assert order == sorted(order, key="✗?✓".index), f"{name}: {heading}: order {order}"
        for ln in lines:
            assert not re.match(r"- \*\*✗ not met[^*]*\*\* — (No|Not|Without) ", ln), f"{name}: {ln}"


THIRD_PERSON = re.compile(r"\b(the patient|patient's|the patients|he|she|his|her|him)\b", re.IGNORECASE)


def _syllables(word: str) -> int:
    """Syllables by vowel groups, less a silent final e: rough, as Flesch-Kincaid counts go."""
    word = word.lower()
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(groups, 1)


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade: 0.39 words per sentence + 11.8 syllables per word - 15.59."""
    text = re.sub(r"\[\d+\]|[#*`>|]", " ", text)
    sentences = [s for s in re.split(r"[.!?]+\s|\n\s*\n|\n- ", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    if not words:
        return 0.0
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / max(len(sentences), 1) + 11.8 * syllables / len(words) - 15.59


def test_fk_grade_counts_as_expected():
    assert fk_grade("The cat sat on the mat. It was happy.") < 2
    assert fk_grade("Decompressive laminectomy necessitates comprehensive preoperative radiographic evaluation.") > 14


def _patient_text(md: str) -> str:
    """The patient article as the patient reads it: less the list of sources (their titles are not ours)."""
    return _body(md, "Sources") + "\n" + md.split("\n## Questions people also ask\n", 1)[-1]


def test_patient_versions_speak_to_the_patient_at_grade_8_or_below(assessed):
    """Second person throughout (never "the patient"), a rule against something never read backwards,
    and a median Flesch-Kincaid grade of 8 or below."""
    grades = []
    for name, a in assessed.items():
        md = render(a, "markdown", audience="patient")
        text = _patient_text(md)
        assert not THIRD_PERSON.search(text), f"{name}: {THIRD_PERSON.search(text)[0]!r} in the patient article"
        assert re.search(r"\byour?\b", text, re.IGNORECASE), name
        assert not re.search(r"\*\*No:\*\* You do not", text), f"{name}: a rule against something read backwards"
        grades.append(fk_grade(_body(md, "Sources")))
    assert statistics.median(grades) <= 8, sorted(grades)


@pytest.mark.parametrize("name", NAMES)
def test_patient_glossary_defines_only_words_it_uses(assessed, name):
    md = render(assessed[name], "markdown", audience="patient")
    glossary = _section(md, "Words used here")
    body = _body(md, "Sources")
    for term in re.findall(r"^- \*\*(.+?)\*\*:", glossary, re.MULTILINE):
        assert re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", body, re.IGNORECASE), f"{name}: {term}"


def test_a_typical_clinician_article_is_under_900_words_before_the_references(assessed):
    counts = [len(_body(render(a, "markdown")).split()) for a in assessed.values()]
    assert statistics.median(counts) < 900, f"median {statistics.median(counts)}, max {max(counts)}"


def test_the_smoker_reads_the_right_way_round():
    """The fusion's exclusion says the fact found, with the record's words, in the verdict and the checklist."""
    a = assess((Path(ROOT) / "examples" / "fusion_smoker.txt").read_text(), as_of=AS_OF)
    md = render(a, "markdown")
    verdict = md.split("\n\n")[1]
    assert "(22612), with 22840, is not medically necessary because" in verdict
    assert "“current smoker”" in verdict
    assert "- **✗ excluded** — Active smoking or nicotine use is documented." in md
    patient = render(a, "markdown", audience="patient")
    assert "**This stands in the way:** You smoke or use nicotine now." in patient
