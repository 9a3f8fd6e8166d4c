"""What the API and the web page share: assess a case and store the article; move an article through
review, and pass a person's decision on to the prior-authorization request it came from."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from indicated.errors import InputError
from indicated.fhir.claim_response import PriorAuth
from indicated.models import Assessment
from indicated.service import repo
from indicated.service.lines import item_decision, line_decisions
from indicated.service.prior_auths import PriorAuths
from indicated.service.tables import AssessmentRow

# what a reviewer asks for, as the state it leads to
ACTIONS = {"start_review": "under_review", "approve": "approved", "reject": "rejected"}
# a person's decision in X12 306 terms: approved certifies, rejected does not
DECISIONS = {"approved": "A1", "rejected": "A3"}


def assess_and_store(
    db: Session,
    raw: bytes | str,
    *,
    json_body: bool,
    policy_set: str,
    assessment_id: str | None = None,
    owner: str | None = None,
) -> AssessmentRow:
    """Read a case (text, JSON case or FHIR Bundle), assess it and store the article as submitted (under
    ``assessment_id`` when the caller chose it, as an idempotent request does; ``owner`` is who sent it)."""
    from indicated.inputs import decode, parse_case
    from indicated.pipeline import assess

    text = raw if isinstance(raw, str) else decode(raw, source="body")
    case = parse_case(text, source="body")  # checks size and emptiness; JSON becomes a Case, text stays text
    if json_body and isinstance(case, str):
        raise InputError("body: expected a JSON object (a JSON case or a FHIR Bundle)")
    # a Bundle's case knows the resources it was read from; a JSON case is parsed, text is not
    source = "text" if isinstance(case, str) else ("fhir" if case.parts else "json")
    return store(db, assess(case, policy_set=policy_set), source=source, assessment_id=assessment_id, owner=owner)


def store(
    db: Session, assessment: Assessment, *, source: str, assessment_id: str | None = None, owner: str | None = None
) -> AssessmentRow:
    """Keep the article under ``owner``: the caller that sent the case, the only client that may read it."""
    from indicated.render.markdown import title

    return repo.create_assessment(
        db, assessment=assessment, title=title(assessment), source=source, assessment_id=assessment_id, owner=owner
    )


def review(
    db: Session,
    auths: PriorAuths,
    *,
    assessment_id: str,
    to_state: str,
    reviewer: str,
    why: str,
    on_decided: Callable[[list[PriorAuth]], object] = lambda decided: None,
) -> None:
    """Move an article through review; a decision reaches its prior-authorization request, and
    ``on_decided`` gets the requests so decided (the service notifies their PAS subscribers). The
    whole-article decision decides the items of the lines not decided one by one (service/lines.py);
    a line's own decision stands."""
    repo.transition(db, assessment_id=assessment_id, to_state=to_state, reviewer=reviewer, why=why)
    if to_state in DECISIONS:
        whole = DECISIONS[to_state]
        chosen = {c: d.decision for c, d in line_decisions(repo.audit(db, assessment_id=assessment_id)).items()}
        decided = auths.decide_items(
            assessment_id, lambda item: item_decision(item.codes, chosen, whole), reviewer=reviewer
        )
        if decided:
            on_decided(decided)


def notifier(request) -> Callable[[list[PriorAuth]], object]:
    """What to do with requests a person has just decided: notify the PAS subscriptions that follow them."""
    base = str(request.base_url).rstrip("/") + "/fhir"
    payer = request.app.state.settings.payer_name
    return lambda decided: request.app.state.subscriptions.notify(decided, base=base, payer=payer)
