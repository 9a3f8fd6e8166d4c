"""Conformance an EHR and a payer would certify (issue 18): every CDS Hooks response the service gives
for the dev and cervical cases, on every hook, and the official CRD examples, checked against the CDS
Hooks 2.0 response shape and the CRD 2.2 coverage-information rules; every PAS response Bundle, on
$submit and $inquire, against the PAS 2.2 required elements and bindings. The checks themselves are
shown to catch what they look for."""

from __future__ import annotations

import copy
import json

import pytest

from conformance import COVERAGE_INFORMATION as CI
from conformance import (
    REVIEW_ACTION,
    REVIEW_ACTION_CODE,
    X12_306,
    cds_response_problems,
    coverage_information_problems,
    pas_response_problems,
)
from conformance import pas_response_problems as pas_problems
from conftest import CERVICAL_CASES, ROOT, SHARED_CASES, load_cases, make_client
from ehr import fake_ehr
from indicated.fhir.samples import crd_request, pas_request, record_bundle

CASES = load_cases(SHARED_CASES) + load_cases(CERVICAL_CASES)[::3]
CRD_EXAMPLES = ROOT.parent / "shared" / "fhir" / "crd"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_client(tmp_path_factory.mktemp("conformance"))


def _codes(text: str) -> list[str]:
    from indicated.pipeline import assess

    return [s.code for s in assess(text).services] or ["63030"]


def _as_hook(body: dict, hook: str) -> dict:
    body = copy.deepcopy(body)
    body["hook"] = hook
    if hook == "order-dispatch":
        body["context"]["dispatchedOrders"] = body["context"].pop("draftOrders")
        body["context"]["performer"] = "Practitioner/surgeon-1"
    if hook == "order-select":
        body["context"]["selections"] = [
            f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in body["context"]["draftOrders"]["entry"]
        ]
    return body


@pytest.mark.parametrize("hook", ["order-sign", "order-select", "order-dispatch"])
def test_every_crd_response_conforms(client, hook):
    problems = []
    for name, case in CASES:
        body = _as_hook(crd_request(record_bundle(case["text"], _codes(case["text"]))), hook)
        res = client.post(f"/cds-services/indicated-{hook}", json=body)
        assert res.status_code == 200, f"{name}: {res.text}"
        problems += [f"{name}: {p}" for p in cds_response_problems(res.json())]
    example = CRD_EXAMPLES / "CRDServiceRequest.json"
    res = client.post("/cds-services/indicated-order-sign", json=json.loads(example.read_text()))
    problems += [f"{example.name}: {p}" for p in cds_response_problems(res.json())]
    assert not problems


def test_the_official_example_without_prefetch_conforms(client):
    """CRDServiceRequest3 prefetches nothing: the service reads the Coverage and the record from the
    client's FHIR server (a stand-in here), so its coverage information names that Coverage."""
    body = json.loads((CRD_EXAMPLES / "CRDServiceRequest3.json").read_text())
    client.app.state.ehr_transport, _ = fake_ehr(body["fhirAuthorization"]["access_token"])
    res = client.post("/cds-services/indicated-order-sign", json=body)
    assert res.status_code == 200
    assert cds_response_problems(res.json()) == []


def test_every_pas_response_conforms_on_submit_and_inquire(client):
    problems = []
    for n, (name, case) in enumerate(CASES):
        body = pas_request(record_bundle(case["text"], _codes(case["text"])), claim_id=f"conf-{n}")
        body["identifier"] = {"system": "urn:example:submitter-transactions", "value": f"T{n}"}
        res = client.post("/fhir/Claim/$submit", json=body)
        assert res.status_code == 200, f"{name}: {res.text}"
        problems += [f"{name}: {p}" for p in pas_response_problems(res.json())]
    inquiry = {
        "resourceType": "Bundle",
        "identifier": {"value": "I1"},
        "type": "collection",
        "entry": [body["entry"][0]],
    }
    out = client.post("/fhir/Claim/$inquire", json=inquiry).json()
    assert out["resourceType"] == "Parameters" and out["parameter"]
    problems += [f"inquiry: {p}" for r in out["parameter"] for p in pas_response_problems(r["resource"])]
    assert not problems


# --- the checks catch what they look for ----------------------------------------------------------------


def _info(**values) -> dict:
    subs = [{"url": "coverage", "valueReference": {"reference": "Coverage/c1"}}]
    subs += [{"url": url.replace("_", "-"), "valueCode": v} for url, v in values.items()]
    subs += [{"url": "date", "valueDate": "2026-12-05"}, {"url": "coverage-assertion-id", "valueString": "a1"}]
    return {"url": CI, "extension": subs}


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"covered": "conditional", "pa_needed": "auth-needed"}, "crd-ci-q3"),
        ({"covered": "not-covered", "pa_needed": "auth-needed"}, "crd-ci-q2"),
        ({"covered": "indeterminate"}, "crd-ci-q9"),
        ({"covered": "maybe"}, "required value set"),
        ({"pa_needed": "auth-needed"}, "covered: 0 repetitions"),
    ],
)
def test_the_coverage_information_check_catches_each_rule(values, problem):
    assert any(problem in p for p in coverage_information_problems(_info(**values)))
    assert coverage_information_problems(_info(covered="covered", pa_needed="auth-needed")) == []


def test_the_cds_and_pas_checks_catch_a_bad_response():
    card = {"summary": "x" * 150, "indicator": "urgent", "source": {"label": ""}, "links": []}
    problems = cds_response_problems({"cards": [card], "systemActions": []})
    assert len(problems) == 3
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": "2026-12-05T00:00:00Z",
        "entry": [
            {
                "fullUrl": "urn:uuid:1",
                "resource": {
                    "resourceType": "ClaimResponse",
                    "status": "active",
                    "type": {"text": "professional"},
                    "use": "preauthorization",
                    "patient": {"reference": "Patient/p"},
                    "created": "2026-12-05",
                    "insurer": {"display": "Plan"},
                    "outcome": "queued",
                    "item": [
                        {
                            "itemSequence": 1,
                            "noteNumber": [4],
                            "adjudication": [
                                {
                                    "category": {"coding": [{"code": "submitted"}]},
                                    "extension": [
                                        {
                                            "url": REVIEW_ACTION,
                                            "extension": [
                                                {
                                                    "url": REVIEW_ACTION_CODE,
                                                    "valueCodeableConcept": {
                                                        "coding": [{"system": X12_306, "code": "Z9"}]
                                                    },
                                                }
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                },
            }
        ],
    }
    problems = pas_problems(bundle)
    for expected in ("Bundle.identifier", "ClaimResponse.request", "outcome", "noteNumber", "X12 306"):
        assert any(expected in p for p in problems), expected
