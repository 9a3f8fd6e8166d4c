"""Case-level facts derived from the findings in one place: levels, conservative-care weeks, symptom weeks."""

from __future__ import annotations

from indicated.extract import levels as lv
from indicated.extract.record import Layout
from indicated.kb.loader import Knowledge
from indicated.models import Case, Finding, RequestedService

# parts of a record whose levels are not the patient's pathology: operative technique ("the needle was
# localized at L3-L4"), family history, allergies
_NOT_PATHOLOGY = {"technique", "operative", "family", "allergy"}


def case_levels(text: str, services: list[RequestedService], lay: Layout | None = None) -> list[str]:
    """Every motion segment the record names about the patient's spine, in spinal order."""
    segs = {s for m in lv.levels(text) if not lay or lay.role_at(m.start) not in _NOT_PATHOLOGY for s in m.segments}
    segs |= {lv for svc in services for lv in svc.levels}
    return sorted(segs, key=_segment_order)


_ORDER = {f"{a}-{b}": i for i, (a, b) in enumerate(zip(lv.VERTEBRAE, lv.VERTEBRAE[1:], strict=False))}


def _segment_order(segment: str) -> int:
    return _ORDER.get(segment, 999)


def summarize(case: Case, kb: Knowledge) -> Case:
    """The case with its summaries derived from its findings, whatever their source (a note, a JSON
    case, a FHIR record), and each coded service named; a summary the case states itself is kept."""
    derived = {
        "conservative_care_weeks": conservative_care_weeks(case.findings, kb),
        "symptom_weeks": symptom_weeks(case.findings, kb),
        "levels": sorted({lv for x in [*case.services, *case.findings] for lv in x.levels}, key=_segment_order),
    }
    update = {k: v for k, v in derived.items() if v and not getattr(case, k)}
    if any(not s.description and s.code in kb.codes for s in case.services):  # a JSON case gives codes only
        update["services"] = [
            s.model_copy(update={"description": kb.codes[s.code].description})
            if not s.description and s.code in kb.codes
            else s
            for s in case.services
        ]
    return case.model_copy(update=update) if update else case


def conservative_care_weeks(facts: list[Finding], kb: Knowledge) -> float | None:
    """The longest documented course: concurrent treatments run side by side, so never add them up."""
    weeks = [
        f.weeks
        for f in facts
        if f.concept in kb.care_concepts and f.status == "present" and not f.hypothetical and f.weeks
    ]
    return max(weeks) if weeks else None


def symptom_weeks(facts: list[Finding], kb: Knowledge) -> float | None:
    weeks = [f.weeks for f in facts if f.concept in kb.symptom_concepts and f.status == "present" and f.weeks]
    return max(weeks) if weeks else None
