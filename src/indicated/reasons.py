"""Which criteria decided a determination, worded as clauses that fit inside a sentence.

Pure functions of the criteria an Assessment carries, beside the models so that explain, render and
the FHIR answers share them without importing one another.
"""

from __future__ import annotations

from indicated.models import CriterionResult, Determination, ServiceResult

__all__ = [
    "checklist",
    "clause",
    "deciding",
    "decisive",
    "excluded",
    "leaves",
    "lost_alternatives",
    "met_through",
    "record_words",
    "reversing",
    "turning_points",
]

D = Determination


def _ancestors(c: CriterionResult, by_id: dict[str, CriterionResult]) -> list[CriterionResult]:
    out = []
    while c.parent and c.parent in by_id:
        c = by_id[c.parent]
        out.append(c)
    return out


def leaves(criteria: list[CriterionResult], status: str) -> list[CriterionResult]:
    """The decisive criteria with ``status``: checks, or a ``not`` node as a whole ("no active
    nicotine use" is the reason, not the nicotine check under it), whose every ancestor is
    undecided the same way."""
    by_id = {c.id: c for c in criteria}
    return [
        c
        for c in criteria
        if c.status == status
        and c.logic in ("check", "not")
        and all(a.logic != "not" and a.status == status for a in _ancestors(c, by_id))
    ]


def lost_alternatives(criteria: list[CriterionResult]) -> set[str]:
    """The criteria not met under an alternative ("any") that another branch met: their words decided
    nothing ("recurrent herniation" failing beside a met "spondylolisthesis")."""
    by_id = {c.id: c for c in criteria}
    return {
        c.id
        for c in criteria
        if c.status != "met" and any(a.logic == "any" and a.status == "met" for a in _ancestors(c, by_id))
    }


def clause(statement: str) -> str:
    """A criterion statement as a clause inside a sentence; acronyms (MRI, SI, HbA1c) keep their case."""
    statement = statement.rstrip(".")
    first = statement.split(" ", 1)[0]
    return (
        statement
        if first[1:2].isupper() or any(ch.isdigit() for ch in first)
        else statement[:1].lower() + statement[1:]
    )


def decisive(s: ServiceResult) -> list[CriterionResult]:
    """The criteria that decided a primary service: the met top-level criteria when it is necessary
    (each through the alternative that met it), the failed ones when it is not, the undocumented ones
    when it cannot be decided."""
    if s.determination == D.MEDICALLY_NECESSARY:
        return [met_through(c, s.criteria) for c in s.criteria[1:] if c.depth == 1 and c.status == "met"]
    status = {D.NOT_MEDICALLY_NECESSARY: "not_met", D.INSUFFICIENT_INFORMATION: "unknown"}.get(s.determination)
    return leaves(s.criteria, status) if status else []


def record_words(c: CriterionResult) -> list[str]:
    """The record's words that decided a criterion, each on one line as a quote needs them."""
    return [" ".join(e.text.split()) for e in c.evidence]


def deciding(s: ServiceResult) -> list[str]:
    """The decisive criteria as clauses that fit inside a sentence."""
    return [clause(c.statement) for c in decisive(s)]


def met_through(c: CriterionResult, criteria: list[CriterionResult], steps: int | None = None) -> CriterionResult:
    """A met ``any`` criterion is met through one alternative: "foot drop" says why conservative care
    could be skipped, "at least 6 weeks of care failed, unless a red flag" does not. ``steps`` stops
    the descent early, for readers who need the branch ("danger signs") more than the leaf."""
    while c.logic == "any" and steps != 0:
        child = next((k for k in criteria if k.parent == c.id and k.status == "met"), None)
        if child is None:
            break
        c, steps = child, None if steps is None else steps - 1
    return c


def reversing(criteria: list[CriterionResult]) -> list[CriterionResult]:
    """For a request that is met, the findings whose documentation would reverse it: what each met
    exclusion (a ``not`` node) excludes, where that exclusion alone holds the answer up. An exclusion
    that is one of several met alternatives ("a first operation, or a revision with a red flag") would
    not flip the answer if it failed, so it is not named."""
    by_id = {c.id: c for c in criteria}

    def alone(c: CriterionResult) -> bool:
        while c.parent in by_id:
            parent = by_id[c.parent]
            if parent.logic == "any" and any(
                k.status == "met" for k in criteria if k.parent == parent.id and k is not c
            ):
                return False
            c = parent
        return True

    excluded = {c.id for c in leaves(criteria, "met") if c.logic == "not" and alone(c)}
    return [c for c in criteria if c.parent in excluded]


def turning_points(determination: Determination | None, criteria: list[CriterionResult]) -> list[CriterionResult]:
    """The criteria that would change a determination: the undocumented ones when it cannot be decided,
    the failed ones when it is not met, and the findings that would reverse it when it is met."""
    if determination == D.INSUFFICIENT_INFORMATION:
        return leaves(criteria, "unknown")
    if determination == D.NOT_MEDICALLY_NECESSARY:
        return leaves(criteria, "not_met")
    if determination == D.MEDICALLY_NECESSARY:
        return reversing(criteria)
    return []


# the order a reader needs the criteria in: what stands in the way, what is missing, then what holds
_FIRST = {"not_met": 0, "unknown": 1, "met": 2}


def checklist(criteria: list[CriterionResult]) -> list[CriterionResult]:
    """The criteria that decided a tree, one line each, failed and undocumented first, then met.

    The tree's own root restates the policy, so its parts are the criteria when it is an ``all``; a root
    of alternatives (the setting's "any reason for a stay") is itself the one criterion. A met criterion
    is shown through the alternative that met it, its subtree collapsed, because the branches under it
    decided nothing; a failed or undocumented ``all`` is shown by its parts that failed or are missing,
    because those are what the record must change. Each line then carries the words of one
    level only, so no quote is repeated under its parent.
    """
    if not criteria:
        return []
    root = criteria[0]
    tops = [c for c in criteria if c.parent == root.id] if root.logic == "all" else [root]
    shown: list[CriterionResult] = []
    for top in tops:
        shown += [met_through(top, criteria)] if top.status == "met" else _open(top, criteria)
    unique = list({c.id: c for c in shown}.values())
    return sorted(unique, key=lambda c: _FIRST[c.status])


def excluded(c: CriterionResult, criteria: list[CriterionResult]) -> CriterionResult | None:
    """What a failed exclusion found: the met check under a ``not`` node ("active smoking is
    documented"), so the article states the fact instead of a negation that failed ("no nicotine use: not
    met"); None for any other criterion."""
    if c.logic != "not" or c.status != "not_met":
        return None
    return next((k for k in criteria if k.parent == c.id and k.status == "met"), None)


def _open(c: CriterionResult, criteria: list[CriterionResult]) -> list[CriterionResult]:
    """A failed or undocumented criterion by what the record must change: the parts of an ``all`` that
    failed the same way, and the alternatives of an ``any`` that no words decided (each then says "not
    mentioned"); anything else (a check, an exclusion, alternatives the record's words ruled out) is one
    criterion as it stands."""
    if c.logic != "all" and not (c.logic == "any" and not c.evidence):
        return [c]
    parts = [k for k in criteria if k.parent == c.id and k.status == c.status]
    return [x for k in parts for x in _open(k, criteria)] or [c]
