"""Review per service line: a reviewer approves or rejects one requested service (a CPT line) with a
reason, instead of the whole article.

Each decision is an entry of the audit log, not a row of a table of its own: the audit log is where a
person's decisions are kept, hash-chained (tables.py), so a decision that reaches a prior-authorization
request is as tamper-evident as a whole-article one, there is one record of who decided what and no
second table to keep in step with it, and no schema change. The entry keeps the article's state
(``from_state == to_state``) and says ``service CODE approved: REASON`` in ``why``; only this module
writes entries of that form (the follow-up's entries, the only other state-keeping ones, have their own
fixed wording), and the latest entry for a code is its decision.

A decision reaches the PAS request the article came from: each Claim item carrying the code is decided
by its codes' decisions (rejected if any is rejected, approved once all are approved). A later
whole-article approve or reject decides the lines not decided one by one; a line's own decision stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from indicated.errors import InputError, NotFound, WorkflowError
from indicated.fhir.claim_response import PriorAuth
from indicated.models import Assessment
from indicated.service import repo
from indicated.service.prior_auths import PriorAuths
from indicated.service.tables import AuditEntry

__all__ = ["DECIDED", "LineDecision", "decide_line", "item_decision", "line_decisions", "line_why"]

# what a reviewer asks for on a line, as the decision it records
DECIDED = {"approve": "approved", "reject": "rejected"}
# a line's decision in X12 306 terms, as the whole article's (workflow.DECISIONS)
X12 = {"approved": "A1", "rejected": "A3"}
# the states in which lines may be decided: an article approved or rejected is closed
OPEN = ("submitted", "under_review")
_WHY = re.compile(r"service (?P<code>\S+) (?P<decision>approved|rejected)(?:: (?P<why>.*))?", re.S)


@dataclass(frozen=True)
class LineDecision:
    """A person's decision on one service line, as the audit log holds it."""

    code: str
    decision: str  # approved | rejected
    reviewer: str
    at: datetime
    why: str


def line_why(code: str, decision: str, why: str) -> str:
    """The audit entry's ``why`` for a decision on ``code``."""
    why = " ".join(why.split())
    return f"service {code} {decision}" + (f": {why}" if why else "")


def line_decisions(entries: Iterable[AuditEntry]) -> dict[str, LineDecision]:
    """Each line's decision, the latest entry for its code winning (a reviewer may change one while the
    article is open; every change stays in the log)."""
    out: dict[str, LineDecision] = {}
    for e in entries:
        if e.from_state != e.to_state or (m := _WHY.fullmatch(e.why or "")) is None:
            continue
        out[m["code"]] = LineDecision(m["code"], m["decision"], e.reviewer, e.at, m["why"] or "")
    return out


def item_decision(codes: list[str], lines: dict[str, str], whole: str | None = None) -> str | None:
    """The X12 306 decision of a Claim item carrying ``codes``: each code by its line's decision
    (``lines``: code -> approved | rejected), else by the whole article's (``whole``: A1 | A3 | None).
    Any not certified makes the item A3; all certified A1; otherwise the item waits (None)."""
    each = [X12[lines[c]] if c in lines else whole for c in codes] or [whole]
    if "A3" in each:
        return "A3"
    return "A1" if all(x == "A1" for x in each) else None


def decide_line(
    db: Session,
    auths: PriorAuths,
    *,
    assessment_id: str,
    code: str,
    action: str,
    reviewer: str,
    why: str,
    on_decided: Callable[[list[PriorAuth]], object] = lambda decided: None,
) -> LineDecision:
    """Record ``reviewer``'s decision on the service ``code`` of an open article, and pass it to the
    prior-authorization request the article came from. An article still submitted is put under review
    first, as a whole-article decision does."""
    row = repo.get_assessment(db, assessment_id=assessment_id)
    if row is None:
        raise NotFound(f"no assessment {assessment_id!r}")
    decision = DECIDED.get(action)
    if decision is None:
        raise InputError(f"action: {action!r} is not one of {', '.join(DECIDED)}")
    codes = {s.code for s in Assessment.model_validate_json(row.result).services}
    if code not in codes:
        raise InputError(f"service: {code!r} is not a service of this article ({', '.join(sorted(codes))})")
    if row.state not in OPEN:
        raise WorkflowError(f"an article that is {row.state.replace('_', ' ')} is closed: its lines cannot change")
    if row.state == "submitted":
        row = repo.transition(
            db, assessment_id=assessment_id, to_state="under_review", reviewer=reviewer, why=f"review of {code}"
        )
    repo.audit_note(
        db, assessment_id=assessment_id, reviewer=reviewer, state=row.state, why=line_why(code, decision, why)
    )
    db.commit()
    lines = line_decisions(repo.audit(db, assessment_id=assessment_id))
    chosen = {c: d.decision for c, d in lines.items()}
    decided = auths.decide_items(
        assessment_id,
        lambda item: item_decision(item.codes, chosen) if code in item.codes else item.decision,
        reviewer=reviewer,
    )
    if decided:
        on_decided(decided)
    return lines[code]
