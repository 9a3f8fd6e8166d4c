"""A stand-in for an EHR's FHIR server, as a CDS Hooks call names it (``fhirServer``), for the tests of
prefetch keys the client left out: it answers the patient's Patient and active Coverage, an empty
searchset for anything else, and refuses a request without the access token it granted."""

from __future__ import annotations

import json

import httpx


def fake_ehr(token: str, patient: str = "123") -> tuple[httpx.MockTransport, list[str]]:
    """The transport to give the service (``app.state.ehr_transport``) and the queries it was sent."""
    asked: list[str] = []
    coverage = {
        "resourceType": "Coverage",
        "id": "cov-1",
        "status": "active",
        "beneficiary": {"reference": f"Patient/{patient}"},
        "payor": [{"display": "Example Health Plan"}],
    }

    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.raw_path.decode().split("/fhir/crd/", 1)[-1]
        asked.append(query)
        if request.headers.get("authorization") != f"Bearer {token}":
            return httpx.Response(401)
        if query == f"Patient/{patient}":
            body = {"resourceType": "Patient", "id": patient, "gender": "female", "birthDate": "1970-01-01"}
        else:
            found = [coverage] if query.startswith(f"Coverage?patient={patient}") else []
            body = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in found]}
        return httpx.Response(200, content=json.dumps(body), headers={"content-type": "application/fhir+json"})

    return httpx.MockTransport(answer), asked
