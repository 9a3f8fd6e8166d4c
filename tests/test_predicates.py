"""Predicates read typed findings: a measured value's unit is data, never parsed back out of its words."""

from __future__ import annotations

from indicated.evaluate.predicates import World, check
from indicated.kb.schema import FindingCheck, LevelCountCheck
from indicated.models import Case, Finding, RequestedService

INSTABILITY = FindingCheck(type="finding", concepts=["dynamic_instability"], world="open", more_than={"mm": 2})
WORLD = World(described={}, care=frozenset(), symptoms=frozenset())


def _status(finding: Finding) -> str:
    return check(INSTABILITY, Case(findings=[finding]), None, WORLD).status


def test_a_limit_applies_to_the_unit_it_names():
    assert _status(Finding(concept="dynamic_instability", value="1 mm", number=1, unit="mm")) == "not_met"
    assert _status(Finding(concept="dynamic_instability", value="4 mm", number=4, unit="mm")) == "met"
    # a limit in mm says nothing of an angle, nor of words the record wrote around the number
    assert _status(Finding(concept="dynamic_instability", value="1 degrees", number=1, unit="degrees")) == "met"
    assert _status(Finding(concept="dynamic_instability", value="slips 1 mm", number=1)) == "met"


ROOT_AT_LEVEL = FindingCheck(
    type="finding", concepts=["spinal_stenosis", "nerve_root_compression"], world="open", at_service_level=True
)


def test_a_finding_in_another_region_neither_meets_nor_fails_a_level_check():
    acdf = RequestedService(code="22551", levels=["C5-C6"])
    lumbar = Finding(concept="spinal_stenosis", levels=["L4-L5"])
    assert check(ROOT_AT_LEVEL, Case(findings=[lumbar]), acdf, WORLD).status == "unknown"
    # the same region at another level still fails it: stenosis at C3-C4 is not compression at C5-C6
    above = Finding(concept="spinal_stenosis", levels=["C3-C4"])
    assert check(ROOT_AT_LEVEL, Case(findings=[above]), acdf, WORLD).status == "not_met"
    assert check(ROOT_AT_LEVEL, Case(findings=[lumbar, above]), acdf, WORLD).status == "not_met"


def test_a_finding_on_the_other_side_from_the_complaint_does_not_meet_a_level_check():
    world = WORLD._replace(complaint=frozenset({"motor_weakness"}))
    foraminotomy = RequestedService(code="63020", levels=["C6-C7"])
    weak = Finding(concept="motor_weakness", side="right")
    left = Finding(concept="spinal_stenosis", levels=["C6-C7"], side="left")
    assert check(ROOT_AT_LEVEL, Case(findings=[weak, left]), foraminotomy, world).status == "not_met"
    for side in ("right", "bilateral", None):
        found = Finding(concept="spinal_stenosis", levels=["C6-C7"], side=side)
        assert check(ROOT_AT_LEVEL, Case(findings=[weak, found]), foraminotomy, world).status == "met"
    # symptoms on both sides, or a request that names its side, decide otherwise
    both = [weak, Finding(concept="motor_weakness", side="left"), left]
    assert check(ROOT_AT_LEVEL, Case(findings=both), foraminotomy, world).status == "met"
    left_sided = RequestedService(code="63020", levels=["C6-C7"], side="left")
    assert check(ROOT_AT_LEVEL, Case(findings=[weak, left]), left_sided, world).status == "met"


def test_two_levels_apart_are_not_two_contiguous_levels():
    two_contiguous = LevelCountCheck(type="level_count", max=2, contiguous=True)
    apart = RequestedService(code="22856", levels=["C4-C5", "C6-C7"])
    together = RequestedService(code="22856", levels=["C5-C6", "C4-C5"])
    assert check(two_contiguous, Case(), apart, WORLD).status == "not_met"
    assert check(two_contiguous, Case(), together, WORLD).status == "met"
    assert check(LevelCountCheck(type="level_count", max=2), Case(), apart, WORLD).status == "met"
