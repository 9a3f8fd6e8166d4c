"""PAS subscriptions (issue 18.13): a sending system subscribes to the PAS topic for its own requests
and, when a person decides one of them, a local receiver gets a notification carrying the full
response Bundle with the person's decision. Subscribing is authenticated; a malformed Subscription is a
clean 400."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from fastapi.testclient import TestClient

from conftest import SHARED_CASES, load_cases
from credentials import sign_in
from indicated.fhir.samples import pas_request, record_bundle
from indicated.fhir.subscription import CONTENT, FILTER, TOPIC, TRANSMISSION
from indicated.service import create_app, db, repo
from indicated.service.settings import Settings

DEV = dict(load_cases(SHARED_CASES))
PASSWORD = "a long enough password"


@pytest.fixture
def client(tmp_path) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}")
    client = TestClient(create_app(settings, warm=False), raise_server_exceptions=False)
    with db.sessions(db.engine_for(settings.database_url))() as s:
        repo.add_reviewer(s, username="rev", password=PASSWORD)
    sign_in(client, settings.database_url)
    return client


@pytest.fixture
def receiver():
    """A local rest-hook endpoint that keeps what it is sent."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(
                {
                    "headers": dict(self.headers),
                    "body": json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                }
            )
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/notify", got
    server.shutdown()


def login(client) -> dict[str, str]:
    token = client.post("/auth/login", json={"username": "rev", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def subscription(endpoint: str, org: str = "SENDER01") -> dict:
    return {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "our prior authorization responses",
        "criteria": TOPIC,
        "_criteria": {"extension": [{"url": FILTER, "valueString": f"orgIdentifier={org}"}]},
        "channel": {
            "type": "rest-hook",
            "endpoint": endpoint,
            "header": ["Authorization: Bearer subscriber-secret"],
            "payload": "application/fhir+json",
            "_payload": {"extension": [{"url": CONTENT, "valueCode": "full-resource"}]},
        },
    }


def submitted_by(sender: str, claim_id: str) -> dict:
    body = pas_request(record_bundle(DEV["d02_discectomy_acute_axial_only"]["text"], ["63030"]), claim_id=claim_id)
    body["entry"][0]["resource"]["extension"] = [
        {
            "url": TRANSMISSION,
            "extension": [
                {"url": "applicationSenderCode", "valueString": "EHRAPP"},
                {"url": "applicationReceiverCode", "valueString": "PAYERAPP"},
                {"url": "interchangeSenderID", "valueString": sender},
            ],
        }
    ]
    return body


def test_a_decision_is_posted_to_the_subscribers_of_the_sending_system(client, receiver):
    endpoint, got = receiver
    made = client.post("/fhir/Subscription", json=subscription(endpoint), headers=login(client))
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "active" and "header" not in made.json()["channel"]  # credentials stay here
    for sender, claim_id in (("SENDER01", "s1"), ("OTHER99", "s2")):
        client.post("/fhir/Claim/$submit", json=submitted_by(sender, claim_id))
    rows = client.get("/assessments", params={"q": "", "state": "submitted"}).json()["items"]
    headers = login(client)
    for row in rows:  # a person rejects both pended requests
        client.post(f"/assessments/{row['id']}/review", json={"action": "reject", "comment": "no"}, headers=headers)
    client.app.state.subscriptions.wait()
    (note,) = got  # only the request of the subscribed sending system
    assert note["headers"]["Authorization"] == "Bearer subscriber-secret"
    status, bundle = (e["resource"] for e in note["body"]["entry"])
    assert note["body"]["type"] == "history" and status["resourceType"] == "Parameters"
    assert {p["name"]: p.get("valueCode") for p in status["parameter"]}["type"] == "event-notification"
    response = bundle["entry"][0]["resource"]
    assert response["resourceType"] == "ClaimResponse"
    assert response["identifier"][0]["value"] == "s1"
    code = response["item"][0]["adjudication"][0]["extension"][0]["extension"][1]["valueCodeableConcept"]["coding"][0]
    assert code["code"] == "A3"


def test_subscribing_is_authenticated_and_checked(client, receiver):
    endpoint, _ = receiver
    assert client.post("/fhir/Subscription", json=subscription(endpoint), auth=None).status_code == 401
    headers = login(client)
    unfiltered = subscription(endpoint)
    unfiltered.pop("_criteria")
    wrong_channel = subscription(endpoint)
    wrong_channel["channel"]["type"] = "websocket"
    for bad in (unfiltered, wrong_channel, {**subscription(endpoint), "criteria": "Claim?status=active"}):
        res = client.post("/fhir/Subscription", json=bad, headers=headers)
        assert res.status_code == 400 and res.json()["resourceType"] == "OperationOutcome", res.text
    made = client.post("/fhir/Subscription", json=subscription(endpoint), headers=headers).json()
    assert client.get(f"/fhir/Subscription/{made['id']}", headers=headers).status_code == 200
    assert client.delete(f"/fhir/Subscription/{made['id']}", headers=headers).status_code == 204
    assert client.get(f"/fhir/Subscription/{made['id']}", headers=headers).status_code == 404
