"""Declared predicates checked against a Case; each returns a status and the spans that decided it.

A predicate never guesses: an undocumented element is ``unknown`` unless the policy declared the
predicate closed-world (red flags, contraindications), where silence means absent, or closed given
its source (an imaging report that is described but does not name the finding).
"""

from __future__ import annotations

from functools import singledispatch
from itertools import pairwise
from typing import NamedTuple

from indicated.evaluate.logic import MET, NOT_MET, UNKNOWN
from indicated.extract import levels as lv
from indicated.extract.demographics import AGE_RE, AGE_SAID_RE
from indicated.extract.regions import letters_of
from indicated.kb.loader import Knowledge
from indicated.kb.schema import (
    AgeCheck,
    CareCheck,
    FindingCheck,
    LevelCountCheck,
    RecordSource,
    ServiceCheck,
    SymptomDurationCheck,
)
from indicated.models import Case, Finding, RequestedService, Span, Status


class Outcome(NamedTuple):
    status: Status
    evidence: list[Span]
    # decided by silence taken as absence (closed world): shown as "not mentioned (taken as absent)"
    assumed: bool = False


# the sources of findings the record describes (an imaging report), by id, with the words that describe them
Described = dict[str, list[Span]]


class World(NamedTuple):
    """What a predicate reads beside the case: the record sources it describes, and the vocabulary's
    groups of concepts that count as conservative care and that date the symptoms."""

    described: Described
    care: frozenset[str]
    symptoms: frozenset[str]
    complaint: frozenset[str] = frozenset()


def world_of(case: Case, kb: Knowledge) -> World:
    return World(
        described_sources(case, kb.record_sources), kb.care_concepts, kb.symptom_concepts, kb.complaint_concepts
    )


def described_sources(case: Case, sources: dict[str, RecordSource]) -> Described:
    """Which record sources the case describes: any finding of a source's own kind, stated and current
    enough to count, shows that the record reports from it."""
    out: Described = {}
    for src in sources.values():
        stated = [f for f in case.findings if f.concept in src.concepts and f.status == "present" and counts(f)]
        # the report is named ("MRI"), or read: only a report says what it did not find ("no listhesis") or
        # gives a measurement ("a Cobb angle of 35 degrees", "slip 35%")
        denied = [f for f in case.findings if f.concept in src.concepts and f.status == "absent" and counts(f)]
        reported = denied or any(f.concept in src.reported_by or f.number is not None for f in stated)
        if src.reported_by and not reported:
            continue  # findings of the kind, but no report named: a diagnosis, not the report
        if stated:
            out[src.id] = _spans(stated)[:3]
    return out


def _spans(findings: list[Finding]) -> list[Span]:
    seen: dict[tuple[int, int], Span] = {}
    for f in findings:
        for s in f.evidence:
            seen.setdefault((s.start, s.end), s)
    return list(seen.values())


@singledispatch
def check(predicate: object, case: Case, service: RequestedService | None, world: World) -> Outcome:
    raise TypeError(f"no evaluator for {type(predicate).__name__}")  # pragma: no cover - schema forbids it


def counts(f: Finding) -> bool:
    """Whether a finding can decide a criterion: stated, not hypothetical, and not found during the
    operation under review (a review judges what was known before it)."""
    return not f.hypothetical and not f.operative


@check.register
def _finding(p: FindingCheck, case: Case, service: RequestedService | None, world: World) -> Outcome:
    relevant = [
        f for f in case.findings if f.concept in p.concepts and counts(f) and (p.include_historical or not f.historical)
    ]
    wanted_levels = set(service.levels) if service and p.at_service_level else set()
    # a finding in another region says nothing of this one: lumbar stenosis in the history of a neck case
    # is no answer to "compression at C5-C6", so it neither meets nor fails the check
    if wanted_levels:
        here = letters_of(list(wanted_levels))
        relevant = [f for f in relevant if not f.levels or letters_of(f.levels) & here]
    present = [f for f in relevant if f.status == "present"]
    wanted_side = (service.side or _complaint_side(case, world)) if wanted_levels and service else None

    def at_level(f: Finding) -> bool:
        level = not wanted_levels or not f.levels or bool(wanted_levels & set(f.levels))
        # the left foramen narrowed is no answer to right-sided symptoms at the same level
        side = wanted_side in (None, "bilateral") or f.side in (None, "bilateral", wanted_side)
        return level and side

    def value_state(f: Finding) -> Status:
        if p.values is not None:
            if f.value is None:
                return UNKNOWN
            if not any(v.lower() in f.value.lower() for v in p.values):
                return NOT_MET
        if p.min_number is not None or p.max_number is not None:
            if f.number is None:
                return UNKNOWN
            if p.min_number is not None and f.number < p.min_number:
                return NOT_MET
            if p.max_number is not None and f.number > p.max_number:
                return NOT_MET
        if p.more_than and f.value and f.number is not None:
            limit = p.more_than.get(f.unit or "")
            if limit is not None and f.number <= limit:
                return NOT_MET
        if p.min_count is not None:
            if f.count is None:
                return UNKNOWN
            if f.count < p.min_count:
                return NOT_MET
        return MET

    fits = [f for f in present if at_level(f) and value_state(f) == MET]
    if fits:
        return Outcome(MET, _spans(fits))
    # closed world makes silence absent, not an unread value: "osteopenia" without a T-score is unknown;
    # but "EHL 4/5 ... weakness stable" is one weakness, graded once, so a graded mention decides
    graded = [f for f in present if at_level(f) and value_state(f) != UNKNOWN]
    if not graded and any(at_level(f) and value_state(f) == UNKNOWN for f in present):
        return Outcome(UNKNOWN, _spans(present))
    if present:
        return Outcome(NOT_MET, _spans(present))
    # a suspected finding is not silence: even a closed-world check asks for it to be confirmed; a doubt is
    # settled by a statement that the same finding is absent ("questionable trace anterolisthesis" on MRI,
    # "no spondylolisthesis" on standing films), never by another finding's absence ("fusion
    # indeterminate; hardware intact")
    absent = [f for f in relevant if f.status == "absent"]
    doubtful = [f for f in relevant if f.status == "possible" and f.concept not in {a.concept for a in absent}]
    if doubtful:
        return Outcome(UNKNOWN, _spans(doubtful))
    denied = {f.concept for f in absent}
    if absent and (p.fails_when_denied is None or set(p.fails_when_denied) <= denied):
        return Outcome(NOT_MET, _spans(absent))
    if absent:
        return Outcome(UNKNOWN, _spans(absent))
    if p.world == "closed":
        return Outcome(NOT_MET, [], assumed=True)
    if p.world == "source" and p.source in world.described:
        # the report is described and does not name the finding: its words are the evidence
        return Outcome(NOT_MET, world.described[p.source])
    return Outcome(UNKNOWN, [])


def _complaint_side(case: Case, world: World) -> str | None:
    """The one side every sided symptom and sign of the record is on; None when they name none or differ."""
    sides = {f.side for f in case.findings if f.concept in world.complaint and f.status == "present" and f.side}
    return sides.pop() if len(sides) == 1 else None


@check.register
def _care(p: CareCheck, case: Case, service: RequestedService | None, world: World) -> Outcome:
    everywhere = [f for f in case.findings if f.concept in world.care and counts(f)]
    # "Lumbar: 4 months of PT" is no care for a neck operation; care the words do not place counts for any
    here = service.region if service else None
    care = [f for f in everywhere if not (here and f.region and f.region != here)]
    tried = [f for f in care if f.status == "present"]
    modalities = {f.concept for f in tried if f.concept != "conservative_care_general"}
    weeks = case.conservative_care_weeks
    if len(care) < len(everywhere):
        weeks = max((f.weeks for f in tried if f.weeks), default=None)
    if tried and p.min_weeks == 0 and p.min_modalities <= max(len(modalities), 1):
        return Outcome(MET, _spans(tried))
    if weeks is not None and tried:
        enough = weeks >= p.min_weeks and max(len(modalities), 1) >= p.min_modalities
        return Outcome(MET if enough else NOT_MET, _spans([f for f in tried if f.weeks] or tried))
    if tried:
        # care for symptoms that began fewer weeks ago than the floor cannot have lasted long enough
        if case.symptom_weeks is not None and case.symptom_weeks < p.min_weeks:
            onset = [f for f in case.findings if f.weeks and f.concept in world.symptoms and f.status == "present"]
            return Outcome(NOT_MET, _spans(tried + onset))
        return Outcome(UNKNOWN, _spans(tried))
    declined = [f for f in care if f.status == "absent"]
    return Outcome(NOT_MET, _spans(declined)) if declined else Outcome(UNKNOWN, [])


def _range(value: float | None, lo: float | None, hi: float | None) -> Status:
    if value is None:
        return UNKNOWN
    ok = (lo is None or value >= lo) and (hi is None or value <= hi)
    return MET if ok else NOT_MET


@check.register
def _symptoms(p: SymptomDurationCheck, case: Case, service: RequestedService | None, world: World) -> Outcome:
    spans = [s for f in case.findings if f.weeks and f.concept in world.symptoms for s in f.evidence]
    return Outcome(_range(case.symptom_weeks, p.min_weeks, None), spans)


@check.register
def _age(p: AgeCheck, case: Case, service: RequestedService | None, world: World) -> Outcome:
    return Outcome(_range(case.age, p.min, p.max), _age_span(case))


def _age_span(case: Case) -> list[Span]:
    """Where the record states the age as an age ("66-year-old", "66M", "age 66", "I'm 66"): the words
    that decided an age criterion, so the article quotes them instead of a tick with no words. None for
    a coded age or one read from a date of birth."""
    if case.age is None or not case.text:
        return []
    for rx in (AGE_RE, AGE_SAID_RE):
        for m in rx.finditer(case.text):
            if any(v == str(case.age) for v in m.groupdict().values()):
                return [Span(text=m.group().strip(), start=m.start(), end=m.end())]
    return []


@check.register
def _levels(p: LevelCountCheck, case: Case, service: RequestedService | None, world: World) -> Outcome:
    levels = (service.levels if service and service.levels else None) or case.levels
    count = max(len(levels), (service.level_count if service else None) or 0)
    # the request's own words name its levels, so they are what decided the count
    evidence = list(service.evidence) if service else []
    if p.contiguous and not _contiguous(levels):
        return Outcome(NOT_MET, evidence)
    return Outcome(_range(count or None, p.min, p.max), evidence)


def _contiguous(segments: list[str]) -> bool:
    """Whether motion segments follow one another, each starting where the one above ends."""
    ends = sorted((s.split("-") for s in segments if "-" in s), key=lambda s: lv.vertebra_index(s[0]))
    return all(upper[1] == lower[0] for upper, lower in pairwise(ends))


@check.register
def _service(p: ServiceCheck, case: Case, service: RequestedService | None, world: World) -> Outcome:
    hits = [s for s in case.services if s.code in p.codes]
    if hits:
        return Outcome(MET, [e for s in hits for e in s.evidence])
    # not requested: the words of what was requested instead decided it (all of it, for the setting)
    asked = [service] if service else case.services
    return Outcome(NOT_MET, [e for s in asked for e in s.evidence])
