"""Routing: codes and procedure words select policies; history and other numbers do not."""

from __future__ import annotations

import pytest

from conftest import CERVICAL_CASES, ROOT, SHARED_CASES, load_cases
from indicated.engine import Engine
from indicated.pipeline import assess
from indicated.route import route

extract = Engine.bundled().extract


def codes(text: str) -> list[str]:
    return [s.code for s in extract(text).services]


def test_explicit_codes_are_found():
    assert codes("Requested: L3-L5 decompressive laminectomy (63047, 63048).") == ["63047", "63048"]


def test_procedure_words_map_to_cpt():
    assert codes("Is a lumbar microdiscectomy at L5-S1 medically necessary?") == ["63030"]


def test_multilevel_words_add_the_add_on_code():
    assert codes("Plan: L3-L5 laminectomy.") == ["63047", "63048"]


def test_words_do_not_duplicate_a_family_covered_by_a_code():
    assert sorted(codes("Is L4-5 laminectomy and posterolateral fusion (22612) medically necessary?")) == [
        "22612",
        "63047",
    ]


def test_generic_word_yields_to_a_specific_one():
    assert codes("Plan: L5-S1 TLIF fusion.") == ["22630"]


def test_other_five_digit_numbers_are_not_codes():
    assert codes("Patient ID 12345, zip 02139, requests L4-5 microdiscectomy.") == ["63030"]


def test_unknown_code_after_cpt_is_kept_without_policy(kb):
    case = extract("Request CPT 69930 cochlear implant.")
    assert [s.code for s in case.services] == ["69930"]
    assert route(case, kb)[0].policy is None


def test_discectomy_routes_to_its_policy(kb):
    [r] = route(extract("Request: right L5-S1 microdiscectomy 63030."), kb)
    assert r.policy is not None and r.policy.id == "lumbar-discectomy"


def test_add_on_routes_with_its_primary(kb):
    routes = route(extract("Request: L4-L5 and L5-S1 microdiscectomy (63030, 63035)."), kb)
    assert {r.service.code: r.spec.add_on_to for r in routes} == {"63030": [], "63035": ["63030"]}


def test_nothing_recognisable_routes_nowhere(kb):
    assert route(extract("Is a cochlear implant medically necessary for a 6-year-old?"), kb) == []


# --- regions: a neck request is judged by a neck policy, and the reverse (issue 20) ----------------


def policy_regions(kb, policy_id: str) -> set[str]:
    """The regions of a policy's primary procedures; empty for a policy that goes with any region."""
    policy = kb.policies[policy_id]
    return {kb.codes[s.code].region for s in policy.services if not s.add_on_to and kb.codes[s.code].region}


@pytest.mark.parametrize(
    ("text", "policy"),  # policy: the ids of the policies, separated by spaces
    [
        ("Is a right C5-6 microdiscectomy medically necessary?", "cervical-radiculopathy"),
        ("Is a right L5-S1 microdiscectomy medically necessary?", "lumbar-discectomy"),
        ("Request: T8-9 discectomy for a calcified thoracic disc.", "thoracic-discectomy"),
        ("Request: C5-C6 disc replacement.", "cervical-disc-arthroplasty"),
        ("Request: L4-5 disc replacement.", "lumbar-tda"),
        ("Plan: C3-C6 laminectomy and fusion.", "cervical-decompression-fusion"),
        ("Plan: L3-L5 laminectomy and fusion.", "lumbar-decompression lumbar-fusion"),
        ("Is a neck fusion at C4-5 medically necessary?", "cervical-decompression-fusion"),
    ],
)
def test_the_same_words_route_to_the_policy_of_their_region(kb, text, policy):
    routes = [r for r in route(extract(text), kb) if not r.spec or not r.spec.add_on_to]
    assert routes and {r.policy.id for r in routes if r.policy} == set(policy.split())


@pytest.mark.parametrize("folder", [CERVICAL_CASES, ROOT / "cases" / "labelled", ROOT / "cases" / "real", SHARED_CASES])
def test_no_request_is_judged_by_a_policy_of_another_region(kb, folder):
    wrong = [
        (name, s.code, s.region, s.policy.id)
        for name, case in load_cases(folder)
        for s in assess(case["text"], kb=kb).services
        if s.policy and policy_regions(kb, s.policy.id) and s.region not in policy_regions(kb, s.policy.id)
    ]
    assert not wrong
