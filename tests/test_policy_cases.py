"""Each policy ships named cases beside it; every case must hold, and no policy may ship without."""

from __future__ import annotations

import pytest

from indicated.engine import Engine
from indicated.kb.loader import load_policy_cases
from indicated.kb.suites import check_case

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
