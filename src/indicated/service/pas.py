"""Da Vinci PAS: `Claim/$submit` and `Claim/$inquire` for prior authorization.

`submit` reads the request Bundle (:mod:`indicated.fhir.pas`), assesses the Claim's items against
the record, keeps the request and answers with the response Bundle
(:mod:`indicated.fhir.claim_response`); `inquire` answers with the request's current state, a
person's decisions (:meth:`PriorAuths.decide`) included. An unknown claim is `NotFound`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from indicated.engine import Engine
from indicated.fhir.claim_response import PriorAuth, judge_item, now, response_bundle
from indicated.fhir.pas import inquiry_key, read_request
from indicated.kb.loader import Knowledge
from indicated.models import Assessment
from indicated.service.prior_auths import PriorAuths


def submit(
    body: Any,
    *,
    store: PriorAuths,
    keep: Callable[[str, Assessment], None] = lambda aid, a: None,
    kb: Knowledge | None = None,
    policy_set: str = "clinical",
) -> dict:
    """Assess a PAS request Bundle and keep it; the response Bundle (ClaimResponse first).
    ``keep(id, assessment)`` stores the article the request's items were judged by."""
    from indicated.pipeline import assess

    kb = kb or Engine.bundled().knowledge
    request = read_request(body, kb=kb)
    assessment = assess(request.case, policy_set=policy_set, kb=kb)
    aid = uuid.uuid4().hex
    keep(aid, assessment)
    auth = PriorAuth(
        id=uuid.uuid4().hex,
        claim=request.claim,
        items=[judge_item(sequence, codes, assessment) for sequence, codes in request.items],
        assessment_id=aid,
        created=now(),
        echoed=request.echoed,
    )
    store.save(request.key, auth)
    return response_bundle(auth)


def inquire(body: Any, *, store: PriorAuths) -> dict:
    """The current state of a submitted request, found by the Claim's identifier (or id)."""
    return response_bundle(store.get(inquiry_key(body)))
