"""Issue 17.4 and 17.6: who may read and send what. Stored cases are health information: anonymous
callers read nothing, an API client reads only what it sent, CDS Hooks calls carry a JWT the service
checks against the client's registered keys, a card's link opens its one article, the open demo says
so on every page, and a change sent by a page of another site is refused."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import SHARED_CASES, load_cases
from credentials import ClientAuth, Signer, register
from indicated.cli import app as cli
from indicated.fhir.samples import crd_request, pas_request, record_bundle
from indicated.service import create_app, db, repo
from indicated.service.settings import Settings

DEV = dict(load_cases(SHARED_CASES))
NOTE = DEV["d01_discectomy_failed_conservative"]["text"]
HOOK = "/cds-services/indicated-order-sign"
PASSWORD = "a long enough password"


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'service.db'}"


def service(url: str, **settings) -> TestClient:
    client = TestClient(create_app(Settings(database_url=url, **settings), warm=False), raise_server_exceptions=False)
    with db.sessions(db.engine_for(url))() as s:
        repo.add_reviewer(s, username="rev", password=PASSWORD)
    return client


@pytest.fixture
def anonymous(url) -> TestClient:
    return service(url)


def as_client(anonymous: TestClient, url: str, name: str) -> ClientAuth:
    key, signer = register(url, name, issuer=f"https://{name}.example")
    return ClientAuth(key, signer)


def reviewer(client: TestClient) -> dict[str, str]:
    token = client.post("/auth/login", json={"username": "rev", "password": PASSWORD}, auth=None).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_callers_read_and_send_nothing(anonymous, url):
    ehr = as_client(anonymous, url, "ehr")
    aid = anonymous.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}, auth=ehr).json()["id"]
    for path in ("/assessments", f"/assessments/{aid}", f"/assessments/{aid}/article"):
        res = anonymous.get(path)
        assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer", path
        assert "L4" not in res.text
    for path in ("/ui/assessments", f"/ui/assessments/{aid}"):
        res = anonymous.get(path, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"].startswith("/ui/login?next=/ui/assessments")
    assert anonymous.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).status_code == 401
    pas = pas_request(record_bundle(NOTE, ["63030"]), claim_id="anon")
    for path in ("/fhir/Claim/$submit", "/fhir/Claim/$inquire"):
        res = anonymous.post(path, json=pas)
        assert res.status_code == 401 and res.json()["resourceType"] == "OperationOutcome", path
    res = anonymous.post(HOOK, json=crd_request(record_bundle(NOTE, ["63030"])))
    assert res.status_code == 401 and res.json()["resourceType"] == "OperationOutcome"
    res = anonymous.post("/ui/assess", data={"case": NOTE}, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"].startswith("/ui/login")
    assert anonymous.get("/cds-services").status_code == 200  # discovery stays public, as CDS Hooks says
    wrong = {"Authorization": "Bearer ik_not-a-key"}
    assert anonymous.get("/assessments", headers=wrong).status_code == 401
    with db.sessions(db.engine_for(url))() as s:
        assert repo.list_assessments(s)[0] == 1  # only the client's case was stored


def test_a_client_reads_only_what_it_sent_and_a_reviewer_reads_all(anonymous, url):
    one, two = as_client(anonymous, url, "one"), as_client(anonymous, url, "two")
    text = {"content-type": "text/plain"}
    mine = anonymous.post("/assessments", content=NOTE, headers=text, auth=one).json()["id"]
    theirs = anonymous.post("/assessments", content=NOTE, headers=text, auth=two).json()["id"]
    assert [i["id"] for i in anonymous.get("/assessments", auth=one).json()["items"]] == [mine]
    assert anonymous.get(f"/assessments/{mine}", auth=one).status_code == 200
    for path in (f"/assessments/{theirs}", f"/assessments/{theirs}/article"):
        res = anonymous.get(path, auth=one)
        assert res.status_code == 404 and "no assessment" in res.json()["detail"]  # as if it were not there
    everyone = anonymous.get("/assessments", headers=reviewer(anonymous), auth=None).json()
    assert {i["id"] for i in everyone["items"]} == {mine, theirs}
    assert anonymous.get(f"/assessments/{theirs}", headers=reviewer(anonymous), auth=None).status_code == 200


def test_a_client_neither_finds_nor_is_answered_from_another_clients_claims(anonymous, url):
    one, two = as_client(anonymous, url, "one"), as_client(anonymous, url, "two")
    body = pas_request(record_bundle(DEV["d02_discectomy_acute_axial_only"]["text"], ["63030"]), claim_id="same")
    assert anonymous.post("/fhir/Claim/$submit", json=body, auth=one).status_code == 200
    (aid,) = [i["id"] for i in anonymous.get("/assessments", auth=one).json()["items"]]
    decided = anonymous.post(
        f"/assessments/{aid}/review", json={"action": "reject"}, headers=reviewer(anonymous), auth=None
    )
    assert decided.status_code == 200
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    assert len(anonymous.post("/fhir/Claim/$inquire", json=inquiry, auth=one).json()["parameter"]) == 1
    assert anonymous.post("/fhir/Claim/$inquire", json=inquiry, auth=two).json().get("parameter", []) == []
    # the same claim identifier from another system is its own request, judged afresh, not the decision
    again = anonymous.post("/fhir/Claim/$submit", json=body, auth=two).json()
    response = again["entry"][0]["resource"]
    assert response["resourceType"] == "ClaimResponse"
    assert "A3" not in str(response["item"])


def _jwt_call(client: TestClient, token: str):
    return client.post(
        HOOK, json=crd_request(record_bundle(NOTE, ["63030"])), headers={"Authorization": f"Bearer {token}"}
    )


def test_cds_hooks_calls_need_a_jwt_signed_by_a_registered_client(anonymous, url):
    key, signer = register(url, "ehr", issuer="https://ehr.example")
    aud = f"http://testserver{HOOK}"
    assert _jwt_call(anonymous, signer.token(aud)).status_code == 200
    moment = int(time.time())
    stranger = Signer(issuer="https://ehr.example")  # the right issuer, another key
    none_alg = jwt.encode(
        {"iss": signer.issuer, "aud": aud, "exp": moment + 60, "iat": moment, "jti": "n"}, None, "none"
    )
    refused = {
        "another audience": signer.token("http://testserver/cds-services/other"),
        "expired": signer.token(aud, exp=moment - 120, iat=moment - 300),
        "too long-lived": signer.token(aud, lifetime=3600),
        "no jti": signer.token(aud, jti=None),
        "unknown issuer": Signer(issuer="https://unknown.example").token(aud),
        "another key": stranger.token(aud),
        "alg none": none_alg,
        "not a JWT": "abc.def",
        "an API key": key,
    }
    for why, token in refused.items():
        res = _jwt_call(anonymous, token)
        assert res.status_code == 401, why
        assert res.json()["resourceType"] == "OperationOutcome", why
    replayed = signer.token(aud)
    assert _jwt_call(anonymous, replayed).status_code == 200
    assert _jwt_call(anonymous, replayed).status_code == 401  # the same jti twice


def test_a_cards_signed_link_opens_its_one_article_and_nothing_else(anonymous, url):
    ehr = as_client(anonymous, url, "ehr")
    case = DEV["d04_discectomy_sciatica_only"]["text"]
    (card,) = anonymous.post(HOOK, json=crd_request(record_bundle(case, ["63030"])), auth=ehr).json()["cards"]
    link = card["links"][0]["url"].replace("http://testserver", "")
    page = anonymous.get(link)  # a clinician with no account opens the card's link
    assert page.status_code == 200 and 'id="article"' in page.text
    path, _, signed = link.partition("?link=")
    other = anonymous.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}, auth=ehr).json()
    expires, _, signature = signed.partition(".")
    for bad in (
        f"/ui/assessments/{other['id']}?link={signed}",  # another article
        f"{path}?link={expires}.{'0' * len(signature)}",  # a forged signature
        f"{path}?link={int(expires) + 3600}.{signature}",  # a later expiry
        f"{path}?link=",
        path,
    ):
        res = anonymous.get(bad, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"].startswith("/ui/login"), bad
    assert anonymous.get(f"/assessments/{path.rsplit('/', 1)[-1]}").status_code == 401  # the API stays closed


def test_an_expired_card_link_no_longer_opens(url):
    client = service(url, link_hours=-1)
    ehr = as_client(client, url, "ehr")
    case = DEV["d04_discectomy_sciatica_only"]["text"]
    (card,) = client.post(HOOK, json=crd_request(record_bundle(case, ["63030"])), auth=ehr).json()["cards"]
    res = client.get(card["links"][0]["url"].replace("http://testserver", ""), follow_redirects=False)
    assert res.status_code == 303


def test_the_open_demo_needs_no_credentials_and_says_so(url):
    demo = service(url, open=True)
    made = demo.post("/assessments", content=NOTE, headers={"content-type": "text/plain"})
    assert made.status_code == 201
    assert demo.get(f"/assessments/{made.json()['id']}").status_code == 200
    assert "anyone" in made.headers["x-indicated-open-demo"]
    for page in ("/", "/ui/assessments", f"/ui/assessments/{made.json()['id']}", "/ui/login"):
        assert "Open demo:" in demo.get(page).text, page
    assert demo.post(HOOK, json=crd_request(record_bundle(NOTE, ["63030"]))).status_code == 200
    # a decision is audited by name, and a subscription posts outside: both still need someone known
    assert demo.post(f"/assessments/{made.json()['id']}/review", json={"action": "approve"}).status_code == 401
    assert demo.post("/fhir/Subscription", json={"resourceType": "Subscription"}).status_code == 401
    closed = service(url.replace("service.db", "closed.db"))
    assert "Open demo:" not in closed.get("/").text and "x-indicated-open-demo" not in closed.get("/").headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver:9999"},  # another port of the same host: SameSite does not stop it
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_change_sent_from_another_site_is_refused(anonymous, url, headers):
    ehr = as_client(anonymous, url, "ehr")
    aid = anonymous.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}, auth=ehr).json()["id"]
    login = {"username": "rev", "password": PASSWORD, "next": "/"}
    assert anonymous.post("/ui/login", data=login, headers=headers).status_code == 403  # no login forced either
    assert anonymous.post("/ui/login", data=login).status_code == 200  # the reviewer's own cookie
    forged = anonymous.post(f"/ui/assessments/{aid}/review", data={"action": "approve"}, headers=headers)
    assert forged.status_code == 403
    assert anonymous.post(f"/assessments/{aid}/review", json={"action": "approve"}, headers=headers).status_code == 403
    state = anonymous.get(f"/assessments/{aid}").json()
    assert state["state"] == "submitted" and state["audit"] == []
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    done = anonymous.post(f"/ui/assessments/{aid}/review", data={"action": "approve"}, headers=same)
    assert done.status_code == 200 and 'id="state">approved' in done.text


def test_clients_are_managed_from_the_command_line(tmp_path, url, monkeypatch):
    monkeypatch.setenv("INDICATED_DATABASE_URL", url)
    runner = CliRunner()
    made = runner.invoke(cli, ["clients", "add", "portal"])
    assert made.exit_code == 0, made.output
    key = made.output.split()[-1]
    assert key.startswith("ik_")
    jwks = tmp_path / "ehr.jwks.json"
    jwks.write_text(Signer().jwks)
    ehr = runner.invoke(
        cli, ["clients", "add", "ehr", "--jwks", str(jwks), "--issuer", "https://e.example", "--no-key"]
    )
    assert ehr.exit_code == 0 and "ik_" not in ehr.output
    listed = runner.invoke(cli, ["clients", "list"]).output
    assert "portal" in listed and "CDS Hooks JWT (https://e.example)" in listed and key not in listed
    assert runner.invoke(cli, ["clients", "add", "portal"]).exit_code == 2  # a name is taken once
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert runner.invoke(cli, ["clients", "add", "x", "--jwks", str(bad), "--issuer", "i"]).exit_code == 2
    client = service(url)
    text = {"content-type": "text/plain", "Authorization": f"Bearer {key}"}
    assert client.post("/assessments", content=NOTE, headers=text).status_code == 201
    new_key = runner.invoke(cli, ["clients", "key", "portal"]).output.strip()
    assert client.post("/assessments", content=NOTE, headers=text).status_code == 401  # the old key stops
    text["Authorization"] = f"Bearer {new_key}"
    assert client.post("/assessments", content=NOTE, headers=text).status_code == 201
    assert runner.invoke(cli, ["clients", "remove", "portal"]).exit_code == 0
    assert client.post("/assessments", content=NOTE, headers=text).status_code == 401
