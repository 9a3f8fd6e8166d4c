"""explain: determinations + evidence library -> Assessment (numbered references, what to document,
what would change the answer, component questions, related questions).

References are numbered in order of first citation, reading services in request order and each
criteria tree top-down, then the setting, then the component questions: the numbers in the article
always increase as you read.
"""

from __future__ import annotations

from indicated.evaluate import Evaluation
from indicated.explain.components import answer_components
from indicated.kb.loader import Knowledge
from indicated.models import (
    Assessment,
    Case,
    CriterionResult,
    Determination,
    PolicyRef,
    PolicySnapshot,
    ReviewKind,
    ServiceResult,
)
from indicated.reasons import clause, deciding, decisive, leaves, record_words, turning_points
from indicated.search import Library
from indicated.wording import WORDING

__all__ = ["explain", "leaves", "summary"]

D = Determination

RELATED = 5
QUOTES = 2  # record quotes per reason in the verdict: enough to show the chart was read, short enough to scan


def explain(
    case: Case, evaluation: Evaluation, kb: Knowledge, library: Library, *, policy_set: str, version: str
) -> Assessment:
    numbers: dict[str, int] = {}

    def cite(ref: str) -> int:
        return numbers.setdefault(ref, len(numbers) + 1)

    for tree in _trees(evaluation):
        for c in tree:
            c.citations = [cite(ref) for ref in c.sources]
    components = answer_components(evaluation, kb, cite)
    missing, change = _gaps(evaluation)
    for s in evaluation.services:
        s.plain_description = _plain_description(s, kb)
    return Assessment(
        determination=evaluation.determination,
        review=case.review,
        summary=summary(evaluation, case.review),
        services=evaluation.services,
        setting=evaluation.setting,
        case=case,
        missing_information=missing,
        would_change=change,
        components=components,
        references=[kb.reference(ref, n) for ref, n in numbers.items()],
        related_questions=related_questions(case, evaluation, kb, library),
        policies=_snapshots(evaluation, kb),
        glossary=dict(kb.components.glossary),
        level_term=kb.scope.level_term,
        policy_set=policy_set,
        engine_version=version,
    )


def _plain_description(s: ServiceResult, kb: Knowledge) -> str:
    """What the procedure does in everyday words: its family's, else the coder's description."""
    code = kb.codes.get(s.code)
    return kb.components.families.get(code.family, s.description) if code else (s.description or "care")


def _snapshots(ev: Evaluation, kb: Knowledge) -> list[PolicySnapshot]:
    """The policies applied, in the order the article names them (services, then the setting), as
    they stand as the request is judged: the article renders from these, never from the knowledge of
    the day it is read."""
    refs: list[PolicyRef] = [s.policy for s in ev.services if s.policy is not None]
    if ev.setting is not None and ev.setting.policy is not None:
        refs.append(ev.setting.policy)
    out = []
    for pid in dict.fromkeys(r.id for r in refs):
        p = kb.policies[pid]
        out.append(
            PolicySnapshot(
                id=p.id,
                version=p.version,
                title=p.title,
                policy_set=p.policy_set,
                follows=p.follows,
                pitfalls=list(p.pitfalls),
                strengthen=list(p.strengthen),
            )
        )
    return out


def _trees(ev: Evaluation) -> list[list[CriterionResult]]:
    trees = [s.criteria for s in ev.services]
    if ev.setting is not None:
        trees.append(ev.setting.criteria)
    return trees


def _gaps(ev: Evaluation) -> tuple[list[str], list[str]]:
    """What to document (the undecided criteria) and what would change the answer: that
    documentation, the failed criteria to meet, or for a request that is met, the exclusions whose
    finding would overturn it."""
    missing: dict[str, None] = {}
    change: dict[str, None] = {}
    judged: list[tuple[Determination | None, list[CriterionResult]]] = [
        (s.determination, s.criteria) for s in ev.services
    ]
    if ev.setting is not None:
        judged.append((ev.setting.determination, ev.setting.criteria))
    for det, criteria in judged:
        for c in turning_points(det, criteria):
            if det == D.INSUFFICIENT_INFORMATION:
                missing.setdefault(c.to_document or c.statement, None)
            template = WORDING[det].change
            change.setdefault(template.format(c.to_document or clause(c.statement), clause(c.statement)), None)
    return list(missing), list(change)


def summary(ev: Evaluation, review: ReviewKind = "prospective") -> str:
    """The verdict in one sentence, naming what was requested (or, in a review, what was done), then the
    deciding reasons with the record's own words for those that were met, as a physician reviewer would
    quote the chart."""
    names = _names(ev.services)
    if review == "performed":
        text = (
            "This reviews a procedure already performed: "
            f"{names or 'the procedure'} {WORDING[ev.determination].verdict_past}, judged on what was documented before it."
        )
    else:
        text = f"The request for {names or 'the requested service'} {WORDING[ev.determination].verdict}."
    reasons = []
    for s in ev.services:
        if s.policy is None or s.serves:
            continue
        why = [clause(c.statement) + _quoted(c) for c in decisive(s)]
        if s.determination == D.MEDICALLY_NECESSARY:
            reasons.append(f"{s.code}: " + ("; ".join(why[:3]) or "criteria met"))
        elif (lead := WORDING[s.determination].lead) and why:
            reasons.append(f"{s.code}: {lead}" + "; ".join(why[:3]))
    if ev.setting is not None and ev.setting.determination is not None:
        reasons.append(
            f"{ev.setting.requested} setting: {WORDING[ev.setting.determination].words}"
            f" (recommended: {ev.setting.recommended})"
        )
    return text + (" " + ". ".join(r[0].upper() + r[1:] for r in reasons) + "." if reasons else "")


def _names(services: list[ServiceResult]) -> str:
    """The requested codes, those at the same levels named together: "63047, 22612 and 22840 at L4-L5"."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for s in services:
        groups.setdefault(tuple(s.levels), []).append(s.code)
    parts = []
    for levels, codes in groups.items():
        named = codes[0] if len(codes) == 1 else f"{', '.join(codes[:-1])} and {codes[-1]}"
        parts.append(f"{named} at {', '.join(levels)}" if levels else named)
    return "; ".join(parts)


def _quoted(c: CriterionResult, most: int = QUOTES) -> str:
    """The record's words that met a criterion, in brackets after it; nothing for one not met."""
    words = list(dict.fromkeys(record_words(c)))[:most] if c.status == "met" else []
    return f" ({', '.join(f'“{w}”' for w in words)})" if words else ""


def related_questions(case: Case, ev: Evaluation, kb: Knowledge, library: Library) -> list[str]:
    """Bank questions nearest to what this request is about: the procedures, the policies applied,
    the findings present and the criteria that decided it."""
    words = [s.description for s in ev.services]
    words += [s.policy.title for s in ev.services if s.policy is not None and not s.serves]
    present = {f.concept for f in case.findings if f.status == "present" and f.concept in kb.concepts}
    words += [kb.concepts[c].label for c in sorted(present)]
    for s in ev.services:
        if s.policy is not None and not s.serves:
            words += deciding(s)[:3]
    regions = frozenset(s.region for s in ev.services if s.policy is not None and s.region)
    return list(library.related(". ".join(words), k=RELATED, regions=regions))
