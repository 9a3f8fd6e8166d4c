"""Da Vinci PAS over HTTP: $submit answers A1 or A4 per item (never A3 by itself), says whether a
person reviewed it, and $inquire returns the current state, including a person's decision."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from conftest import CERVICAL_CASES, ROOT, SHARED_CASES, load_cases, make_client
from indicated.errors import IndicatedError, NotFound, WorkflowError
from indicated.fhir.coverage import HUMAN_REVIEW, REVIEW_ACTION, X12_306
from indicated.fhir.samples import pas_request, record_bundle
from indicated.models import Determination
from indicated.pipeline import assess
from indicated.service.pas import inquire, submit
from indicated.service.prior_auths import OwnedPriorAuths, PriorAuths

DEV = [(n, c) for n, c in load_cases(SHARED_CASES) if assess(c["text"]).services]
CERVICAL = [(n, c) for n, c in load_cases(CERVICAL_CASES) if assess(c["text"]).services]


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


def inquired(client, inquiry: dict, claim_id: str) -> dict:
    """The ClaimResponse that `$inquire` returns for the request sent under ``claim_id``."""
    out = client.post("/fhir/Claim/$inquire", json=inquiry)
    assert out.status_code == 200, out.text
    assert out.json()["resourceType"] == "Parameters"
    found = [
        claim_response(p["resource"])
        for p in out.json().get("parameter", [])
        if any(i.get("value") == claim_id for i in p["resource"]["entry"][0]["resource"]["identifier"])
    ]
    assert len(found) == 1, f"{len(found)} answers for {claim_id}"
    return found[0]


def human(response: dict) -> bool:
    return next(e["valueBoolean"] for e in response["extension"] if e["url"] == HUMAN_REVIEW)


@pytest.mark.parametrize(("name", "case"), DEV + CERVICAL, ids=[n for n, _ in DEV + CERVICAL])
def test_items_are_certified_when_met_and_pended_otherwise(client, name, case):
    text = assess(case["text"])
    claim_id = name.replace("_", "-")[:64]  # a FHIR id has no underscores
    body = pas_request(record_bundle(case["text"], [s.code for s in text.services]), claim_id=claim_id)
    res = client.post("/fhir/Claim/$submit", json=body)
    assert res.status_code == 200, res.text
    response = claim_response(res.json())
    expected = ["A1" if s.determination == Determination.MEDICALLY_NECESSARY else "A4" for s in text.services]
    assert actions(response) == expected
    assert "A3" not in actions(response)
    assert human(response) is False
    assert response["outcome"] == "complete"  # PAS 2.2: complete | error | partial; an A4 item says pended
    if "A4" in expected:
        notes = {n["number"]: n["text"] for n in response["processNote"]}
        for item, code in zip(response["item"], expected, strict=True):
            if code == "A4":
                assert item["noteNumber"] and all(notes[n] for n in item["noteNumber"])
    else:
        assert response["preAuthRef"]


def mine(client) -> OwnedPriorAuths:
    """The requests the test client sent, as the service keeps them (under its name)."""
    return OwnedPriorAuths(client.app.state.auths, "client:ehr")


def test_inquire_returns_the_state_and_a_persons_decision(client):
    case = dict(DEV)["d02_discectomy_acute_axial_only"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="c42")
    client.post("/fhir/Claim/$submit", json=body)
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    first = inquired(client, inquiry, "c42")
    assert actions(first) == ["A4"] and human(first) is False

    mine(client).decide("urn:example:provider-claims|c42", 1, "A3", reviewer="dr.reviewer")
    decided = inquired(client, inquiry, "c42")
    assert actions(decided) == ["A3"] and human(decided) is True
    assert "review by a person" in decided["disposition"]


def test_resubmitting_a_decided_claim_keeps_the_persons_decision(client):
    """Issue 17.1: the same Claim sent again once a person answered A3 is a duplicate, answered with
    the decision (never a fresh automatic A1); the same key with other content is refused (409)."""
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="dup1")
    assert actions(claim_response(client.post("/fhir/Claim/$submit", json=body).json())) == ["A1"]
    key = "urn:example:provider-claims|dup1"
    mine(client).decide(key, 1, "A3", reviewer="dr.reviewer")
    again = client.post("/fhir/Claim/$submit", json=body)
    assert again.status_code == 200, again.text
    response = claim_response(again.json())
    assert actions(response) == ["A3"] and human(response) is True
    changed = json.loads(json.dumps(body))
    changed["entry"][0]["resource"]["priority"] = {"coding": [{"code": "stat"}]}
    res = client.post("/fhir/Claim/$submit", json=changed)
    assert res.status_code == 409, res.text
    assert res.json()["resourceType"] == "OperationOutcome" and res.json()["issue"][0]["code"] == "conflict"
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    kept = inquired(client, inquiry, "dup1")
    assert actions(kept) == ["A3"] and human(kept) is True
    assert mine(client).get(key).items[0].reviewer == "dr.reviewer"


def test_errors(client):
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="e1")
    not_claim = {**body, "entry": body["entry"][1:]}
    assert client.post("/fhir/Claim/$submit", json=not_claim).status_code == 400
    wrong_use = json.loads(json.dumps(body))
    wrong_use["entry"][0]["resource"]["use"] = "claim"
    res = client.post("/fhir/Claim/$submit", json=wrong_use)
    assert res.status_code == 400 and "preauthorization" in res.json()["issue"][0]["diagnostics"]
    not_claim = {"resourceType": "Bundle", "type": "collection", "entry": body["entry"][1:]}
    assert client.post("/fhir/Claim/$inquire", json=not_claim).status_code == 400
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


def test_a_key_bug_is_a_500_and_an_inquiry_that_finds_nothing_an_empty_answer(client, monkeypatch):
    """A KeyError is a bug, never the signal for "no such claim"; an inquiry that matches no request is
    an empty Parameters (PAS $inquire returns 0..* Bundles), not an error."""
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = pas_request(record_bundle(case["text"], ["63030"]), claim_id="k1")
    assert client.post("/fhir/Claim/$submit", json=body).status_code == 200
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    assert client.post("/fhir/Claim/$inquire", json=inquiry).status_code == 200

    def buggy():
        raise KeyError("k1")

    monkeypatch.setattr(client.app.state.auths, "all", buggy)
    res = client.post("/fhir/Claim/$inquire", json=inquiry)
    assert res.status_code == 500, res.text
    assert res.json()["issue"][0]["code"] == "exception" and "k1" not in res.text
    monkeypatch.undo()

    import indicated.service.pas

    monkeypatch.setattr(indicated.service.pas, "response_bundle", lambda auth, **kw: {}["entry"])
    assert client.post("/fhir/Claim/$inquire", json=inquiry).status_code == 500
    monkeypatch.undo()

    unknown = json.loads(json.dumps(inquiry))
    unknown["entry"][0]["resource"]["patient"] = {"reference": "Patient/never-seen"}
    res = client.post("/fhir/Claim/$inquire", json=unknown)
    assert res.status_code == 200 and res.json() == {"resourceType": "Parameters", "parameter": []}


def test_deciding_an_unknown_request_or_item_is_not_found():
    store = PriorAuths()
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    submit(pas_request(record_bundle(case["text"], ["63030"]), claim_id="n1"), store=store)
    key = "urn:example:provider-claims|n1"
    with pytest.raises(NotFound, match="no prior-authorization request for claim x"):
        store.decide("x", 1, "A1", reviewer="r")
    with pytest.raises(NotFound, match="no item 9"):
        store.decide(key, 9, "A1", reviewer="r")
    assert [i.decision for i in store.decide(key, 1, "A1", reviewer="r").items] == ["A1"]


def test_pas_errors_sit_in_the_tree_and_are_no_lookup_errors():
    for cls in (NotFound, WorkflowError):
        assert issubclass(cls, IndicatedError) and not issubclass(cls, LookupError)
    from indicated.service import fhir_routes, repo

    assert repo.WorkflowError is WorkflowError and repo.NotFound is NotFound and fhir_routes.NotFound is NotFound


def test_fhir_modules_do_not_import_the_service():
    """Imports point one way: the service uses the FHIR readers and writers, never the reverse."""
    import ast

    for path in sorted((ROOT / "src" / "indicated" / "fhir").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.startswith("indicated.service") for n in names), path.name


# --- PAS 2.2 conformance of the response (issue 18) ---------------------------------------------------


def test_the_response_echoes_the_submitters_transaction_and_the_claims_trace_number():
    store = PriorAuths()
    body = pas_request(record_bundle(dict(DEV)["d01_discectomy_failed_conservative"]["text"], ["63030"]), claim_id="t1")
    body["identifier"] = {"system": "http://example.org/SUBMITTER_TRANSACTION_IDENTIFIER", "value": "A12345"}
    out = submit(body, store=store)
    assert out["identifier"] == body["identifier"]
    response = claim_response(out)
    claim = body["entry"][0]["resource"]
    assert response["identifier"][0] == claim["identifier"][0]
    assert any(i["system"].startswith("urn:trnorg:") for i in response["identifier"])
    inquiry = {
        "resourceType": "Bundle",
        "identifier": {"system": "http://example.org/SUBMITTER_TRANSACTION_IDENTIFIER", "value": "B777"},
        "type": "collection",
        "entry": [body["entry"][0]],
    }
    (found,) = inquire(inquiry, store=store)["parameter"]
    assert found["resource"]["identifier"]["value"] == "B777"


def test_a_pended_answer_is_complete_and_an_add_on_shares_its_primarys_notes():
    text = "Request L4-5 posterolateral fusion with pedicle screws (22612, 22840)."
    response = claim_response(
        submit(pas_request(record_bundle(text, ["22612", "22840"]), claim_id="t2"), store=PriorAuths())
    )
    assert actions(response) == ["A4", "A4"] and response["outcome"] == "complete"
    texts = [n["text"] for n in response["processNote"]]
    assert len(texts) == len(set(texts)), "a note is written once"
    first, second = response["item"]
    assert first["noteNumber"] == second["noteNumber"]


def test_a_claim_without_an_insurer_names_the_plan_the_service_answers_for():
    body = pas_request(record_bundle("L5-S1 extrusion compressing S1; 8 weeks of PT.", ["63030"]), claim_id="t3")
    del body["entry"][0]["resource"]["insurer"]
    out = submit(body, store=PriorAuths(), payer="Example Health Plan")
    insurer = claim_response(out)["insurer"]
    entries = {e["fullUrl"]: e["resource"] for e in out["entry"]}
    assert entries[insurer["reference"]]["resourceType"] == "Organization"
    assert entries[insurer["reference"]]["name"] == "Example Health Plan"


def test_inquire_finds_requests_by_example_not_by_the_inquirys_own_identifier():
    # PAS $inquire is a query by example (X12 278 inquiry): the inquiry Claim's identifier is its own trace
    # number; the patient, and the codes, provider and dates it names, find the requests
    store = PriorAuths()
    text = dict(DEV)["d01_discectomy_failed_conservative"]["text"]
    first = pas_request(record_bundle(text, ["63030"]), claim_id="q1")
    second = pas_request(record_bundle(text, ["63047"]), claim_id="q2")
    for body in (first, second):
        patient = next(e["resource"] for e in body["entry"] if e["resource"]["resourceType"] == "Patient")
        patient["identifier"] = [
            {"system": "urn:example:member-ids", "value": f"M-{body['entry'][0]['resource']['id']}"}
        ]
        submit(body, store=store)

    def ask(change) -> list[str]:
        claim = json.loads(json.dumps(first["entry"][0]["resource"]))
        claim["identifier"] = [{"system": "urn:trnorg:1999999999", "value": "inquiry-7"}]
        entries = [{"resource": claim}]
        change(claim, entries)
        out = inquire({"resourceType": "Bundle", "type": "collection", "entry": entries}, store=store)
        return [i["value"] for p in out["parameter"] for i in p["resource"]["entry"][0]["resource"]["identifier"][:1]]

    assert ask(lambda c, e: None) == ["q1"]  # same patient, the code 63030
    assert ask(lambda c, e: c.pop("item")) == ["q1", "q2"]  # no codes named: every request of the patient
    assert ask(lambda c, e: c["item"][0]["productOrService"]["coding"][0].update(code="22612")) == []
    assert ask(lambda c, e: c.update(billablePeriod={"start": "2001-01-01", "end": "2001-12-31"})) == []
    assert ask(lambda c, e: c.update(provider={"reference": "Organization/another-clinic"})) == []

    def by_member_id(claim, entries):
        claim.pop("item")
        claim["patient"] = {"reference": "Patient/elsewhere-9"}
        member = {"system": "urn:example:member-ids", "value": "M-q2"}
        entries.append({"resource": {"resourceType": "Patient", "id": "elsewhere-9", "identifier": [member]}})

    assert ask(by_member_id) == ["q2"]  # the member id names the patient across systems
