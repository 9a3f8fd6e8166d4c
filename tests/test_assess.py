"""End to end on labelled cases: determinations, facts, and span integrity."""

from __future__ import annotations

import pytest

from conftest import SHARED_CASES, load_cases
from indicated.evaluate.determine import overall
from indicated.models import Determination, ServiceResult, SettingResult
from indicated.pipeline import assess
from indicated.scoring import wrong

D = Determination
DEV = load_cases(SHARED_CASES) if SHARED_CASES.exists() else []


def test_shared_dev_cases_are_present():
    assert len(DEV) >= 21, f"expected the shared dev cases in {SHARED_CASES}"


@pytest.mark.parametrize(("name", "case"), DEV, ids=[n for n, _ in DEV])
def test_dev_case_determinations_and_facts(name, case):
    """Every label of a shared dev case: a determination or a list of accepted ones, per service, the
    setting, the review (prospective or performed), codes of another region that must not appear, facts."""
    exp = case["expected"]
    a = assess(case["text"])
    assert not wrong(exp, a)
    facts = exp.get("case") or {}
    present = {f.concept for f in a.case.findings if f.status == "present"}
    assert set(facts.get("present", [])) <= present
    assert not set(facts.get("absent", [])) & present
    if "levels" in facts:
        assert sorted(a.case.levels) == sorted(facts["levels"])
    if "conservative_care_weeks_at_least" in facts:
        assert (a.case.conservative_care_weeks or 0) >= facts["conservative_care_weeks_at_least"]


@pytest.mark.parametrize(("name", "case"), DEV, ids=[n for n, _ in DEV])
def test_every_evidence_span_matches_the_input(name, case):
    text = case["text"]
    a = assess(text)
    spans = [e for f in a.case.findings for e in f.evidence]
    spans += [e for s in a.services for c in s.criteria for e in c.evidence]
    if a.setting:
        spans += [e for c in a.setting.criteria for e in c.evidence]
    for e in spans:
        assert text[e.start : e.end] == e.text


def test_add_on_follows_its_primary():
    a = assess(
        "Axial low back pain only, no leg pain, MRI with a small L4-5 bulge without nerve root compression. "
        "Request: L4-L5 and L5-S1 microdiscectomy (63030, 63035)."
    )
    by = {s.code: s for s in a.services}
    assert by["63030"].determination == D.NOT_MEDICALLY_NECESSARY
    assert by["63035"].determination == D.NOT_MEDICALLY_NECESSARY and by["63035"].serves == "63030"


def test_red_flag_waives_conservative_care():
    a = assess(
        "Two days of right leg pain with new urinary retention and saddle anesthesia. MRI: massive L4-5 "
        "extrusion compressing the cauda equina and right L5 root. Request urgent L4-5 discectomy 63030."
    )
    assert a.determination == D.MEDICALLY_NECESSARY


def test_weakness_4_of_5_alone_does_not_waive_conservative_care():
    a = assess(
        "Left leg pain for 2 weeks, EHL 4/5. MRI: L4-5 extrusion compressing the left L5 root. "
        "No conservative care yet. Request: L4-5 microdiscectomy 63030."
    )
    assert a.determination == D.NOT_MEDICALLY_NECESSARY


def test_references_are_numbered_in_order_of_first_citation():
    a = assess("Is an L5-S1 microdiscectomy medically necessary for a patient with sciatica?")
    seen = []
    for s in a.services:
        for c in s.criteria:
            seen += [n for n in c.citations if n not in seen]
    assert seen == list(range(1, len(seen) + 1))
    assert [r.n for r in a.references] == list(range(1, len(a.references) + 1))


def _svc(code: str, det: D, policy: bool = True) -> ServiceResult:
    from indicated.models import PolicyRef

    ref = PolicyRef(id="p", version="1") if policy else None
    return ServiceResult(code=code, determination=det, policy=ref)


@pytest.mark.parametrize(
    ("dets", "setting", "expected"),
    [
        ([D.MEDICALLY_NECESSARY], None, D.MEDICALLY_NECESSARY),
        ([D.NOT_MEDICALLY_NECESSARY, D.NOT_MEDICALLY_NECESSARY], None, D.NOT_MEDICALLY_NECESSARY),
        ([D.MEDICALLY_NECESSARY, D.INSUFFICIENT_INFORMATION], None, D.INSUFFICIENT_INFORMATION),
        ([D.MEDICALLY_NECESSARY, D.NOT_MEDICALLY_NECESSARY], None, D.PARTIALLY_MEDICALLY_NECESSARY),
        ([D.MEDICALLY_NECESSARY], D.NOT_MEDICALLY_NECESSARY, D.PARTIALLY_MEDICALLY_NECESSARY),
        ([D.MEDICALLY_NECESSARY], D.INSUFFICIENT_INFORMATION, D.INSUFFICIENT_INFORMATION),
    ],
)
def test_overall_rules(dets, setting, expected):
    services = [_svc(str(i), d) for i, d in enumerate(dets)]
    st = SettingResult(requested="inpatient", recommended="outpatient", determination=setting) if setting else None
    assert overall(services, st) == expected


def test_services_without_policy_do_not_count():
    services = [_svc("1", D.MEDICALLY_NECESSARY), _svc("2", D.NO_APPLICABLE_POLICY, policy=False)]
    assert overall(services, None) == D.MEDICALLY_NECESSARY
    assert overall([_svc("2", D.NO_APPLICABLE_POLICY, policy=False)], None) == D.NO_APPLICABLE_POLICY


def test_the_headline_agrees_with_the_service_lines():
    """An article never says "insufficient" overall while its only voting service is "not medically
    necessary": the headline is the vote of the primaries (and of the setting only when it was judged)."""
    from conftest import ROOT
    from indicated.evaluate.determine import voters

    for folder in ("real", "heldout"):
        for name, case in load_cases(ROOT / "cases" / folder):
            a = assess(case["text"])
            votes = {s.determination for s in voters(a.services)}
            if a.setting is not None and a.setting.determination is not None and not a.setting.follows_procedure:
                votes.add(a.setting.determination)
            if len(votes) == 1:
                assert a.determination == votes.pop(), name
            if a.setting is not None and a.setting.follows_procedure:
                assert a.setting.determination in {s.determination for s in voters(a.services)}, name
