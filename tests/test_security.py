"""Issue 17, findings 7, 9 and 10: login throttling, a busy database, security headers, the login
cookie over HTTPS, NaN in JSON and idempotent creation. No assertion depends on the wall clock: time
is moved by replacing the throttle's clock, concurrency is counted by spies."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from credentials import sign_in
from indicated.fhir.samples import crd_request, pas_request, record_bundle
from indicated.service import auth, create_app, db, repo
from indicated.service.settings import Settings

NOTE = "L4-L5 disc extrusion compressing the left L5 root; 8 weeks of failed PT; left L4-L5 microdiscectomy (63030)."
PASSWORD = "a long enough password"
WRONG = "not the password at all"


def settings_for(tmp_path: Path, **extra: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", **extra)


def client_for(settings: Settings, **kwargs: object) -> TestClient:
    """A client of the service that calls as a registered client (an API key; a JWT on CDS Hooks)."""
    client = TestClient(create_app(settings, warm=False), raise_server_exceptions=False, **kwargs)
    sign_in(client, settings.database_url, name=f"client-{len(registered)}")
    registered.append(client)
    return client


registered: list[TestClient] = []


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Argon2 at its smallest cost: these tests count verifications, they do not time them."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    auth.dummy_hash.cache_clear()
    yield
    auth.dummy_hash.cache_clear()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return settings_for(tmp_path)


@pytest.fixture
def client(settings) -> TestClient:
    client = client_for(settings)
    with db.sessions(db.engine_for(settings.database_url))() as s:
        repo.add_reviewer(s, username="rev", password=PASSWORD)
    return client


def api_login(client: TestClient, password: str, username: str = "rev"):
    return client.post("/auth/login", json={"username": username, "password": password})


def ui_login(client: TestClient, password: str, username: str = "rev"):
    return client.post("/ui/login", data={"username": username, "password": password, "next": "/"})


# 17.7 password guessing


@pytest.mark.parametrize("send", [api_login, ui_login], ids=["api", "web"])
def test_the_11th_wrong_password_within_a_minute_gets_429(client, send):
    for _ in range(10):
        assert send(client, WRONG).status_code == 401
    refused = send(client, WRONG)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert send(client, PASSWORD).status_code == 429  # the right password waits too: no guessing on
    if send is ui_login:
        assert "Too many failed log-ins" in refused.text and "<form" in refused.text
    else:
        assert "too many failed log-ins" in refused.json()["detail"]


def test_the_throttle_lets_go_after_the_window_and_a_success_forgets(client, monkeypatch):
    from datetime import timedelta

    for _ in range(10):
        api_login(client, WRONG)
    assert api_login(client, PASSWORD).status_code == 429
    later = repo.now() + timedelta(seconds=61)
    monkeypatch.setattr("indicated.service.throttle.now", lambda: later)
    assert api_login(client, PASSWORD).status_code == 200
    for _ in range(10):  # the success forgot the user's failures: ten more before the next 429
        assert api_login(client, WRONG).status_code == 401
    assert api_login(client, WRONG).status_code == 429


def test_one_address_guessing_many_names_is_throttled(tmp_path):
    client = client_for(settings_for(tmp_path, login_max_failures_per_address=5))
    for i in range(5):
        assert api_login(client, WRONG, username=f"user{i}").status_code == 401
    assert api_login(client, WRONG, username="user-next").status_code == 429


def test_the_throttle_holds_across_worker_processes(client, settings):
    """Failures are counted in the database, so two workers on one database share one allowance."""
    other = client_for(settings)  # a second worker: its own app, the same database
    for _ in range(5):
        assert api_login(client, WRONG).status_code == 401
        assert api_login(other, WRONG).status_code == 401
    assert api_login(client, WRONG).status_code == 429
    assert api_login(other, WRONG).status_code == 429


def test_an_unknown_user_costs_a_password_verification(client, monkeypatch):
    """Timing must not tell names apart: an unknown name is checked against a dummy Argon2 hash."""
    checked: list[str] = []
    real = auth.verify_password

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(auth, "verify_password", spy)
    assert api_login(client, WRONG, username="nobody-here").status_code == 401
    assert ui_login(client, WRONG, username="nobody-either").status_code == 401
    assert len(checked) == 2 and all(s.startswith("$argon2id$") for s in checked)


def test_a_burst_of_logins_never_hashes_more_than_the_bound_at_once(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, login_max_hashing=2)
    client = client_for(settings)
    with db.sessions(db.engine_for(settings.database_url))() as s:
        repo.add_reviewer(s, username="rev", password=PASSWORD)
    lock, running, most, calls = threading.Lock(), [0], [0], [0]
    real = auth.verify_password
    release = threading.Event()

    def spy(stored: str, password: str) -> bool:
        with lock:
            running[0] += 1
            calls[0] += 1
            most[0] = max(most[0], running[0])
        release.wait(0.05)  # hold the slot a moment so that unbounded hashing would overlap
        try:
            return real(stored, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(auth, "verify_password", spy)
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: api_login(client, PASSWORD).status_code, range(12)))
    assert codes == [200] * 12 and calls[0] == 12
    assert most[0] <= 2


# 17.9 a busy database


def hold_write_lock(url: str):
    """Another connection holding the database's write lock (SQLite) or the assessments table (PostgreSQL)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        return conn
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    conn.execute("LOCK TABLE assessments IN ACCESS EXCLUSIVE MODE")
    return conn


def test_a_locked_database_is_503_with_retry_after_and_pages_without_it_still_answer(database_url):
    client = client_for(Settings(database_url=database_url, db_lock_timeout_seconds=0.3))
    holder = hold_write_lock(database_url)
    try:
        res = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"})
        assert res.status_code == 503, res.text[:300]
        assert int(res.headers["retry-after"]) >= 1
        assert "busy" in res.json()["detail"] and "Traceback" not in res.text and "L4-L5" not in res.text
        fhir = client.post("/fhir/Claim/$submit", json=pas_request(record_bundle(NOTE, ["63030"]), claim_id="b1"))
        assert fhir.status_code == 503 and fhir.json()["resourceType"] == "OperationOutcome"
        assert "retry-after" in fhir.headers
        for page in ("/", "/ui/login", "/cds-services"):
            assert client.get(page).status_code == 200, page
    finally:
        holder.rollback()
        holder.close()
    assert client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).status_code == 201


def test_pages_that_need_no_database_open_no_session(client):
    def refuse():
        raise AssertionError("this page opened a database session")

    client.app.state.sessions = refuse
    for page in ("/", "/ui/login", "/cds-services"):
        assert client.get(page).status_code == 200, page


# 17.10 headers, cookie, NaN, idempotency


def test_every_response_carries_security_headers(client):
    aid = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).json()["id"]
    for path in ("/", "/ui/login", f"/ui/assessments/{aid}", "/ui/assessments", "/assessments", "/nope", "/docs"):
        res = client.get(path)
        csp = res.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, path
        assert res.headers.get("x-content-type-options") == "nosniff", path
        assert res.headers.get("x-frame-options") == "DENY", path
        assert res.headers.get("referrer-policy") == "no-referrer", path
    assert client.post("/assessments", content=b"", headers={"content-type": "text/plain"}).headers.get(
        "x-frame-options"
    ) == ("DENY")


def test_pages_need_no_inline_style_or_script_and_the_article_style_is_hashed(client):
    """The strict policy holds the pages to their own stylesheet and script file; the standalone article
    keeps its inline style (it is a file one can mail), allowed by its hash and nothing wider."""
    from indicated.render.html import CSS

    aid = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).json()["id"]
    for path in ("/", "/ui/login", f"/ui/assessments/{aid}", "/ui/assessments"):
        text = client.get(path).text
        assert "<style" not in text and " style=" not in text, path
        assert re.findall(r"<script[^>]*>", text) == ['<script src="/ui/app.js" defer>'], path  # no inline script
        assert " onclick=" not in text and "javascript:" not in text, path
        assert 'rel="stylesheet" href="/ui/style.css"' in text
    sheet = client.get("/ui/style.css")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css") and "mark" in sheet.text
    script = client.get("/ui/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    article = client.get(f"/assessments/{aid}/article", params={"format": "html"})
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    csp = article.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in csp and "unsafe-inline" not in csp


def test_the_login_cookie_is_secure_over_https(client, settings):
    plain = ui_login(client_for(settings, follow_redirects=False), PASSWORD)
    assert plain.status_code == 303 and "secure" not in plain.headers["set-cookie"].lower()
    https = ui_login(client_for(settings, base_url="https://testserver", follow_redirects=False), PASSWORD)
    cookie = https.headers["set-cookie"].lower()
    assert https.status_code == 303 and "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("number", NON_FINITE)
def test_nan_and_infinity_in_a_json_case_are_refused(client, number):
    body = f'{{"text": {json.dumps(NOTE)}, "conservative_care_weeks": {number}}}'
    res = client.post("/assessments", content=body, headers={"content-type": "application/json"})
    assert res.status_code == 422, res.text[:300]
    assert "not a finite number" in res.json()["detail"]
    assert client.get("/assessments").json()["total"] == 0


@pytest.mark.parametrize("path", ["/fhir/Claim/$submit", "/cds-services/indicated-order-sign", "/assessments"])
def test_nan_in_a_fhir_quantity_is_refused(client, path):
    """A Bundle whose Observation has ``"value": NaN`` (CDS Hooks took it and answered 200)."""
    bundle = record_bundle(NOTE, ["63030"])
    pain = {"resourceType": "Observation", "id": "pain", "status": "final", "code": {"text": "pain score"}}
    pain = {"resource": {**pain, "valueQuantity": {"value": 7654321}}}
    bundle["entry"].append(pain)
    hook = crd_request(bundle)
    hook["prefetch"]["observations"] = {"resourceType": "Bundle", "type": "searchset", "entry": [pain]}
    body = {"/assessments": bundle, "/fhir/Claim/$submit": pas_request(bundle, claim_id="n1")}.get(path, hook)
    text = json.dumps(body).replace("7654321", "NaN")
    assert "NaN" in text
    res = client.post(path, content=text, headers={"content-type": "application/json"})
    fhir = not path.startswith("/assessments")
    assert res.status_code == (400 if fhir else 422), res.text[:300]
    said = res.json()["issue"][0]["diagnostics"] if fhir else res.json()["detail"]
    assert "not a finite number" in said


def create_keyed(client: TestClient, key: str, body: str = NOTE, **headers: str):
    return client.post(
        "/assessments", content=body, headers={"content-type": "text/plain", "idempotency-key": key, **headers}
    )


def test_an_idempotency_key_replays_the_first_assessment(client, settings):
    first = create_keyed(client, "k-1")
    assert first.status_code == 201
    again = create_keyed(client, "k-1")
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["links"] == first.json()["links"]
    restarted = TestClient(create_app(settings, warm=False), raise_server_exceptions=False)
    restarted.auth = client.auth  # the same client, to a new process on the same database
    after_restart = create_keyed(restarted, "k-1")
    assert after_restart.status_code == 200 and after_restart.json()["id"] == first.json()["id"]
    other_body = create_keyed(client, "k-1", NOTE + " Also numb.")
    assert other_body.status_code == 422 and "Idempotency-Key" in other_body.json()["detail"]
    other_client = create_keyed(client_for(settings), "k-1")  # another registered client
    assert other_client.status_code == 201 and other_client.json()["id"] != first.json()["id"]
    assert create_keyed(client, "k-2").status_code == 201
    assert client.get("/assessments").json()["total"] == 2  # its own two; the other client's is not listed
    assert create_keyed(client, "x" * 300).status_code == 422


def test_two_retries_at_once_store_one_assessment(database_url, monkeypatch):
    """Both requests assess at the same moment (a barrier inside the engine); one stores, the other replays
    (a SQLite file and PostgreSQL)."""
    import indicated.pipeline

    client = client_for(Settings(database_url=database_url))

    real, start = indicated.pipeline.assess, threading.Barrier(2, timeout=20)

    def together(*args, **kwargs):
        start.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(indicated.pipeline, "assess", together)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: create_keyed(client, "same"), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 201], [a.text[:200] for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert client.get("/assessments").json()["total"] == 1


def test_migration_0004_creates_the_throttle_and_idempotency_tables(database_url):
    engine = db.engine_for(database_url)
    db.upgrade(engine)
    assert {"login_failures", "idempotency_keys"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_no_connection_is_held_while_a_case_is_assessed(client, monkeypatch):
    """Assessing takes tens of milliseconds of CPU: the request's connection goes back to the pool while
    it runs, so 50 clients do not exhaust it (503 after the pool timeout), and on SQLite no read
    snapshot taken to check the key is left to block the write that follows."""
    import indicated.pipeline

    real, held = indicated.pipeline.assess, []

    def assess(*args, **kwargs):
        held.append(client.app.state.sessions.kw["bind"].pool.checkedout())
        return real(*args, **kwargs)

    monkeypatch.setattr(indicated.pipeline, "assess", assess)
    made = client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"})
    assert made.status_code == 201 and held == [0]


def test_a_burst_of_requests_assesses_a_few_cases_at_a_time(tmp_path, monkeypatch):
    """Assessing is CPU work under the GIL: 12 requests at once run at most ``assess_threads`` assessments
    together, so the threads that write to the database are not starved of their turn (issue 17, load)."""
    import time

    import indicated.pipeline

    client = client_for(settings_for(tmp_path, assess_threads=2))
    real, lock, running, most = indicated.pipeline.assess, threading.Lock(), [0], [0]

    def assess(*args, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # hold the slot long enough for the others to arrive
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(indicated.pipeline, "assess", assess)
    with ThreadPoolExecutor(12) as pool:
        codes = list(
            pool.map(
                lambda _: client.post("/assessments", content=NOTE, headers={"content-type": "text/plain"}).status_code,
                range(12),
            )
        )
    assert codes == [201] * 12 and most[0] == 2
