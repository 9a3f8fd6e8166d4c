"""Routing: codes and procedure words select policies; history and other numbers do not."""

from __future__ import annotations

from indicated.engine import Engine
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
