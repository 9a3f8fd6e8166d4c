"""CDS Hooks (Da Vinci CRD) over HTTP: the official example requests answered unchanged, dev cases
answered with coverage information that matches the engine's determinations, and the error codes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class

from conftest import CERVICAL_CASES, ROOT, SHARED_CASES, load_cases, make_client
from credentials import sign_in
from ehr import fake_ehr
from indicated.fhir.coverage import COVERAGE_INFORMATION, CRD
from indicated.fhir.samples import crd_request, record_bundle
from indicated.models import Determination
from indicated.pipeline import assess

CRD_EXAMPLES = ROOT.parent / "shared" / "fhir" / "crd"
DEV = [(n, c) for n, c in load_cases(SHARED_CASES) if assess(c["text"]).services]
CERVICAL = [(n, c) for n, c in load_cases(CERVICAL_CASES) if assess(c["text"]).services]
REQUIRED = {"coverage", "covered", "date", "coverage-assertion-id"}


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("service"))


def coverage_info(action: dict) -> dict[str, list]:
    """Sub-extension values by url, after checking the resource is valid FHIR and carries the extension."""
    resource = action["resource"]
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    (ext,) = [e for e in resource["extension"] if e["url"] == COVERAGE_INFORMATION]
    out: dict[str, list] = {}
    for sub in ext["extension"]:
        value = next((v for k, v in sub.items() if k.startswith("value")), sub.get("extension"))
        out.setdefault(sub["url"], []).append(value)
    assert set(out) >= REQUIRED, f"missing {REQUIRED - set(out)}"
    return out


def check_cards(response: dict, client: TestClient) -> None:
    for card in response["cards"]:
        assert card["summary"] and len(card["summary"]) < 140
        assert card["indicator"] in {"info", "warning", "critical"}
        assert card["source"]["label"]
        (link,) = card["links"]
        assert link["type"] == "absolute"
        page = client.get(link["url"].replace("http://testserver", ""))
        assert page.status_code == 200 and "<html" in page.text


def test_discovery_lists_the_primary_hooks_and_order_select(client):
    # CRD 2.2: the primary hooks are appointment-book, order-sign and order-dispatch; order-select is secondary
    services = client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"order-sign", "order-select", "order-dispatch", "appointment-book"}
    for s in services:
        assert s["id"] and s["description"] and "{{context.patientId}}" in s["prefetch"]["documents"]


@pytest.mark.parametrize("example", ["CRDServiceRequest.json", "CRDServiceRequest3.json"])
def test_official_examples_are_answered_plainly_without_criteria(client, example):
    body = json.loads((CRD_EXAMPLES / example).read_text())
    client.app.state.ehr_transport, _ = fake_ehr(body["fhirAuthorization"]["access_token"])  # for left-out keys
    sent = copy.deepcopy(body)
    res = client.post("/cds-services/indicated-order-sign", json=body)
    assert res.status_code == 200, res.text
    out = res.json()
    orders = [e["resource"] for e in sent["context"]["draftOrders"]["entry"]]
    assert len(out["systemActions"]) == len(orders)
    for action, order in zip(out["systemActions"], orders, strict=True):
        assert action["type"] == "update"
        assert action["resource"]["id"] == order["id"]
        # the order comes back as sent, with the coverage information added
        assert {k: v for k, v in action["resource"].items() if k != "extension"} == {
            k: v for k, v in order.items() if k != "extension"
        }
        info = coverage_info(action)
        # CRD 2.2 keeps indeterminate for technical limits (resp-43): no criteria here is a person's review
        assert info["covered"] == ["conditional"] and info["info-needed"] == ["OTH"]
        assert "no medical-necessity criteria" in info["reason"][0]["text"]
    # CRD 2.2 resp-25: the coverage information never uses a card; nothing here for the clinician to do
    assert out["cards"] == []


@pytest.mark.parametrize(("name", "case"), DEV + CERVICAL, ids=[n for n, _ in DEV + CERVICAL])
def test_dev_cases_get_coverage_information_matching_their_determinations(client, name, case):
    text = assess(case["text"])
    codes = [s.code for s in text.services]
    res = client.post("/cds-services/indicated-order-sign", json=crd_request(record_bundle(case["text"], codes)))
    assert res.status_code == 200, res.text
    out = res.json()
    for action, service in zip(out["systemActions"], text.services, strict=True):
        info = coverage_info(action)
        expected = CRD[service.determination]
        assert info["covered"] == [expected.covered]
        assert info["pa-needed"] == [expected.pa_needed]
        assert info.get("doc-needed", [None]) == [expected.doc_needed]
        assert [c["code"] for c in info["billingCode"]] == [service.code]
        if service.determination == Determination.INSUFFICIENT_INFORMATION:
            assert "documents:" in info["reason"][0]["text"]
        assert info["covered"] != ["not-covered"]  # the engine never denies by itself
    warnings = [c for c in out["cards"] if c["indicator"] == "warning"]
    # a service the library has no criteria for is an information card, like an approvable one
    quiet = (Determination.MEDICALLY_NECESSARY, Determination.NO_APPLICABLE_POLICY)
    unmet = [s for s in text.services if s.determination not in quiet]
    assert len(warnings) == len(unmet)
    check_cards(out, client)


def test_order_select_answers_only_the_selected_orders(client):
    case = dict(DEV)["d06_fusion_degenerative_spondylolisthesis"]
    body = crd_request(record_bundle(case["text"], ["63047", "22612"]), hook="order-select")
    body["context"]["selections"] = ["ServiceRequest/order-2"]
    out = client.post("/cds-services/indicated-order-select", json=body).json()
    assert [a["resource"]["id"] for a in out["systemActions"]] == ["order-2"]


def test_missing_record_prefetch_is_412_and_bad_requests_are_400(client):
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    del body["prefetch"]["documents"]
    res = client.post("/cds-services/indicated-order-sign", json=body)
    assert res.status_code == 412
    assert res.json()["resourceType"] == "OperationOutcome"
    assert "prefetch" in res.json()["issue"][0]["diagnostics"]

    for bad, why in [
        (b"{not json", "not JSON"),
        (json.dumps({**body, "hook": "order-select"}).encode(), "answers 'order-sign'"),
        (json.dumps({"hook": "order-sign", "hookInstance": "x", "context": {}}).encode(), "draftOrders"),
        (json.dumps({"hook": "order-sign", "context": {}}).encode(), "hookInstance"),
    ]:
        res = client.post("/cds-services/indicated-order-sign", content=bad)
        assert res.status_code == 400, bad
        outcome = res.json()
        assert outcome["resourceType"] == "OperationOutcome" and why in outcome["issue"][0]["diagnostics"]
        assert "Traceback" not in res.text

    assert client.post("/cds-services/nope", json=body).status_code == 404


def test_oversized_bodies_are_refused(client):
    big = client.post("/cds-services/indicated-order-sign", content=b"{" + b" " * 6_000_000 + b"}")
    assert big.status_code == 413


def test_article_formats_and_unknown_articles(client):
    case = dict(DEV)["d04_discectomy_sciatica_only"]
    out = client.post("/cds-services/indicated-order-sign", json=crd_request(record_bundle(case["text"], ["63030"])))
    page = urlsplit(out.json()["cards"][0]["links"][0]["url"]).path
    aid = page.rsplit("/", 1)[-1]
    url = f"/assessments/{aid}/article"
    assert client.get(url, params={"format": "json"}).json()["determination"] == "insufficient_information"
    assert client.get(url, params={"format": "markdown", "audience": "patient"}).text.startswith("#")
    assert client.get(url, params={"format": "pdf"}).status_code == 422
    assert client.get(f"/assessments/{aid}").json()["source"] == "cds-hooks"
    assert client.get("/assessments/unknown").status_code == 404


def test_examples_folder_request_is_answered(client):
    body = json.loads(Path(ROOT / "examples" / "crd-order-sign.json").read_text())
    out = client.post("/cds-services/indicated-order-sign", json=body)
    assert out.status_code == 200
    assert all(coverage_info(a)["covered"] for a in out.json()["systemActions"])


def test_prefetch_keys_sent_as_null_are_an_empty_record_not_412(client):
    # CDS Hooks 2.0: "If the CDS Client has no data to populate a template prefetch key, the prefetch
    # template key MUST have a value of null"; 412 is only for keys the client left out
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    body["prefetch"] = {"patient": body["prefetch"]["patient"], "coverage": body["prefetch"]["coverage"]}
    body["prefetch"].update(dict.fromkeys(("documents", "conditions", "procedures", "observations")))
    res = client.post("/cds-services/indicated-order-sign", json=body)
    assert res.status_code == 200, res.text
    (action,) = res.json()["systemActions"]
    info = coverage_info(action)
    assert info["covered"] == ["conditional"]
    assert "documents:" in info["reason"][0]["text"]


def test_unknown_resource_types_are_a_400_never_a_500(client):
    plain = TestClient(client.app, raise_server_exceptions=False)
    plain.auth = client.auth
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    foo = {"resourceType": "Foo", "id": "x"}
    in_orders = copy.deepcopy(body)
    in_orders["context"]["draftOrders"]["entry"].append({"resource": foo})
    in_prefetch = copy.deepcopy(body)
    in_prefetch["prefetch"]["conditions"] = foo
    in_search = copy.deepcopy(body)
    in_search["prefetch"]["conditions"] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": foo}]}
    contained = copy.deepcopy(body)
    contained["context"]["draftOrders"]["entry"][0]["resource"]["contained"] = [foo]
    for bad in (in_orders, in_prefetch, in_search, contained):
        res = plain.post("/cds-services/indicated-order-sign", json=bad)
        assert res.status_code == 400, res.text
        assert res.json()["resourceType"] == "OperationOutcome"
        assert "Foo" in res.json()["issue"][0]["diagnostics"]


def test_order_select_asks_for_no_documentation(client):
    # CRD 2.2 hook-19 (secondary hooks, order-select among them): "If Coverage Information is returned for
    # these hooks, it SHALL NOT include messages indicating a need for clinical or administrative information"
    case = dict(DEV)["d04_discectomy_sciatica_only"]
    sign = crd_request(record_bundle(case["text"], ["63030"]))
    signed = client.post("/cds-services/indicated-order-sign", json=sign).json()
    assert coverage_info(signed["systemActions"][0])["doc-needed"] == ["clinical"]  # order-sign still asks

    select = crd_request(record_bundle(case["text"], ["63030"]), hook="order-select")
    out = client.post("/cds-services/indicated-order-select", json=select).json()
    (action,) = out["systemActions"]
    info = coverage_info(action)
    assert "doc-needed" not in info and "doc-purpose" not in info
    assert "documents:" not in info["reason"][0]["text"]
    assert not any("document" in c["summary"].lower() or "To document" in c["detail"] for c in out["cards"])


def test_signing_an_order_that_carries_coverage_information_replaces_it(client):
    # CRD 2.2 resp-35: "CRD servers SHALL NOT send a systemAction to update the order unless something is
    # new or changed"; resp-37: the update only adds or modifies coverage-information extensions
    case = dict(DEV)["d04_discectomy_sciatica_only"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    first = client.post("/cds-services/indicated-order-sign", json=body).json()
    (action,) = first["systemActions"]
    other = {"url": "http://example.org/other", "valueString": "kept"}

    changed = copy.deepcopy(body)
    old = copy.deepcopy(action["resource"]["extension"][0])
    for sub in old["extension"]:
        if sub["url"] == "covered":
            sub["valueCode"] = "covered"  # an earlier, different assertion for the same coverage
    changed["context"]["draftOrders"]["entry"][0]["resource"]["extension"] = [other, old]
    (again,) = client.post("/cds-services/indicated-order-sign", json=changed).json()["systemActions"]
    extensions = again["resource"]["extension"]
    assert [e for e in extensions if e["url"] == COVERAGE_INFORMATION] == [extensions[-1]]
    assert extensions[0] == other
    assert coverage_info(again)["covered"] == ["conditional"]

    same = copy.deepcopy(body)
    same["context"]["draftOrders"]["entry"][0]["resource"] = action["resource"]
    assert client.post("/cds-services/indicated-order-sign", json=same).json()["systemActions"] == []


def test_info_needed_oth_comes_with_a_detail_naming_what_is_needed(client):
    # CRD 2.2 coverage-information, info-needed: "If this element is set to OTH, then there must be at
    # least one detail element the explains the nature of the additional information needed"
    case = dict(DEV)["d04_discectomy_sciatica_only"]
    out = client.post("/cds-services/indicated-order-sign", json=crd_request(record_bundle(case["text"], ["63030"])))
    info = coverage_info(out.json()["systemActions"][0])
    assert info["info-needed"] == ["OTH"]
    (detail,) = info["detail"]
    parts = {d["url"]: d for d in detail}
    assert parts["category"]["valueCode"] == "cat-decisional"
    assert parts["code"]["valueCodeableConcept"]["coding"][0]["code"] == "instructions"
    assert parts["value"]["valueString"] == info["reason"][0]["text"]
    assert "documents:" in parts["value"]["valueString"]


def test_a_draft_order_without_an_id_is_never_referenced_as_none(client):
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    del body["context"]["draftOrders"]["entry"][0]["resource"]["id"]
    del body["prefetch"]["coverage"]["entry"][0]["resource"]["id"]
    res = client.post("/cds-services/indicated-order-sign", json=body)
    assert res.status_code == 200, res.text
    assert "None" not in res.text
    for card in res.json()["cards"]:
        assert "extension" not in card  # no id, so no associated-resource to point at


def test_hcpcs_billing_codes_are_echoed_in_their_own_system(client):
    # coverage-information billingCode: "Billing code(s) that must be used in the eventual claim"
    body = json.loads((CRD_EXAMPLES / "CRDServiceRequest.json").read_text())
    out = client.post("/cds-services/indicated-order-sign", json=body).json()
    billed = [c for a in out["systemActions"] for c in coverage_info(a).get("billingCode", [])]
    assert {"system": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "code": "E0431"} in billed
    assert any("HCPCS E0431" in a["description"] for a in out["systemActions"])


def test_cards_only_where_the_clinician_has_something_to_do(client):
    # CRD 2.2 resp-25: "Regardless of the content, this 'Coverage Information' response type SHALL NOT use
    # a card"; resp-12: no card repeating what a system action already carries
    met = dict(DEV)["d01_discectomy_failed_conservative"]
    out = client.post("/cds-services/indicated-order-sign", json=crd_request(record_bundle(met["text"], ["63030"])))
    assert coverage_info(out.json()["systemActions"][0])["covered"] == ["covered"]
    assert out.json()["cards"] == []

    missing = dict(DEV)["d04_discectomy_sciatica_only"]
    body = crd_request(record_bundle(missing["text"], ["63030"]))
    (card,) = client.post("/cds-services/indicated-order-sign", json=body).json()["cards"]
    assert card["source"]["topic"]["code"] != "coverage-info"
    assert "To document:" in card["detail"] and card["links"]
    assert card["detail"].startswith("this ServiceRequest (CPT 63030)")  # dev-24: which order, in words


def test_cards_name_the_payer_the_service_answers_for(tmp_path):
    # CRD 2.2 resp-4: the card's source label names the payer; the service is told which by its settings
    from indicated.service import create_app
    from indicated.service.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", payer_name="Example Health Plan")
    client = TestClient(create_app(settings, warm=False))
    sign_in(client, settings.database_url)
    missing = dict(DEV)["d04_discectomy_sciatica_only"]
    body = crd_request(record_bundle(missing["text"], ["63030"]))
    (card,) = client.post("/cds-services/indicated-order-sign", json=body).json()["cards"]
    assert card["source"]["label"] == "Example Health Plan"


def _with_coverages(body: dict, coverages: list[dict] | None) -> dict:
    body = copy.deepcopy(body)
    if coverages is None:
        body["prefetch"]["coverage"] = None
    else:
        body["prefetch"]["coverage"] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": c} for c in coverages],
        }
    return body


@pytest.mark.parametrize("count", [0, 2])
def test_no_coverage_or_several_is_a_400_naming_the_problem(client, count):
    # CRD 2.2 hooks.md: 400 (with an OperationOutcome) "where no Coverage is accessible, multiple Coverages are
    # accessible"; coverage information always names one Coverage of the client's
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    (coverage,) = [e["resource"] for e in body["prefetch"]["coverage"]["entry"]]
    coverages = None if count == 0 else [coverage, {**copy.deepcopy(coverage), "id": "cov-2"}]
    res = client.post("/cds-services/indicated-order-sign", json=_with_coverages(body, coverages))
    assert res.status_code == 400
    issue = res.json()["issue"][0]
    assert res.json()["resourceType"] == "OperationOutcome" and f"holds {count} Coverages" in issue["diagnostics"]


def test_an_order_whose_coverage_is_not_in_force_is_not_covered_with_the_reason(client):
    # CRD 2.2 resp-45: a patient without active coverage -> not-covered with no-active-coverage
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    (coverage,) = [e["resource"] for e in body["prefetch"]["coverage"]["entry"]]
    res = client.post(
        "/cds-services/indicated-order-sign", json=_with_coverages(body, [{**coverage, "status": "cancelled"}])
    )
    assert res.status_code == 200, res.text
    (action,) = res.json()["systemActions"]
    info = coverage_info(action)
    assert info["covered"] == ["not-covered"] and info["coverage"] == [{"reference": f"Coverage/{coverage['id']}"}]
    assert "pa-needed" not in info and "info-needed" not in info  # crd-ci-q2, crd-ci-q3
    assert info["reason"][0]["coding"][0]["code"] == "no-active-coverage" and info["reason"][0]["text"]
    assert res.json()["cards"] == []


def test_order_dispatch_answers_each_dispatched_order_like_order_sign(client):
    case = dict(DEV)["d04_discectomy_sciatica_only"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    signed = client.post("/cds-services/indicated-order-sign", json=copy.deepcopy(body)).json()
    body["hook"] = "order-dispatch"
    orders = body["context"].pop("draftOrders")
    body["context"].update(dispatchedOrders=orders, performer="Practitioner/surgeon-1")
    res = client.post("/cds-services/indicated-order-dispatch", json=body)
    assert res.status_code == 200, res.text
    (action,) = res.json()["systemActions"]
    (expected,) = signed["systemActions"]
    assert action["resource"]["id"] == orders["entry"][0]["resource"]["id"]
    assert coverage_info(action)["covered"] == coverage_info(expected)["covered"] == ["conditional"]
    assert "doc-needed" in coverage_info(action)  # a primary hook may ask for documentation


def test_appointment_book_judges_the_procedure_the_appointment_books(client):
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    body = crd_request(record_bundle(case["text"], ["63030"]))
    order = body["context"].pop("draftOrders")["entry"][0]["resource"]
    appointment = {
        "resourceType": "Appointment",
        "id": "appt-1",
        "status": "proposed",
        "serviceType": [order["code"]],
        "description": "Left L4-5 microdiscectomy",
        "participant": [{"actor": {"reference": order["subject"]["reference"]}, "status": "accepted"}],
    }
    body["hook"] = "appointment-book"
    body["context"]["appointments"] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": appointment}],
    }
    res = client.post("/cds-services/indicated-appointment-book", json=body)
    assert res.status_code == 200, res.text
    (action,) = res.json()["systemActions"]
    assert action["resource"]["resourceType"] == "Appointment" and action["resource"]["id"] == "appt-1"
    info = coverage_info(action)
    assert info["covered"] == ["covered"] and [c["code"] for c in info["billingCode"]] == ["63030"]
    unbilled = copy.deepcopy(body)
    unbilled["context"]["appointments"]["entry"][0]["resource"]["serviceType"] = [{"text": "consultation"}]
    (plain,) = client.post("/cds-services/indicated-appointment-book", json=unbilled).json()["systemActions"]
    assert coverage_info(plain)["covered"] == ["conditional"]  # hook-16: an answer even without a code


def test_a_hook_whose_orders_are_references_to_fetch_is_a_400(client):
    body = crd_request(record_bundle("L5-S1 extrusion.", ["63030"]))
    body["hook"] = "order-dispatch"
    body["context"].pop("draftOrders")
    body["context"].update(dispatchedOrders=["ServiceRequest/1"], performer="Practitioner/2")
    res = client.post("/cds-services/indicated-order-dispatch", json=body)
    assert res.status_code == 400 and "Bundle" in res.json()["issue"][0]["diagnostics"]


def test_the_client_configures_which_cards_and_coverage_information_it_gets(client):
    # CRD 2.2 dev-4/dev-5: the discovery document offers a boolean per card type; dev-12/dev-14: the client's
    # davinci-crd.configuration is obeyed; dev-17: unknown options are ignored
    (sign,) = [s for s in client.get("/cds-services").json()["services"] if s["hook"] == "order-sign"]
    offered = {o["code"]: o for o in sign["extension"]["davinci-crd.configuration-options"]}
    assert {"coverage-info", "guideline", "off-guideline", "max-cards"} <= set(offered)
    assert all({"code", "type", "name", "description", "default"} <= set(o) for o in offered.values())
    missing = dict(DEV)["d04_discectomy_sciatica_only"]
    body = crd_request(record_bundle(missing["text"], ["63030"]))

    def call(config: dict) -> dict:
        sent = {**copy.deepcopy(body), "extension": {"davinci-crd.configuration": config}}
        res = client.post("/cds-services/indicated-order-sign", json=sent)
        assert res.status_code == 200, res.text
        return res.json()

    assert len(call({"unknown-option": 3})["cards"]) == 1
    assert call({"guideline": False})["cards"] == [] and call({"guideline": False})["systemActions"]
    assert call({"max-cards": 0})["cards"] == []
    assert call({"coverage-info": False})["systemActions"] == []
    assert len(call({"max-cards": "two"})["cards"]) == 1  # a value of the wrong type is ignored


def test_prefetch_left_out_is_read_from_the_clients_fhir_server_with_its_token(client):
    """CDS Hooks: a service may query fhirServer with fhirAuthorization for prefetch keys the client left
    out (CRDServiceRequest3 sends none); without a grant, or when the server refuses, it is 412."""
    body = json.loads((CRD_EXAMPLES / "CRDServiceRequest3.json").read_text())
    client.app.state.ehr_transport, asked = fake_ehr(body["fhirAuthorization"]["access_token"])
    res = client.post("/cds-services/indicated-order-sign", json=body)
    assert res.status_code == 200, res.text
    assert "Coverage?patient=123&status=active" in asked and "Patient/123" in asked
    info = res.json()["systemActions"][0]["resource"]["extension"][0]
    assert {"url": "coverage", "valueReference": {"reference": "Coverage/cov-1"}} in info["extension"]
    kept = {**body, "prefetch": {"coverage": None}}  # a key sent as null is the client's answer: not asked
    asked.clear()
    client.post("/cds-services/indicated-order-sign", json=kept)
    assert not any(q.startswith("Coverage") for q in asked)
    for name, change in {
        "no grant": lambda b: b.pop("fhirAuthorization"),
        "another token": lambda b: b["fhirAuthorization"].update(access_token="stolen"),
        "a patient id that is not an id": lambda b: b["context"].update(patientId="123&_include=*"),
    }.items():
        changed = copy.deepcopy(body)
        change(changed)
        res = client.post("/cds-services/indicated-order-sign", json=changed)
        assert res.status_code == 412, name
        assert "coverage" in res.json()["issue"][0]["diagnostics"], name
