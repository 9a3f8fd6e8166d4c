"""A case note wrapped as the FHIR a client would send: a record Bundle, a CRD order-sign request and
a PAS request. Used for the examples under ``examples/``, the tests and the benchmark; also handy
for trying the interfaces on one's own notes."""

from __future__ import annotations

import base64
import uuid
from datetime import date

CPT = "http://www.ama-assn.org/go/cpt"


def record_bundle(
    text: str,
    codes: list[str],
    *,
    birth_date: str = "1970-01-01",
    gender: str = "unknown",
    authored: date | None = None,
) -> dict:
    """Patient, the note as a DocumentReference, and one draft ServiceRequest per CPT code."""
    authored = authored or date.today()
    patient = {"resourceType": "Patient", "id": "pat-1", "gender": gender, "birthDate": birth_date}
    note = {
        "resourceType": "DocumentReference",
        "id": "note-1",
        "status": "current",
        "subject": {"reference": "Patient/pat-1"},
        "date": f"{authored.isoformat()}T09:00:00Z",
        "description": "Clinic note",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(text.encode()).decode(),
                }
            }
        ],
    }
    orders = [
        {
            "resourceType": "ServiceRequest",
            "id": f"order-{i}",
            "status": "draft",
            "intent": "original-order",
            "subject": {"reference": "Patient/pat-1"},
            "authoredOn": authored.isoformat(),
            "code": {"coding": [{"system": CPT, "code": code}]},
        }
        for i, code in enumerate(codes, 1)
    ]
    coverage = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "beneficiary": {"reference": "Patient/pat-1"},
        "payor": [{"display": "Example Health Plan"}],
    }
    entries = [patient, coverage, note, *orders]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, r['id'])}", "resource": r} for r in entries],
    }


def crd_request(bundle: dict, hook: str = "order-sign") -> dict:
    """An order-sign (or order-select) CDS Hooks request for the bundle's draft orders."""
    resources = [e["resource"] for e in bundle["entry"]]
    kind = {r["resourceType"]: r for r in resources}
    orders = [r for r in resources if r["resourceType"] == "ServiceRequest"]
    context = {
        "userId": "Practitioner/example",
        "patientId": kind["Patient"]["id"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in orders]},
    }
    if hook == "order-select":
        context["selections"] = [f"ServiceRequest/{o['id']}" for o in orders]
    return {
        "hookInstance": str(uuid.uuid4()),
        "hook": hook,
        "context": context,
        "prefetch": {
            "patient": kind["Patient"],
            "coverage": _searchset([kind["Coverage"]]),
            "documents": _searchset([r for r in resources if r["resourceType"] == "DocumentReference"]),
        },
    }


def pas_request(bundle: dict, *, claim_id: str = "claim-1", place_of_service: str | None = None) -> dict:
    """A PAS request Bundle: a preauthorization Claim with one item per order, then the record."""
    resources = [e["resource"] for e in bundle["entry"]]
    orders = [r for r in resources if r["resourceType"] == "ServiceRequest"]
    items = []
    for n, order in enumerate(orders, 1):
        item = {"sequence": n, "productOrService": order["code"]}
        if place_of_service:
            item["locationCodeableConcept"] = {
                "coding": [
                    {
                        "system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
                        "code": place_of_service,
                    }
                ]
            }
        items.append(item)
    claim = {
        "resourceType": "Claim",
        "id": claim_id,
        "identifier": [{"system": "urn:example:provider-claims", "value": claim_id}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "preauthorization",
        "patient": {"reference": "Patient/pat-1"},
        "created": orders[0]["authoredOn"] if orders else date.today().isoformat(),
        "insurer": {"display": "Example Health Plan"},
        "provider": {"display": "Example Clinic"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov-1"}}],
        "item": items,
    }
    record = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "ServiceRequest"]
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:example:pas-requests", "value": claim_id},
        "type": "collection",
        "timestamp": f"{claim['created']}T09:00:00Z",
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, claim_id)}", "resource": claim}, *record],
    }


def _searchset(resources: list[dict]) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r} for r in resources],
    }
