"""Da Vinci PAS: `Claim/$submit` and `Claim/$inquire` for prior authorization.

A request Bundle starts with a Claim (use = preauthorization) whose items carry the CPT codes; the
other entries (Patient, Condition, DocumentReference, Observation, ...) are the record. We assess the
items against it and answer with a response Bundle that starts with a ClaimResponse: per item, the
X12 306 review action on its ``submitted`` adjudication, A1 when the criteria are met and A4 (pended)
otherwise, with the reasons and the documentation requested in ``processNote``. The engine never
answers A3 (not certified): a person does, and :meth:`PriorAuths.decide` records it. Each
ClaimResponse says, in our own extension, whether a person has reviewed it.

The state of each request is kept so `$inquire` answers with its current state.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from indicated.engine import Engine
from indicated.errors import InputError
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
from indicated.fhir.record import billing_codes, bundle_resources, case_from_resources, validate_bundle
from indicated.kb.loader import Knowledge
from indicated.models import Assessment, Determination, RequestedSetting

# CMS place-of-service codes on a Claim item that say where the procedure is done
PLACE_OF_SERVICE = {"21": "inpatient", "19": "outpatient", "22": "outpatient", "24": "outpatient"}


class Item(BaseModel):
    sequence: int
    codes: list[str]
    determination: Determination
    notes: list[str]
    decision: str | None = None  # a person's X12 306 code, once reviewed
    reviewer: str | None = None


class PriorAuth(BaseModel):
    """One prior-authorization request and where it stands."""

    id: str
    claim: dict[str, Any]
    items: list[Item]
    assessment_id: str
    created: str
    echoed: list[dict] = Field(default_factory=list)

    @property
    def reviewed(self) -> bool:
        return any(i.decision is not None for i in self.items)


class PriorAuths:
    """Requests by claim identifier. This one keeps them in memory (bounded); the service subclasses
    it to keep them in its database, overriding ``save``, ``find`` and ``keys_for``."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: OrderedDict[str, PriorAuth] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def save(self, key: str, auth: PriorAuth) -> None:
        with self._lock:
            self._items[key] = auth.model_copy(deep=True)
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def find(self, key: str) -> PriorAuth | None:
        with self._lock:
            auth = self._items.get(key)
            return auth.model_copy(deep=True) if auth else None

    def keys_for(self, assessment_id: str) -> list[str]:
        with self._lock:
            return [k for k, a in self._items.items() if a.assessment_id == assessment_id]

    def decide_all(self, assessment_id: str, code: str, *, reviewer: str) -> None:
        """A person's decision on every item of the request an article came from (if any)."""
        for key in self.keys_for(assessment_id):
            auth = self.find(key)
            for item in auth.items if auth else []:
                self.decide(key, item.sequence, code, reviewer=reviewer)

    def decide(self, key: str, sequence: int, code: str, *, reviewer: str) -> PriorAuth:
        """A person's decision on one item (A1 or A3); only people may answer A3."""
        if code not in REVIEW_ACTIONS:
            raise InputError(f"decision: {code!r} is not one of {', '.join(REVIEW_ACTIONS)}")
        auth = self.find(key)
        if auth is None:
            raise KeyError(key)
        item = next((i for i in auth.items if i.sequence == sequence), None)
        if item is None:
            raise KeyError(f"{key} item {sequence}")
        item.decision, item.reviewer = code, reviewer
        self.save(key, auth)
        return auth


def submit(
    body: Any,
    *,
    store: PriorAuths,
    keep=lambda aid, a: None,
    kb: Knowledge | None = None,
    policy_set: str = "clinical",
) -> dict:
    """Assess a PAS request Bundle; the response Bundle (ClaimResponse first)."""
    from indicated.pipeline import assess

    kb = kb or Engine.bundled().knowledge
    bundle = validate_bundle(body, source="request")
    entries = [e for e in bundle.entry or [] if e.resource is not None]
    if not entries or entries[0].resource.get_resource_type() != "Claim":
        raise InputError("request: the first entry of a PAS request Bundle must be the Claim")
    claim = entries[0].resource
    if claim.use != "preauthorization":
        raise InputError(f"request.entry[0].use: expected 'preauthorization', got {claim.use!r}")
    if not claim.item:
        raise InputError("request.entry[0].item: the Claim lists no items to authorize")
    record = [e.resource for e in entries[1:] if e.resource.get_resource_type() not in ("ServiceRequest", "Claim")]
    orders = [_order(claim, item) for item in claim.item]
    case = case_from_resources([*record, *_diagnoses(claim), *orders], kb=kb, setting=_setting(claim))
    assessment = assess(case, policy_set=policy_set, kb=kb)
    aid = uuid.uuid4().hex
    keep(aid, assessment)
    items = [
        _item(item.sequence, billing_codes(order), assessment) for item, order in zip(claim.item, orders, strict=True)
    ]
    key = _claim_key(claim)
    raw = body["entry"]
    echoed = [e for e in raw[1:] if e.get("resource", {}).get("resourceType") in ("Patient", "Organization")]
    auth = PriorAuth(
        id=uuid.uuid4().hex,
        claim=raw[0]["resource"],
        items=items,
        assessment_id=aid,
        created=_now(),
        echoed=echoed,
    )
    store.save(key, auth)
    return response_bundle(auth)


def inquire(body: Any, *, store: PriorAuths) -> dict:
    """The current state of a submitted request, found by the Claim's identifier (or id)."""
    bundle = validate_bundle(body, source="inquiry")
    claim = next((r for r in bundle_resources(bundle) if r.get_resource_type() == "Claim"), None)
    if claim is None:
        raise InputError("inquiry: a PAS inquiry Bundle must hold the Claim to look up")
    key = _claim_key(claim)
    auth = store.find(key)
    if auth is None:
        raise KeyError(key)
    return response_bundle(auth)


def response_bundle(auth: PriorAuth) -> dict:
    """The PAS response Bundle for the request as it stands now."""
    claim = auth.claim
    codes = [review_action(i.determination, human_decision=i.decision) for i in auth.items]
    notes: list[str] = []
    items = []
    for item, code in zip(auth.items, codes, strict=True):
        numbers = []
        for text in item.notes if code != "A1" else []:
            notes.append(text)
            numbers.append(len(notes))
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
    pended = "A4" in codes
    response: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "id": auth.id,
        "extension": [{"url": HUMAN_REVIEW, "valueBoolean": auth.reviewed}],
        "identifier": [{"system": "urn:indicated:prior-authorization", "value": auth.id}],
        "status": "active",
        "type": claim["type"],
        "use": "preauthorization",
        "patient": claim["patient"],
        "created": auth.created,
        "insurer": claim.get("insurer") or {"display": "not named in the request"},
        "requestor": claim.get("provider"),
        "request": {"reference": f"Claim/{claim['id']}"} if claim.get("id") else {"identifier": _first(claim)},
        "outcome": "queued" if pended else "complete",
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
        "identifier": {"system": "urn:indicated:pas-response", "value": uuid.uuid4().hex},
        "type": "collection",
        "timestamp": _now(),
        "entry": [{"fullUrl": f"urn:uuid:{auth.id}", "resource": response}, *auth.echoed],
    }


def _disposition(codes: list[str], reviewed: bool) -> str:
    who = "after review by a person" if reviewed else "by the engine, not yet reviewed by a person"
    if all(c == "A1" for c in codes):
        return f"Certified in total {who}."
    if "A4" in codes:
        return f"Pended for documentation or physician review ({who}); see the notes for what is needed."
    return f"Decided {who}: " + ", ".join(f"item {n}: {REVIEW_ACTIONS[c]}" for n, c in enumerate(codes, 1)) + "."


def _item(sequence: int, codes: list[str], assessment: Assessment) -> Item:
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


def _order(claim, item):
    """A Claim item as the ServiceRequest it stands for, so the record reader treats both alike."""
    from fhir.resources.R4B.servicerequest import ServiceRequest

    data = {
        "resourceType": "ServiceRequest",
        "id": f"{claim.id or 'claim'}-item-{item.sequence}",
        "status": "active",
        "intent": "order",
        "subject": claim.patient.model_dump(mode="json", exclude_none=True),
        "code": item.productOrService.model_dump(mode="json", exclude_none=True),
    }
    if item.bodySite is not None:
        data["bodySite"] = [item.bodySite.model_dump(mode="json", exclude_none=True)]
    if claim.created:
        data["authoredOn"] = str(claim.created)[:10]
    return ServiceRequest.model_validate(data)


def _diagnoses(claim) -> list:
    """The Claim's diagnosis codes as Conditions on the problem list."""
    from fhir.resources.R4B.condition import Condition

    out = []
    for dx in claim.diagnosis or []:
        if dx.diagnosisCodeableConcept is not None:
            out.append(
                Condition.model_validate(
                    {
                        "resourceType": "Condition",
                        "id": f"{claim.id or 'claim'}-dx-{dx.sequence}",
                        "subject": claim.patient.model_dump(mode="json", exclude_none=True),
                        "code": dx.diagnosisCodeableConcept.model_dump(mode="json", exclude_none=True),
                    }
                )
            )
    return out


def _setting(claim) -> RequestedSetting | None:
    for item in claim.item or []:
        place = item.locationCodeableConcept
        for coding in (place.coding or []) if place is not None else []:
            if coding.code in PLACE_OF_SERVICE:
                return RequestedSetting(requested=PLACE_OF_SERVICE[coding.code])
    return None


def _claim_key(claim) -> str:
    ident = next((i for i in claim.identifier or [] if i.value), None)
    if ident is not None:
        return f"{ident.system or ''}|{ident.value}"
    if claim.id:
        return f"Claim/{claim.id}"
    raise InputError("Claim: needs an identifier (or an id) so the request can be found again")


def _first(claim: dict) -> dict | None:
    return next(iter(claim.get("identifier") or []), None)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
