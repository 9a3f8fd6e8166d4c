"""The engine: the knowledge passed in is the knowledge used, and engines are shared by content."""

from __future__ import annotations

import pytest

from conftest import edit_yaml
from indicated.engine import Engine
from indicated.extract import extract
from indicated.kb.loader import load, load_policy_cases
from indicated.models import Case, Finding, RequestedService

NOTE = "Sciatica for 3 months. MRI L5-S1 extrusion."


def _present(case: Case) -> set[str]:
    return {f.concept for f in case.findings if f.status == "present"}


def test_extract_honours_a_term_added_to_a_copied_lexicon(copy):
    """The new term goes first, shifting every other term's place: matches name concepts, not places."""
    edit_yaml(
        copy, "lexicon.yaml", lambda d: d["terms"].insert(0, {"concept": "motor_weakness", "phrases": ["zorbly"]})
    )
    engine = Engine(load(copy))
    assert "motor_weakness" in _present(extract("Zorbly left foot since May.", engine=engine))
    assert "motor_weakness" not in _present(extract("Zorbly left foot since May.", engine=Engine.bundled()))
    assert _present(extract(NOTE, engine=engine)) == _present(extract(NOTE, engine=Engine.bundled()))
    assert {"radicular_pain", "disc_herniation"} <= _present(extract(NOTE, engine=engine))


def test_engines_are_shared_by_content_and_not_across_a_change(copy):
    same = load(copy)
    assert same.digest == Engine.bundled().knowledge.digest
    assert Engine.of(same) is Engine.bundled()
    edit_yaml(copy, "lexicon.yaml", lambda d: d["terms"][0]["phrases"].append("zorbly"))
    changed = load(copy)
    assert changed.digest != same.digest
    assert Engine.of(changed) is not Engine.bundled()


def test_a_case_of_findings_only_gets_its_summaries_derived():
    """Conservative-care and symptom weeks come from the findings whatever the source, not only from text."""
    case = Case(
        findings=[
            Finding(concept="physical_therapy", weeks=8),
            Finding(concept="nsaids", weeks=10),
            Finding(concept="radicular_pain", weeks=12),
        ],
        services=[RequestedService(code="63030", levels=["L5-S1"])],
    )
    a = Engine.bundled().assess(case)
    assert a.case.conservative_care_weeks == 10
    assert a.case.symptom_weeks == 12
    assert a.case.levels == ["L5-S1"]
    assert (
        a.services[0].description == Engine.bundled().knowledge.codes["63030"].description
    )  # named, not "63030 (63030)"
    stated = Engine.bundled().assess(case.model_copy(update={"conservative_care_weeks": 4}))
    assert stated.case.conservative_care_weeks == 4  # a summary the case states itself is kept


def _first_met_cases() -> list[tuple[str, str]]:
    out = []
    for pid, suite in sorted(load_policy_cases().items()):
        text = next((c.text for c in suite.cases if c.text and c.determination == "medically_necessary"), None)
        if text:
            out.append((pid, text))
    return out


@pytest.mark.parametrize(("pid", "text"), _first_met_cases(), ids=[p for p, _ in _first_met_cases()])
def test_findings_without_text_are_judged_like_the_same_facts_in_words(pid, text):
    """A JSON case of findings only (no text, no quotes) gets the determinations its words get."""
    engine = Engine.bundled()
    worded = engine.assess(text)
    facts = worded.case.model_dump(exclude={"text", "parts", "conservative_care_weeks", "symptom_weeks", "levels"})
    for item in [*facts["findings"], *facts["services"], *([facts["setting"]] if facts["setting"] else [])]:
        item["evidence"] = []
    coded = engine.assess(Case.model_validate(facts))
    assert {s.code: s.determination for s in coded.services} == {s.code: s.determination for s in worded.services}
    assert coded.determination == worded.determination


def test_an_engine_loads_a_knowledge_folder(copy):
    assert Engine.load(None) is Engine.bundled()
    assert Engine.load(copy) is Engine.bundled()  # the same content: the same engine
    edit_yaml(copy, "scope.yaml", lambda d: d.update(covers="knees"))
    assert Engine.load(copy).knowledge.scope.covers == "knees"
