"""The HTTP API and web page: create and fetch assessments, search, the review workflow with
authentication, escaping, error codes, no tracebacks and no case text in the logs."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import SHARED_CASES, load_cases
from credentials import register, sign_in
from indicated.fhir.samples import pas_request, record_bundle
from indicated.service import create_app, db, repo
from indicated.service.settings import Settings

DEV = dict(load_cases(SHARED_CASES))
NOTE = DEV["d01_discectomy_failed_conservative"]["text"]
PASSWORD = "a long enough password"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", max_body=200_000)


@pytest.fixture
def client(settings) -> TestClient:
    client = TestClient(create_app(settings, warm=False), raise_server_exceptions=False)
    with db.sessions(db.engine_for(settings.database_url))() as s:
        repo.add_reviewer(s, username="rev", password=PASSWORD)
    sign_in(client, settings.database_url)
    return client


def login(client: TestClient) -> dict[str, str]:
    token = client.post("/auth/login", json={"username": "rev", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_create_from_text_json_case_and_fhir(client):
    made = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"})
    assert made.status_code == 201
    body = made.json()
    assert body["determination"] == "medically_necessary" and body["state"] == "submitted"
    got = client.get(f"/assessments/{body['id']}").json()
    assert got["assessment"]["services"][0]["code"] == "63030" and got["audit"] == []
    case = client.post("/assessments", json={"text": NOTE, "age": 38}).json()
    assert case["source"] == "json"
    fhir = client.post("/assessments", json=record_bundle(NOTE, ["63030"])).json()
    assert fhir["source"] == "fhir" and fhir["determination"] == "medically_necessary"
    article = client.get(f"/assessments/{body['id']}/article", params={"format": "markdown", "audience": "patient"})
    assert article.status_code == 200 and article.text.startswith("#")
    assert client.get("/assessments", params={"q": "63030"}).json()["total"] == 3
    assert client.get("/assessments", params={"state": "approved"}).json()["total"] == 0


@pytest.mark.parametrize(
    ("content", "ctype", "status", "says"),
    [
        (b'{"text": ', "application/json", 422, "malformed JSON"),
        (b"", "text/plain", 422, "empty"),
        (b"just words", "application/json", 422, "expected a JSON object"),
        (b'{"age": "old"}', "application/json", 422, "age"),
        (b"x" * 300_000, "text/plain", 413, "limit"),
    ],
)
def test_bad_bodies_get_clear_errors(client, content, ctype, status, says):
    res = client.post("/assessments", content=content, headers={"content-type": ctype})
    assert res.status_code == status
    assert says in res.json()["detail"]


CHUNK = b"x" * 65_536


def fifty_megabytes():
    for _ in range(50 * 2**20 // len(CHUNK)):
        yield CHUNK


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/assessments", "text/plain"),
        ("/assessments", "application/json"),
        ("/auth/login", "application/json"),
        ("/fhir/Claim/$submit", "application/fhir+json"),
        ("/ui/assess", "application/x-www-form-urlencoded"),
    ],
)
def test_a_chunked_body_over_the_limit_is_413(tmp_path, path, ctype):
    """Issue 17.8: a body sent in chunks has no Content-Length; its bytes are counted as read (5 MB)."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    client = TestClient(create_app(Settings(database_url=url), warm=False), raise_server_exceptions=False)
    sign_in(client, url)
    res = client.post(path, content=fifty_megabytes(), headers={"content-type": ctype})
    assert res.request.headers.get("content-length") is None
    assert res.request.headers.get("transfer-encoding") == "chunked"
    assert res.status_code == 413, res.text[:300]
    if path.startswith("/ui/"):  # a page's error is a page (issue 16)
        assert res.headers["content-type"].startswith("text/html") and "limit of 5,000,000" in res.text
        return
    said = res.json()["issue"][0] if path.startswith("/fhir/") else res.json()
    assert "limit of 5,000,000" in said.get("diagnostics", said.get("detail", ""))


def test_a_chunked_body_is_not_read_past_the_limit(tmp_path):
    """Straight over ASGI, one 64 KiB chunk at a time: reading stops at the limit, not at 50 MB."""
    import anyio

    url = f"sqlite:///{tmp_path / 'service.db'}"
    app = create_app(Settings(database_url=url), warm=False)
    key, _ = register(url)
    pulled, sent = 0, []

    async def receive():
        nonlocal pulled
        pulled += len(CHUNK)
        return {"type": "http.request", "body": CHUNK, "more_body": pulled < 50 * 2**20}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/assessments",
        "raw_path": b"/assessments",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"text/plain"),
            (b"transfer-encoding", b"chunked"),
            (b"authorization", f"Bearer {key}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
        "state": {},
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert pulled <= 5_000_000 + 2 * len(CHUNK)


HOSTILE = {
    "nested arrays": b'{"text": "pain", "x": ' + b"[" * 40_000 + b"]" * 40_000 + b"}",
    "nested objects": b'{"a":' * 15_000 + b"1" + b"}" * 15_000,
    "lone surrogate": b'{"text": "left L5 \\ud800 root compressed; L4-L5 microdiscectomy (63030)"}',
    "5,000 digits": b'{"resourceType": "Bundle", "type": "collection", "age": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("path", ["/assessments", "/fhir/Claim/$submit", "/cds-services/indicated-order-sign"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_json_is_a_clean_4xx(client, path, name):
    """Issue 17.10: JSON that Python's parser chokes on is bad input, never a 500."""
    res = client.post(path, content=HOSTILE[name], headers={"content-type": "application/json"})
    fhir = not path.startswith("/assessments")
    assert res.status_code == (400 if fhir else 422), res.text[:300]
    said = res.json()["issue"][0]["diagnostics"] if fhir else res.json()["detail"]
    assert said.startswith("body: ") and ("JSON" in said), said


def test_an_offset_beyond_64_bits_is_a_clean_422(client):
    res = client.get("/assessments", params={"offset": str(2**70)})
    assert res.status_code == 422 and "offset" in res.json()["detail"]
    assert client.get("/assessments", params={"offset": str(2**63 - 1)}).json()["items"] == []


def test_review_needs_a_reviewer_and_is_audited(client):
    aid = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).json()["id"]
    assert client.post(f"/assessments/{aid}/review", json={"action": "approve"}).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    assert client.post(f"/assessments/{aid}/review", json={"action": "approve"}, headers=bad).status_code == 401
    assert client.post("/auth/login", json={"username": "rev", "password": "wrong wrong wrong"}).status_code == 401
    auth = login(client)
    res = client.post(f"/assessments/{aid}/review", json={"action": "approve", "comment": "fits"}, headers=auth)
    assert res.status_code == 200
    assert res.json()["state"] == "approved"
    assert [(e["from"], e["to"], e["reviewer"], e["why"]) for e in res.json()["audit"]][-1] == (
        "under_review",
        "approved",
        "rev",
        "fits",
    )
    again = client.post(f"/assessments/{aid}/review", json={"action": "reject"}, headers=auth)
    assert again.status_code == 409
    assert client.post(f"/assessments/{aid}/review", json={"action": "delete"}, headers=auth).status_code == 422
    assert client.post(f"/assessments/{aid}/comments", json={"text": "noted"}, headers=auth).status_code == 201


def test_a_reviewers_decision_reaches_pas_inquire(client):
    case = DEV["d02_discectomy_acute_axial_only"]["text"]
    body = pas_request(record_bundle(case, ["63030"]), claim_id="r1")
    client.post("/fhir/Claim/$submit", json=body)
    (row,) = client.get("/assessments", params={"q": "", "state": "submitted"}).json()["items"]
    assert row["source"] == "pas"
    client.post(
        f"/assessments/{row['id']}/review",
        json={"action": "reject", "comment": "no radiculopathy"},
        headers=login(client),
    )
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}
    (found,) = client.post("/fhir/Claim/$inquire", json=inquiry).json()["parameter"]  # the one request of this client
    response = found["resource"]["entry"][0]["resource"]
    adjudication = response["item"][0]["adjudication"][0]["extension"][0]["extension"]
    assert any(e.get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code") == "A3" for e in adjudication)
    assert response["extension"][0]["valueBoolean"] is True


def test_web_page_escapes_the_case_and_lets_a_reviewer_approve(client):
    client.auth = None  # a browser: the login cookie, no API key
    hostile = NOTE + ' <script>alert("x")</script> <img src=x onerror=alert(1)>'
    anonymous = client.post("/ui/assess", data={"case": hostile, "policy_set": "clinical"})
    assert anonymous.url.path == "/ui/login" and "Log in" in anonymous.text  # nothing stored without a login
    wrong = client.post("/ui/login", data={"username": "rev", "password": "nope nope nope", "next": "/"})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert client.post("/ui/login", data={"username": "rev", "password": PASSWORD, "next": "/"}).status_code == 200
    page = client.post("/ui/assess", data={"case": hostile, "policy_set": "clinical"})
    assert page.status_code == 200 and page.url.path.startswith("/ui/assessments/")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;" in page.text
    assert '<mark class="met"' in page.text.split('class="record"')[1]
    assert 'id="approve"' in page.text
    aid = page.url.path.rsplit("/", 1)[-1]
    done = client.post(f"/ui/assessments/{aid}/review", data={"action": "approve", "why": "<b>fine</b>"})
    assert 'id="state">approved' in done.text
    assert done.text.count('class="audit-entry"') == 2 and "&lt;b&gt;fine&lt;/b&gt;" in done.text
    assert client.get("/ui/login", params={"next": "https://evil.example"}).text.count('value="/"') == 1
    patient = client.get(f"/ui/assessments/{aid}", params={"audience": "patient"})
    assert patient.status_code == 200 and '<mark class="met"' not in patient.text


def test_no_traceback_reaches_a_client_and_logs_hold_no_case_text(client, monkeypatch, caplog):
    marker = "Zebulon-Quattrocchi"
    import indicated.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom while reading {marker}")

    monkeypatch.setattr(indicated.pipeline, "assess", broken)
    with caplog.at_level(logging.DEBUG):
        res = client.post(
            "/assessments",
            content=f"{marker} has sciatica; microdiscectomy 63030",
            headers={"content-type": "text/plain"},
        )
    assert res.status_code == 500
    assert "Traceback" not in res.text and marker not in res.text and "boom" not in res.text
    assert marker not in caplog.text
    assert "RuntimeError" in caplog.text


def test_openapi_document_lists_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/assessments",
        "/assessments/{aid}",
        "/assessments/{aid}/review",
        "/auth/login",
        "/cds-services",
        "/fhir/Claim/$submit",
    ):
        assert path in paths, path
    assert json.dumps(paths).count("/ui/") == 0  # the web page is not part of the API


def test_domain_errors_map_to_their_codes_and_a_key_bug_to_500(client, monkeypatch):
    """An article gone between the check and the change is NotFound (404); a KeyError from a bug in
    the same path is a 500, never a 404."""
    from indicated.service import workflow

    auth = login(client)
    monkeypatch.setattr(repo, "get_assessment", lambda db, *, assessment_id: object())
    res = client.post("/assessments/gone/review", json={"action": "approve"}, headers=auth)
    assert res.status_code == 404 and res.json() == {"detail": "no assessment 'gone'"}
    monkeypatch.undo()

    aid = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).json()["id"]

    def buggy(*args, **kwargs):
        raise KeyError("approved")

    monkeypatch.setattr(workflow, "review", buggy)
    res = client.post(f"/assessments/{aid}/review", json={"action": "approve"}, headers=auth)
    assert res.status_code == 500 and res.json() == {"detail": "internal error; the request was not processed"}


def test_a_stored_article_renders_after_its_policy_is_renamed_or_withdrawn(client, settings):
    """A stored article renders from what it stored: its policy renamed or withdrawn from the knowledge
    since (here: an id today's knowledge does not hold), or stored before policies travelled with
    articles, every format and audience still answers 200 with the words it was decided under."""
    from indicated.service.tables import AssessmentRow

    renamed = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).json()["id"]
    old = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).json()["id"]
    with db.sessions(db.engine_for(settings.database_url))() as s:
        row = s.get(AssessmentRow, renamed)
        data = json.loads(row.result)
        pitfall = data["policies"][0]["pitfalls"][0]
        for ref in [x["policy"] for x in data["services"] if x["policy"]] + data["policies"]:
            ref["id"] = "withdrawn-" + ref["id"]
        row.result = json.dumps(data)
        row = s.get(AssessmentRow, old)
        data = json.loads(row.result)
        del data["policies"], data["glossary"]
        for x in data["services"]:
            del x["plain_description"]
        row.result = json.dumps(data)
        s.commit()
    for aid in (renamed, old):
        for fmt in ("markdown", "html"):
            for audience in ("clinician", "reviewer", "patient"):
                res = client.get(f"/assessments/{aid}/article", params={"format": fmt, "audience": audience})
                assert res.status_code == 200, (aid, fmt, audience, res.text)
        assert client.get(f"/ui/assessments/{aid}").status_code == 200
    article = client.get(f"/assessments/{renamed}/article", params={"format": "markdown"}).text
    assert f"- {pitfall}" in article
    assert "`withdrawn-" in client.get(f"/assessments/{renamed}/article?format=markdown&audience=reviewer").text


# issue 16, the review page: verdict first, the checklist beside the record it quotes, decisions per line

SMOKER = (Path(__file__).resolve().parents[1] / "examples" / "fusion_smoker.txt").read_text()


def _paste(client: TestClient, text: str) -> tuple[str, str]:
    """Paste a case on the page as a signed-in reviewer: its id and the page."""
    client.auth = None  # a browser: the login cookie, no API key
    client.post("/ui/login", data={"username": "rev", "password": PASSWORD, "next": "/"})
    page = client.post("/ui/assess", data={"case": text, "policy_set": "clinical"})
    assert page.status_code == 200, page.text[:300]
    return page.url.path.rsplit("/", 1)[-1], page.text


def test_the_review_page_puts_the_verdict_first_and_ties_each_criterion_to_its_words(client):
    _, text = _paste(client, SMOKER)
    article = text.split('<article id="article">')[1]
    assert article.lstrip().startswith('<header class="verdict partially_medically_necessary" id="verdict">')
    assert "Partially medically necessary." in article.split("</header>")[0]
    # the record beside the checklist, before the long sections and the references
    assert text.index('id="checklist"') < text.index('id="record-pane"') < text.index("<h2>Component questions</h2>")
    assert text.index('id="record-pane"') < text.index("<h2>References</h2>")
    lines = re.findall(r'<li id="(crit-\d+)" data-criterion="([^"]+)">(.*?)</li>', text, re.S)
    assert len(lines) >= 5
    marks = dict(re.findall(r'<mark class="[a-z_]+" id="(ev-\d+-\d+)"(?: data-crit="([^"]*)")?>', text))
    smoker = next(body for key, cid, body in lines if cid == "active-nicotine-use")
    targets = re.findall(r'<a class="to-record" href="#(ev-\d+-\d+)">“([^”]+)”</a>', smoker)
    assert [word for _, word in targets] == ["current smoker", "pack per day"]
    for target, word in targets:  # each quote links to a highlight of those words, which names its line
        key = next(k for k, cid, _ in lines if cid == "active-nicotine-use")
        assert key in marks[target].split()
        start, end = map(int, target.split("-")[1:])
        assert SMOKER[start:end] == word
    every = {t for _, _, body in lines for t in re.findall(r'href="#(ev-\d+-\d+)"', body)}
    assert every <= set(marks)  # no link to words that are not highlighted


def test_a_reviewer_decides_each_service_line_with_a_reason(client, settings):
    aid, text = _paste(client, SMOKER)
    assert 'id="lines"' in text and 'id="reject-22612"' in text and 'id="approve-63047"' in text
    reason = "Smoking <b>cessation</b> not documented"
    page = client.post(f"/ui/assessments/{aid}/lines", data={"code": "22612", "action": "reject", "why": reason})
    assert page.status_code == 200 and page.url.path == f"/ui/assessments/{aid}"
    line = page.text.split('id="line-22612"')[1].split("</tr>")[0]
    assert '<span class="decided rejected">rejected</span> by rev' in line
    assert "Smoking &lt;b&gt;cessation&lt;/b&gt; not documented" in line and "<b>cessation" not in page.text
    assert 'id="state">under review' in page.text  # deciding a line opens the review
    client.post(f"/ui/assessments/{aid}/lines", data={"code": "63047", "action": "approve", "why": "stenosis fits"})
    stored = client.get(f"/assessments/{aid}", headers=login(client)).json()
    assert [(d["code"], d["decision"], d["why"]) for d in stored["service_decisions"]] == [
        ("22612", "rejected", "Smoking <b>cessation</b> not documented"),
        ("63047", "approved", "stenosis fits"),
    ]
    whys = [(e["from"], e["to"], e["why"]) for e in stored["audit"]]
    assert whys[-2:] == [
        ("under_review", "under_review", "service 22612 rejected: Smoking <b>cessation</b> not documented"),
        ("under_review", "under_review", "service 63047 approved: stenosis fits"),
    ]
    # a line that is not the article's, or an unknown action, is refused on the page
    bad = client.post(f"/ui/assessments/{aid}/lines", data={"code": "99999", "action": "approve"})
    assert bad.status_code == 422 and "not a service of this article" in bad.text
    assert client.post(f"/ui/assessments/{aid}/lines", data={"code": "22612", "action": "maybe"}).status_code == 422
    # the whole article can still be approved; then the lines are closed
    done = client.post(f"/ui/assessments/{aid}/review", data={"action": "approve", "why": "rest fits"})
    assert 'id="state">approved' in done.text and 'id="reject-22612"' not in done.text
    closed = client.post(f"/ui/assessments/{aid}/lines", data={"code": "22612", "action": "approve"})
    assert closed.status_code == 409 and "closed" in closed.text
    with db.sessions(db.engine_for(settings.database_url))() as s:
        assert repo.verify_audit(s).intact  # the line decisions are links of the chain


def test_a_line_decision_reaches_the_pas_items_that_carry_its_code(client):
    body = pas_request(record_bundle(SMOKER, ["63047", "22612", "22840"]), claim_id="lines1")
    client.post("/fhir/Claim/$submit", json=body)
    (row,) = client.get("/assessments", params={"q": "", "state": "submitted"}).json()["items"]
    inquiry = {"resourceType": "Bundle", "type": "collection", "entry": [body["entry"][0]]}

    def decisions() -> list[str]:
        (found,) = client.post("/fhir/Claim/$inquire", json=inquiry).json()["parameter"]
        items = found["resource"]["entry"][0]["resource"]["item"]
        return [
            next(e for e in i["adjudication"][0]["extension"][0]["extension"] if "valueCodeableConcept" in e)[
                "valueCodeableConcept"
            ]["coding"][0]["code"]
            for i in items
        ]

    assert decisions() == ["A1", "A4", "A4"]
    auth = login(client)
    res = client.post(
        f"/assessments/{row['id']}/services/22612/review", json={"action": "reject", "comment": "smoker"}, headers=auth
    )
    assert res.status_code == 200 and res.json()["state"] == "under_review"
    assert decisions() == ["A1", "A3", "A4"]  # only the item carrying 22612 is decided
    # approving the whole article decides the lines not decided one by one; the rejected line stands
    client.post(f"/assessments/{row['id']}/review", json={"action": "approve", "comment": "rest fits"}, headers=auth)
    assert decisions() == ["A1", "A3", "A1"]
    unknown = client.post(f"/assessments/{row['id']}/services/63030/review", json={"action": "reject"}, headers=auth)
    assert unknown.status_code == 422


def test_page_errors_are_pages_and_the_api_keeps_json(client, monkeypatch):
    _paste(client, NOTE)
    for path, status in (("/ui/assessments/nope", 404), ("/ui/nowhere", 404), ("/ui/assessments?q=x", 200)):
        res = client.get(path)
        assert res.status_code == status, path
        assert res.headers["content-type"].startswith("text/html"), path
    missing = client.get("/ui/assessments/nope")
    assert '<h1 id="error">404 · Not Found</h1>' in missing.text and "no assessment" in missing.text
    assert 'rel="stylesheet" href="/ui/style.css"' in missing.text and '{"detail"' not in missing.text
    aid = client.get("/assessments", headers=login(client)).json()["items"][0]["id"]
    bad = client.get(f"/ui/assessments/{aid}", params={"audience": "nobody"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert client.get("/assessments/nope", headers=login(client)).json() == {"detail": "no assessment 'nope'"}

    import indicated.service.web

    def broken(*args, **kwargs):
        raise RuntimeError("boom Zebulon")

    monkeypatch.setattr(indicated.service.web.followup, "article_sections", broken)
    failed = client.get(f"/ui/assessments/{aid}")
    assert failed.status_code == 500 and failed.headers["content-type"].startswith("text/html")
    assert "Internal Server Error" in failed.text and "boom" not in failed.text and "Traceback" not in failed.text


def test_a_favicon_and_the_pages_script_are_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and client.get("/favicon.svg").text == icon.text
    assert '<link rel="icon" href="/favicon.svg"' in client.get("/ui/login").text
    script = client.get("/ui/app.js")
    assert script.status_code == 200 and "data-crit~=" in script.text


def test_the_api_docs_load_nothing_from_another_host(client):
    for path, bundle in (
        ("/docs", "/docs-assets/swagger-ui-bundle.js"),
        ("/redoc", "/docs-assets/redoc.standalone.js"),
    ):
        page = client.get(path)
        assert page.status_code == 200 and bundle in page.text, path
        assert "https://" not in page.text and "http://" not in page.text, path
        assert re.findall(r"<script>", page.text) == [], path  # no inline script
        csp = page.headers["content-security-policy"]
        assert "https:" not in csp and "script-src 'self';" in csp, path
        assert client.get(bundle).status_code == 200
    assert client.get("/static/swagger-init.js").status_code == 200
    assert client.get("/static/redoc-init.js").status_code == 200
