"""explain: determinations + evidence library -> Assessment (numbered references, what to document).

References are numbered in order of first citation, reading services in request order and each
criteria tree top-down, then the setting: the numbers in the article always increase as you read.
"""

from __future__ import annotations

from indicated.evaluate import Evaluation
from indicated.kb.loader import Knowledge
from indicated.models import Assessment, Case, CriterionResult, Determination, Reference, ServiceResult

__all__ = ["explain"]

D = Determination

VERDICT = {
    D.MEDICALLY_NECESSARY: "is medically necessary",
    D.PARTIALLY_MEDICALLY_NECESSARY: "is partially medically necessary",
    D.NOT_MEDICALLY_NECESSARY: "does not meet the criteria for medical necessity (referred for physician review)",
    D.INSUFFICIENT_INFORMATION: "cannot be decided yet: the record is missing required information",
    D.NO_APPLICABLE_POLICY: "is outside the criteria this engine holds: no applicable policy",
}


def explain(case: Case, evaluation: Evaluation, kb: Knowledge, *, policy_set: str, version: str) -> Assessment:
    numbers: dict[str, int] = {}
    trees = [s.criteria for s in evaluation.services]
    if evaluation.setting is not None:
        trees.append(evaluation.setting.criteria)
    for tree in trees:
        for c in tree:
            c.citations = [numbers.setdefault(ref, len(numbers) + 1) for ref in c.sources]
    references = [_reference(kb, ref, n) for ref, n in numbers.items()]
    missing, change = _gaps(evaluation)
    return Assessment(
        determination=evaluation.determination,
        summary=summary(evaluation),
        services=evaluation.services,
        setting=evaluation.setting,
        case=case,
        missing_information=missing,
        would_change=change,
        references=references,
        related_questions=_related(evaluation, kb),
        policy_set=policy_set,
        engine_version=version,
    )


def _reference(kb: Knowledge, ref: str, n: int) -> Reference:
    src = kb.sources[ref]
    return Reference(
        n=n,
        id=src.id,
        kind=src.kind,
        title=src.title,
        issuer=src.issuer,
        year=src.year,
        identifiers=dict(src.identifiers),
    )


def leaves(criteria: list[CriterionResult], status: str) -> list[CriterionResult]:
    """The decisive criteria with ``status``: checks, or a ``not`` node as a whole ("no active
    nicotine use" is the reason, not the nicotine check under it), whose every ancestor is
    undecided the same way."""
    by_id = {c.id: c for c in criteria}

    def ancestors(c: CriterionResult) -> list[CriterionResult]:
        out = []
        while c.parent and c.parent in by_id:
            c = by_id[c.parent]
            out.append(c)
        return out

    return [
        c
        for c in criteria
        if c.status == status
        and c.logic in ("check", "not")
        and all(a.logic != "not" and a.status == status for a in ancestors(c))
    ]


def _gaps(ev: Evaluation) -> tuple[list[str], list[str]]:
    missing: dict[str, None] = {}
    change: dict[str, None] = {}
    judged: list[tuple[Determination | None, list[CriterionResult]]] = [
        (s.determination, s.criteria) for s in ev.services
    ]
    if ev.setting is not None:
        judged.append((ev.setting.determination, ev.setting.criteria))
    for det, criteria in judged:
        if det == D.INSUFFICIENT_INFORMATION:
            for c in leaves(criteria, "unknown"):
                missing.setdefault(c.to_document or c.statement, None)
        if det == D.NOT_MEDICALLY_NECESSARY:
            for c in leaves(criteria, "not_met"):
                change.setdefault(f"Not met: {c.statement}", None)
    return list(missing), list(change)


def _clause(statement: str) -> str:
    """A criterion statement as a clause inside a sentence; acronyms (MRI, SI, HbA1c) keep their case."""
    statement = statement.rstrip(".")
    first = statement.split(" ", 1)[0]
    return (
        statement
        if first[1:2].isupper() or any(ch.isdigit() for ch in first)
        else statement[:1].lower() + statement[1:]
    )


def summary(ev: Evaluation) -> str:
    """The verdict in one sentence, naming what was requested and the deciding reasons."""
    judged = [s for s in ev.services if s.policy is not None]
    names = ", ".join(_label(s) for s in ev.services) or "the requested service"
    text = f"The request for {names} {VERDICT[ev.determination]}."
    reasons = []
    for s in judged:
        if s.serves:
            continue
        if s.determination == D.MEDICALLY_NECESSARY:
            met = [_clause(c.statement) for c in s.criteria[1:] if c.depth == 1 and c.status == "met"]
            reasons.append(f"{s.code}: " + "; ".join(met) if met else f"{s.code}: criteria met")
        elif s.determination == D.NOT_MEDICALLY_NECESSARY:
            failed = [_clause(c.statement) for c in leaves(s.criteria, "not_met")][:3]
            reasons.append(f"{s.code}: not met: " + "; ".join(failed))
        elif s.determination == D.INSUFFICIENT_INFORMATION:
            unknown = [_clause(c.statement) for c in leaves(s.criteria, "unknown")][:3]
            reasons.append(f"{s.code}: not documented: " + "; ".join(unknown))
    if ev.setting is not None and ev.setting.determination is not None:
        reasons.append(
            f"{ev.setting.requested} setting: {ev.setting.determination.value.replace('_', ' ')}"
            f" (recommended: {ev.setting.recommended})"
        )
    return text + (" " + ". ".join(r[0].upper() + r[1:] for r in reasons) + "." if reasons else "")


def _label(s: ServiceResult) -> str:
    where = f" at {', '.join(s.levels)}" if s.levels else ""
    return f"{s.code}{where}"


def _related(ev: Evaluation, kb: Knowledge) -> list[str]:
    seen: dict[str, None] = {}
    for ref in [s.policy for s in ev.services] + [ev.setting.policy if ev.setting else None]:
        if ref is not None:
            for q in kb.policies[ref.id].related_questions:
                seen.setdefault(q, None)
    return list(seen)[:6]
