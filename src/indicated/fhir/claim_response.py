"""Da Vinci PAS out: the response Bundle, a ClaimResponse first, for a prior-authorization request
as it stands now.

Per item, the X12 306 review action on its ``submitted`` adjudication: A1 when the criteria are met
and A4 (pended) otherwise, with the reasons and the documentation requested in ``processNote``. The
engine never answers A3 (not certified): a person does, and the item's ``decision`` records it. Each
ClaimResponse says, in our own extension, whether a person has reviewed it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from indicated.fhir.coverage import (
    ADJUDICATION,
    HUMAN_REVIEW,
    REVIEW_ACTIONS,
    judge,
    review_action,
    review_action_extension,
    to_document,
    unmet,
)
from indicated.models import Assessment, Determination

# our own trace number of a response: PAS asks for a "urn:trnorg:<TRN03>" scheme, TRN03 naming the
# organization that assigns it
TRACE_SYSTEM = "urn:trnorg:indicated"
# the plan named when neither the Claim nor the service's settings name one
PAYER = "indicated"


class Item(BaseModel):
    sequence: int
    codes: list[str]
    determination: Determination
    notes: list[str]
    decision: str | None = None  # a person's X12 306 code, once reviewed
    reviewer: str | None = None


class PriorAuth(BaseModel):
    """One prior-authorization request and where it stands: what a ClaimResponse is written from."""

    id: str
    claim: dict[str, Any]
    items: list[Item]
    assessment_id: str
    created: str
    echoed: list[dict] = Field(default_factory=list)
    transaction: dict | None = None  # the request Bundle's identifier (the submitter's transaction)

    @property
    def reviewed(self) -> bool:
        return any(i.decision is not None for i in self.items)


def judge_item(sequence: int, codes: list[str], assessment: Assessment) -> Item:
    """What the engine says about one Claim item: the determination of its codes, and why."""
    determination, deciding = judge(codes, assessment.services)
    notes: list[str] = []
    for s in deciding:
        if s.determination == Determination.INSUFFICIENT_INFORMATION:
            notes += [f"CPT {s.code}: document {x}" for x in to_document(s)]
        elif s.determination == Determination.NOT_MEDICALLY_NECESSARY:
            notes += [f"CPT {s.code}: not met: {x}; referred to a physician reviewer" for x in unmet(s)]
        elif s.determination == Determination.NO_APPLICABLE_POLICY:
            notes.append(f"CPT {s.code}: no criteria in the indicated library; a person must review it")
    if not deciding:
        notes.append("No CPT code on this item; a person must review it")
    return Item(sequence=sequence, codes=codes, determination=determination, notes=notes)


def response_bundle(auth: PriorAuth, *, transaction: dict | None = None, payer: str | None = None) -> dict:
    """The PAS response Bundle for the request as it stands now. ``transaction`` is the identifier of the
    Bundle being answered (an inquiry's; by default the request's), which PAS has the response echo;
    ``payer`` names the health plan answering when the Claim names no insurer."""
    claim = auth.claim
    codes = [review_action(i.determination, human_decision=i.decision) for i in auth.items]
    notes: list[str] = []
    items = []
    for item, code in zip(auth.items, codes, strict=True):
        numbers = []
        # an add-on item judged with its primary has the primary's notes: one note, numbered once
        for text in item.notes if code != "A1" else []:
            if text not in notes:
                notes.append(text)
            numbers.append(notes.index(text) + 1)
        entry: dict[str, Any] = {
            "itemSequence": item.sequence,
            "adjudication": [
                {
                    "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                    "extension": [review_action_extension(code, number=f"{auth.id}-{item.sequence}")],
                }
            ],
        }
        if numbers:
            entry["noteNumber"] = numbers
        items.append(entry)
    insurer, extra = _insurer(claim, payer)
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": auth.id,
        "extension": [{"url": HUMAN_REVIEW, "valueBoolean": auth.reviewed}],
        # PAS: the Claim's trace numbers come back ("urn:trnorg:<TRN03>" schemes), then our own trace number
        "identifier": [*(claim.get("identifier") or []), {"system": TRACE_SYSTEM, "value": auth.id}],
        "status": "active",
        "type": claim["type"],
        "use": "preauthorization",
        "patient": claim["patient"],
        "created": auth.created,
        "insurer": insurer,
        "requestor": claim.get("provider"),
        "request": {"reference": f"Claim/{claim['id']}"} if claim.get("id") else {"identifier": _first(claim)},
        # PAS 2.2 binds outcome to complete | error | partial: a pended item (A4) is a complete answer
        # whose item says "pended", as the PAS pended-response example shows
        "outcome": "complete",
        "disposition": _disposition(codes, auth.reviewed),
        "item": items,
    }
    if all(c == "A1" for c in codes):
        response["preAuthRef"] = auth.id
    if notes:
        response["processNote"] = [{"number": n, "type": "display", "text": t} for n, t in enumerate(notes, 1)]
    response = {k: v for k, v in response.items() if v is not None}
    return {
        "resourceType": "Bundle",
        # PAS response Bundle: identifier 1..1, the submitted transaction identifier
        "identifier": transaction
        or auth.transaction
        or {"system": "urn:indicated:pas-response", "value": uuid.uuid4().hex},
        "type": "collection",
        "timestamp": now(),
        "entry": [{"fullUrl": f"urn:uuid:{auth.id}", "resource": response}, *auth.echoed, *extra],
    }


def _insurer(claim: dict, payer: str | None) -> tuple[dict, list[dict]]:
    """The ClaimResponse's insurer (1..1): the Claim's, else an Organization for the plan this service
    answers for, carried in the response Bundle; never a name made up for the occasion."""
    if claim.get("insurer"):
        return claim["insurer"], []
    org_id = uuid.uuid5(uuid.NAMESPACE_URL, f"indicated:payer:{payer or PAYER}")
    org = {"resourceType": "Organization", "id": org_id.hex, "active": True, "name": payer or PAYER}
    return {"reference": f"urn:uuid:{org_id}", "display": org["name"]}, [
        {"fullUrl": f"urn:uuid:{org_id}", "resource": org}
    ]


def inquiry_result(bundles: list[dict]) -> dict:
    """The `$inquire` output: a Parameters with one response Bundle per request found (0..*)."""
    return {"resourceType": "Parameters", "parameter": [{"name": "return", "resource": b} for b in bundles]}


def now() -> str:
    """The current time as FHIR writes it (UTC, whole seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _disposition(codes: list[str], reviewed: bool) -> str:
    who = "after review by a person" if reviewed else "by the engine, not yet reviewed by a person"
    if all(c == "A1" for c in codes):
        return f"Certified in total {who}."
    if "A4" in codes:
        return f"Pended for documentation or physician review ({who}); see the notes for what is needed."
    return f"Decided {who}: " + ", ".join(f"item {n}: {REVIEW_ACTIONS[c]}" for n, c in enumerate(codes, 1)) + "."


def _first(claim: dict) -> dict | None:
    return next(iter(claim.get("identifier") or []), None)
