"""Criterion coverage of the policy case suites: every criterion of every policy (nested ones too) must
be seen both met and not met among the statuses its own suite's cases produce (OPA-style coverage per
criterion, not per line); a criterion seen only one way is a branch of the policy no case exercises."""

from __future__ import annotations

import pytest

from indicated.engine import Engine
from indicated.suites import run_suites

POLICIES = sorted(Engine.bundled().knowledge.policies)


@pytest.fixture(scope="module")
def suites():
    return {r.policy: r for r in run_suites()}


@pytest.mark.parametrize("pid", POLICIES)
def test_every_criterion_is_seen_met_and_not_met(suites, pid):
    result = suites[pid]
    assert not result.failures, f"{pid}: cases that do not hold: {result.failures}"
    one_sided = {cid: sorted(got) or ["never evaluated"] for cid, got in result.one_sided.items()}
    assert not one_sided, f"{pid}: criteria never seen both met and not_met: {one_sided}"


def test_coverage_counts_the_nested_criteria_of_the_tree():
    kb = Engine.bundled().knowledge
    result = run_suites(["lumbar-tda"])[0]
    assert set(result.seen) == {n.id for n in kb.policies["lumbar-tda"].criteria.walk()}
    assert "scoliosis-present" in result.seen  # a `not` node's child is a criterion of its own
