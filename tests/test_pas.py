"""Da Vinci PAS over HTTP: $submit answers A1 or A4 per item (never A3 by itself), says whether a
person reviewed it, and $inquire returns the current state, including a person's decision."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from conftest import ROOT, SHARED_CASES, load_cases, make_client
from indicated.fhir.coverage import HUMAN_REVIEW, REVIEW_ACTION, X12_306
from indicated.fhir.pas import PriorAuths, submit
from indicated.fhir.samples import pas_request, record_bundle
from indicated.models import Determination
from indicated.pipeline import assess

DEV = [(n, c) for n, c in load_cases(SHARED_CASES) if assess(c["text"]).services]


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("service"))


def claim_response(bundle: dict) -> dict:
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "ClaimResponse" and first["use"] == "preauthorization"
    return first


def actions(response: dict) -> list[str]:
    out = []
    for item in response["item"]:
        (adj,) = item["adjudication"]
        assert adj["category"]["coding"][0]["code"] == "submitted"
        (ext,) = [e for e in adj["extension"] if e["url"] == REVIEW_ACTION]
        coding = next(s for s in ext["extension"] if "valueCodeableConcept" in s)["valueCodeableConcept"]["coding"][0]
        assert coding["system"] == X12_306
        out.append(coding["code"])
    return out


def human(response: dict) -> bool:
    return next(e["valueBoolean"] for e in response["extension"] if e["url"] == HUMAN_REVIEW)


@pytest.mark.parametrize(("name", "case"), DEV, ids=[n for n, _ in DEV])
def test_items_are_certified_when_met_and_pended_otherwise(client, name, case):
    text = assess(case["text"])
    body = pas_request(record_bundle(case["text"], [s.code for s in text.services]), claim_id=name[:3])
    res = client.post("/fhir/Claim/$submit", json=body)
    assert res.status_code == 200, res.text
    response = claim_response(res.json())
    expected = ["A1" if s.determination == Determination.MEDICALLY_NECESSARY else "A4" for s in text.services]
    assert actions(response) == expected
    assert "A3" not in actions(response)
    assert human(response) is False
    assert response["outcome"] == ("queued" if "A4" in expected else "complete")
    if "A4" in expected:
        notes = {n["number"]: n["text"] for n in response["processNote"]}
        for item, code in zip(response["item"], expected, strict=True):
            if code == "A4":
                assert item["noteNumber"] and all(notes[n] for n in item["noteNumber"])
    else:
        assert response["preAuthRef"]


def test_inquire_returns_the_state_and_a_persons_decision(client):
    case = dict(DEV)["d02_discectomy_acute_axial_only"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="c42")
    client.post("/fhir/Claim/$submit", json=body)
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    first = claim_response(client.post("/fhir/Claim/$inquire", json=inquiry).json())
    assert actions(first) == ["A4"] and human(first) is False

    store = client.app.state.auths
    store.decide("urn:example:provider-claims|c42", 1, "A3", reviewer="dr.reviewer")
    decided = claim_response(client.post("/fhir/Claim/$inquire", json=inquiry).json())
    assert actions(decided) == ["A3"] and human(decided) is True
    assert "review by a person" in decided["disposition"]


def test_errors(client):
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="e1")
    not_claim = {**body, "entry": body["entry"][1:]}
    assert client.post("/fhir/Claim/$submit", json=not_claim).status_code == 400
    wrong_use = json.loads(json.dumps(body))
    wrong_use["entry"][0]["resource"]["use"] = "claim"
    res = client.post("/fhir/Claim/$submit", json=wrong_use)
    assert res.status_code == 400 and "preauthorization" in res.json()["issue"][0]["diagnostics"]
    unknown = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    assert client.post("/fhir/Claim/$inquire", json=unknown).status_code == 404
    with pytest.raises(Exception, match="not one of"):
        PriorAuths().decide("x", 1, "ZZ", reviewer="r")


def test_place_of_service_sets_the_requested_setting():
    store = PriorAuths()
    kept = {}
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="pos", place_of_service="21")
    submit(body, store=store, keep=lambda aid, a: kept.setdefault("a", a))
    assert kept["a"].setting.requested == "inpatient"


def test_examples_folder_bundle_is_answered(client):
    body = json.loads((ROOT / "examples" / "pas-bundle.json").read_text())
    response = claim_response(client.post("/fhir/Claim/$submit", json=body).json())
    assert actions(response)
