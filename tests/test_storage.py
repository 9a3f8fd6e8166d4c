"""Storage on SQLite and PostgreSQL: migrations, assessments and search, reviewers and sessions, the
review workflow and its append-only audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from indicated.errors import NotFound
from indicated.pipeline import assess
from indicated.service import db, repo

NOTE = "L4-L5 disc extrusion compressing the left L5 root; 8 weeks of failed PT; left L4-L5 microdiscectomy (63030)."


@pytest.fixture
def session(database_url):
    engine = db.engine_for(database_url)
    db.upgrade(engine)
    db.upgrade(engine)  # idempotent
    with db.sessions(engine)() as s:
        yield s
    engine.dispose()


def test_migrations_create_every_table(session):
    tables = set(inspect(session.get_bind()).get_table_names())
    assert {"assessments", "reviewers", "sessions", "comments", "audit_log", "prior_auths", "alembic_version"} <= tables
    if session.get_bind().dialect.name == "sqlite":
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_assessments_are_stored_listed_and_searched(session):
    a = assess(NOTE)
    rows = [
        repo.create_assessment(session, assessment=a, title=f"Case {i} discectomy", source="text") for i in range(5)
    ]
    other = repo.create_assessment(
        session, assessment=assess("Knee replacement (27447) for arthritis."), title="Knee", source="text"
    )
    got = repo.get_assessment(session, assessment_id=rows[0].id)
    assert got is not None and got.state == "submitted" and '"determination"' in got.result
    total, page = repo.list_assessments(session, limit=2)
    assert total == 6 and len(page) == 2
    total, found = repo.list_assessments(session, query="DISCECTOMY")
    assert total == 5 and other.id not in {r.id for r in found}
    total, found = repo.list_assessments(session, query=other.determination)
    assert other.id in {r.id for r in found}
    assert repo.list_assessments(session, query=rows[2].id[:10])[1][0].id == rows[2].id
    assert repo.get_assessment(session, assessment_id="missing") is None


def test_reviewers_log_in_and_sessions_expire(session):
    repo.add_reviewer(session, username="ana", password="correct horse battery")
    with pytest.raises(repo.WorkflowError):
        repo.add_reviewer(session, username="ana", password="another long one")
    with pytest.raises(ValueError, match="at least"):
        repo.add_reviewer(session, username="bo", password="short")
    assert repo.login(session, username="ana", password="wrong password!", hours=1) is None
    assert repo.login(session, username="nobody", password="correct horse battery", hours=1) is None
    token = repo.login(session, username="ana", password="correct horse battery", hours=1)
    assert repo.reviewer_for(session, token=token).username == "ana"
    stored = session.execute(text("SELECT password_hash FROM reviewers")).scalar()
    assert stored.startswith("$argon2id$") and "correct" not in stored
    assert token not in str(session.execute(text("SELECT token_hash FROM sessions")).all())
    expired = repo.login(session, username="ana", password="correct horse battery", hours=-1)
    assert repo.reviewer_for(session, token=expired) is None
    repo.logout(session, token=token)
    assert repo.reviewer_for(session, token=token) is None


def test_reviewer_accounts_listed_repassworded_and_removed(session):
    """A new password or a removed account ends the sessions opened before it."""
    repo.add_reviewer(session, username="cy", password="first long password")
    repo.add_reviewer(session, username="di", password="second long password")
    assert [r.username for r in repo.reviewers(session)] == ["cy", "di"]
    old = repo.login(session, username="cy", password="first long password", hours=1)
    repo.set_password(session, username="cy", password="a brand new password")
    assert repo.reviewer_for(session, token=old) is None
    assert repo.login(session, username="cy", password="first long password", hours=1) is None
    assert repo.login(session, username="cy", password="a brand new password", hours=1)
    gone = repo.login(session, username="di", password="second long password", hours=1)
    repo.remove_reviewer(session, username="di")
    assert repo.reviewer_for(session, token=gone) is None
    assert [r.username for r in repo.reviewers(session)] == ["cy"]
    with pytest.raises(NotFound, match="no reviewer 'di'"):
        repo.set_password(session, username="di", password="whatever long enough")


def test_review_workflow_and_append_only_audit(session):
    row = repo.create_assessment(session, assessment=assess(NOTE), title="t", source="text")
    repo.transition(session, assessment_id=row.id, to_state="approved", reviewer="ana", why="imaging correlates")
    entries = repo.audit(session, assessment_id=row.id)
    assert [(e.from_state, e.to_state, e.reviewer) for e in entries] == [
        ("submitted", "under_review", "ana"),
        ("under_review", "approved", "ana"),
    ]
    assert entries[-1].why == "imaging correlates" and entries[-1].at is not None
    with pytest.raises(repo.WorkflowError, match="approved cannot become rejected"):
        repo.transition(session, assessment_id=row.id, to_state="rejected", reviewer="bo")
    assert repo.get_assessment(session, assessment_id=row.id).state == "approved"
    with pytest.raises(NotFound, match="no assessment 'nope'"):
        repo.transition(session, assessment_id="nope", to_state="approved", reviewer="bo")
    for statement in ("UPDATE audit_log SET why = 'changed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert len(repo.audit(session, assessment_id=row.id)) == 2
    repo.add_comment(session, assessment_id=row.id, reviewer="ana", text="ok")
    assert [c.text for c in repo.comments(session, assessment_id=row.id)] == ["ok"]


def test_prior_authorization_requests_survive_in_the_database(database_url):
    from indicated.fhir.samples import pas_request, record_bundle
    from indicated.service.pas import submit
    from indicated.service.prior_auths import PriorAuths, StoredPriorAuths

    engine = db.engine_for(database_url)
    db.upgrade(engine)
    body = pas_request(record_bundle(NOTE, ["63030"]), claim_id="keep1")
    submit(body, store=StoredPriorAuths(db.sessions(engine)))
    again = StoredPriorAuths(db.sessions(engine))  # as after a restart
    key = "urn:example:provider-claims|keep1"
    auth = again.find(key)
    assert auth is not None and [i.codes for i in auth.items] == [["63030"]]
    again.decide_all(auth.assessment_id, "A3", reviewer="ana")
    decided = StoredPriorAuths(db.sessions(engine)).find(key)
    assert [(i.decision, i.reviewer) for i in decided.items] == [("A3", "ana")] and decided.reviewed
    assert isinstance(again, PriorAuths) and again.find("nope") is None
    engine.dispose()
