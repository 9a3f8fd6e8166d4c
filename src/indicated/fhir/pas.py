"""Da Vinci PAS in: a `Claim/$submit` request Bundle read into a case, a `Claim/$inquire` Bundle
read into the query by example it makes (the patient, and the provider, codes and dates it names).

A request Bundle starts with a Claim (use = preauthorization) whose items carry the CPT codes; the
other entries (Patient, Condition, DocumentReference, Observation, ...) are the record. Each Claim
item becomes the ServiceRequest it stands for and each diagnosis a Condition, so the record reader
treats a Claim like an order. The answer is written by :mod:`indicated.fhir.claim_response`; the
requests are kept and decided by the service (:mod:`indicated.service.pas`).

    >>> from indicated.fhir.samples import pas_request, record_bundle
    >>> request = read_request(pas_request(record_bundle("L5-S1 disc extrusion.", ["63030"]), claim_id="c1"))
    >>> request.key, request.items
    ('urn:example:provider-claims|c1', [(1, ['63030'])])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indicated.engine import Engine
from indicated.errors import InputError
from indicated.fhir.record import billing_codes, bundle_resources, case_from_resources, validate_bundle
from indicated.kb.loader import Knowledge
from indicated.models import Case, RequestedSetting

# CMS place-of-service codes on a Claim item that say where the procedure is done
PLACE_OF_SERVICE = {"21": "inpatient", "19": "outpatient", "22": "outpatient", "24": "outpatient"}
# entries of the request that the response Bundle repeats (the ClaimResponse refers to them)
ECHOED = ("Patient", "Organization")


@dataclass(frozen=True)
class PasRequest:
    """What a PAS request Bundle says: the claim (as sent), its items' CPT codes and the case."""

    key: str  # how `$inquire` finds the request again: the Claim's identifier, else its id
    claim: dict[str, Any]
    items: list[tuple[int, list[str]]]  # each item's sequence and its CPT codes
    case: Case
    echoed: list[dict[str, Any]]
    # the submitter's transaction identifier (the request Bundle's identifier), echoed by the response Bundle
    transaction: dict[str, Any] | None = None


def read_request(body: Any, *, kb: Knowledge | None = None) -> PasRequest:
    """A `Claim/$submit` Bundle read, or one InputError naming what is wrong and where."""
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
    key = claim_key(claim)
    record = [e.resource for e in entries[1:] if e.resource.get_resource_type() not in ("ServiceRequest", "Claim")]
    orders = [_order(claim, item) for item in claim.item]
    case = case_from_resources([*record, *_diagnoses(claim), *orders], kb=kb, setting=_setting(claim))
    raw = body["entry"]
    return PasRequest(
        key=key,
        claim=raw[0]["resource"],
        items=[(item.sequence, billing_codes(order)) for item, order in zip(claim.item, orders, strict=True)],
        case=case,
        echoed=[e for e in raw[1:] if e.get("resource", {}).get("resourceType") in ECHOED],
        transaction=transaction_of(body),
    )


def transaction_of(body: dict) -> dict[str, Any] | None:
    """The Bundle's identifier, the submitter's transaction identifier that PAS responses echo."""
    ident = body.get("identifier")
    return ident if isinstance(ident, dict) and ident.get("value") else None


@dataclass(frozen=True)
class Inquiry:
    """A `Claim/$inquire` query by example (PAS: the X12 278 inquiry rules): the patient, and where the
    inquiry names them, the requesting provider, the service codes and the period of service. The
    inquiry Claim's own identifier is the inquiry's trace number, not a search key."""

    patient: frozenset[str]
    provider: str | None
    codes: frozenset[str]
    period: tuple[str, str] | None  # the inclusive dates a request's creation must fall in
    transaction: dict[str, Any] | None

    def matches(self, claim: dict, entries: list[dict]) -> bool:
        """Whether a stored request (its Claim as sent and the entries kept with it) answers the query."""
        if not self.patient & patient_keys(claim, entries):
            return False
        if self.provider and (claim.get("provider") or {}).get("reference") != self.provider:
            return False
        if self.codes and not self.codes & _item_codes(claim):
            return False
        created = str(claim.get("created") or "")[:10]
        return self.period is None or (bool(created) and self.period[0] <= created <= self.period[1])


def read_inquiry(body: Any) -> Inquiry:
    """A `Claim/$inquire` Bundle read into its query, or an InputError naming what is missing."""
    bundle = validate_bundle(body, source="inquiry")
    claims = [e["resource"] for e in body.get("entry", []) if (e.get("resource") or {}).get("resourceType") == "Claim"]
    if not bundle_resources(bundle) or not claims:
        raise InputError("inquiry: a PAS inquiry Bundle must hold the Claim that describes the request sought")
    claim = claims[0]
    patient = patient_keys(claim, body.get("entry", []))
    if not patient:
        raise InputError("inquiry.Claim.patient: name the patient (a reference or an identifier)")
    period = claim.get("billablePeriod") or {}
    start, end = str(period.get("start") or "")[:10], str(period.get("end") or "")[:10]
    return Inquiry(
        patient=frozenset(patient),
        provider=(claim.get("provider") or {}).get("reference"),
        codes=frozenset(_item_codes(claim)),
        period=(start or "0000-00-00", end or "9999-12-31") if start or end else None,
        transaction=transaction_of(body),
    )


def patient_keys(claim: dict, entries: list[dict]) -> set[str]:
    """What names the Claim's patient: the reference, and the identifiers (member ids) of the reference
    or of the Patient resource it points at among ``entries``."""
    ref = claim.get("patient") or {}
    keys = {f"ref:{ref['reference']}"} if ref.get("reference") else set()
    idents = [ref["identifier"]] if isinstance(ref.get("identifier"), dict) else []
    for entry in entries:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient" and ref.get("reference") in (
            entry.get("fullUrl"),
            f"Patient/{resource.get('id')}",
        ):
            idents += resource.get("identifier") or []
    return keys | {f"id:{i.get('system', '')}|{i['value']}" for i in idents if i.get("value")}


def _item_codes(claim: dict) -> set[str]:
    return {
        c["code"]
        for item in claim.get("item") or []
        for c in (item.get("productOrService") or {}).get("coding") or []
        if c.get("code")
    }


def claim_key(claim) -> str:
    """``system|value`` of the Claim's first identifier with a value, else ``Claim/<id>``."""
    ident = next((i for i in claim.identifier or [] if i.value), None)
    if ident is not None:
        return f"{ident.system or ''}|{ident.value}"
    if claim.id:
        return f"Claim/{claim.id}"
    raise InputError("Claim: needs an identifier (or an id) so the request can be found again")


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
