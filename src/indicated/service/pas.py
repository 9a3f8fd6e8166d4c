"""Da Vinci PAS: `Claim/$submit` and `Claim/$inquire` for prior authorization.

`submit` reads the request Bundle (:mod:`indicated.fhir.pas`), assesses the Claim's items against
the record, keeps the request and answers with the response Bundle
(:mod:`indicated.fhir.claim_response`); `inquire` answers with the request's current state, a
person's decisions (:meth:`PriorAuths.decide`) included. An unknown claim is `NotFound`.

A request a person has decided is never replaced by a later `$submit` with the same key. In Da
Vinci PAS a change to a submitted request is a new Claim (the PAS Claim Update profile: its own
identifier, ``Claim.related`` naming the prior Claim), so a Claim sent again under the same
identifier is the same request sent twice. Sent unchanged, it is a duplicate and is answered with
the request as it stands (the person's decision included, as `$inquire` would); sent with other
content, it would silently rewrite a decided request, and is refused with 409 (an
OperationOutcome) instead. A request nobody has decided yet is assessed again and replaced.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from indicated.engine import Engine
from indicated.errors import WorkflowError
from indicated.fhir.claim_response import PriorAuth, inquiry_result, judge_item, now, response_bundle
from indicated.fhir.pas import read_inquiry, read_request
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
    payer: str | None = None,
) -> dict:
    """Assess a PAS request Bundle and keep it; the response Bundle (ClaimResponse first).
    ``keep(id, assessment)`` stores the article the request's items were judged by; ``payer`` names the
    plan answering when the Claim names no insurer."""
    from indicated.pipeline import assess

    kb = kb or Engine.bundled().knowledge
    request = read_request(body, kb=kb)
    decided = _decided(store, request.key, request.claim)
    if decided is not None:
        return response_bundle(decided, transaction=request.transaction, payer=payer)
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
        transaction=request.transaction,
    )
    decided = _decided(store, request.key, request.claim)  # a person may have decided while we assessed
    if decided is not None:
        return response_bundle(decided, transaction=request.transaction, payer=payer)
    store.save(request.key, auth)
    return response_bundle(auth, payer=payer)


def _decided(store: PriorAuths, key: str, claim: dict) -> PriorAuth | None:
    """The stored request with this key if a person has decided it and ``claim`` is the same Claim
    again; WorkflowError (409) if it was decided and ``claim`` differs; None if nobody decided it."""
    kept = store.find(key)
    if kept is None or not kept.reviewed:
        return None
    if kept.claim != claim:
        raise WorkflowError(
            f"the prior-authorization request for claim {key} has been decided by a person and cannot be "
            "replaced; send a changed request as a PAS Claim Update (a new identifier, Claim.related naming this one)"
        )
    return kept


def inquire(body: Any, *, store: PriorAuths, payer: str | None = None) -> dict:
    """The requests an inquiry describes (PAS $inquire, query by example: the patient, and the provider,
    service codes and period where it names them), each as it stands now; a Parameters with 0..* response
    Bundles, each echoing the inquiry Bundle's identifier."""
    query = read_inquiry(body)
    found = [auth for auth in store.all() if query.matches(auth.claim, auth.echoed)]
    return inquiry_result([response_bundle(a, transaction=query.transaction, payer=payer) for a in found])
