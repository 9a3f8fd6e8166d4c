"""Each policy ships named cases beside it; every case must hold, and no policy may ship without."""

from __future__ import annotations

import pytest

from indicated.engine import Engine
from indicated.kb.loader import load_policy_cases
from indicated.suites import check_case

SUITES = load_policy_cases()
CASES = [(pid, case) for pid, suite in SUITES.items() for case in suite.cases]


def test_every_policy_has_a_case_suite_of_at_least_eight():
    for pid in Engine.bundled().knowledge.policies:
        assert pid in SUITES, f"policy {pid} ships without cases"
        assert len(SUITES[pid].cases) >= 8, f"policy {pid} has fewer than 8 cases"


def test_case_suites_name_existing_policies_and_criteria():
    kb = Engine.bundled().knowledge
    for pid, suite in SUITES.items():
        ids = {n.id for n in kb.policies[pid].criteria.walk()}
        for case in suite.cases:
            assert set(case.criteria) <= ids, f"{pid}::{case.name} names unknown criteria"


@pytest.mark.parametrize(("pid", "case"), CASES, ids=[f"{pid}::{c.name}" for pid, c in CASES])
def test_policy_case(pid, case):
    assert check_case(pid, case) is None


def test_a_case_gives_text_or_facts_exactly_once(tmp_path):
    from indicated.errors import KnowledgeError

    base = "policy: lumbar-tda\ncases:\n- name: c\n  determination: insufficient_information\n"
    (tmp_path / "policies").mkdir()
    for extra, said in [
        ("", "gives neither text nor facts"),
        ("  text: Is 22857 indicated?\n  facts: {age: 40}\n", "gives both text and facts"),
        ("  facts: {findings: [{concept: axial_back_pain, status: maybe}]}\n", "cases.0.facts.findings.0.status"),
        ("  facts: {age: 40, smoker: true}\n", "cases.0.facts.smoker"),
    ]:
        (tmp_path / "policies" / "lumbar-tda.cases.yaml").write_text(base + extra)
        with pytest.raises(KnowledgeError, match=said.replace(".", r"\.")):
            load_policy_cases(tmp_path)


def test_a_facts_case_is_assessed_as_given_not_read_from_words():
    from indicated.kb.schema import PolicyCase

    facts = {
        "age": 67,
        "findings": [{"concept": "axial_back_pain"}],
        "services": [{"code": "22857", "levels": ["L4-L5"]}],
    }
    case = PolicyCase(
        name="over-60",
        facts=facts,
        determination="not_medically_necessary",
        services={"22857": "not_medically_necessary"},
        criteria={"age-18-to-60": "not_met", "discogenic-axial-pain": "met", "one-level-requested": "met"},
    )
    assert check_case("lumbar-tda", case) is None
    assert "criterion age-18-to-60 met" in check_case(
        "lumbar-tda", case.model_copy(update={"facts": case.facts.model_copy(update={"age": 45})})
    )
