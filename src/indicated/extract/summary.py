"""Case-level facts derived from the findings: levels, conservative-care weeks, symptom weeks."""

from __future__ import annotations

from indicated.extract import patterns as pt
from indicated.extract.record import Layout
from indicated.models import Finding, RequestedService

CARE_GROUP = {
    "physical_therapy",
    "nsaids",
    "opioids",
    "neuropathic_agents",
    "epidural_steroid_injection",
    "chiropractic_care",
    "activity_modification",
    "home_exercise",
    "si_joint_injection",
    "facet_injection",
    "medication_trial",
    "conservative_care_general",
}
SYMPTOM_CONCEPTS = {"radicular_pain", "axial_back_pain", "neurogenic_claudication"}


# parts of a record whose levels are not the patient's pathology: operative technique ("the needle was
# localized at L3-L4"), family history, allergies
_NOT_PATHOLOGY = {"technique", "operative", "family", "allergy"}


def case_levels(text: str, services: list[RequestedService], lay: Layout | None = None) -> list[str]:
    """Every motion segment the record names about the patient's spine, in spinal order."""
    segs = {s for m in pt.levels(text) if not lay or lay.role_at(m.start) not in _NOT_PATHOLOGY for s in m.segments}
    segs |= {lv for svc in services for lv in svc.levels}
    order = {f"{a}-{b}": i for i, (a, b) in enumerate(zip(pt.VERTEBRAE, pt.VERTEBRAE[1:], strict=False))}
    return sorted(segs, key=lambda s: order.get(s, 999))


def conservative_care_weeks(facts: list[Finding]) -> float | None:
    """The longest documented course: concurrent treatments run side by side, so never add them up."""
    weeks = [
        f.weeks for f in facts if f.concept in CARE_GROUP and f.status == "present" and not f.hypothetical and f.weeks
    ]
    return max(weeks) if weeks else None


def symptom_weeks(facts: list[Finding]) -> float | None:
    weeks = [f.weeks for f in facts if f.concept in SYMPTOM_CONCEPTS and f.status == "present" and f.weeks]
    return max(weeks) if weeks else None
