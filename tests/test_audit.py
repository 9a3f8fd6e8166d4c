"""The audit log as evidence (issue 17, finding 5): the database refuses to rewrite it (REPLACE INTO
on SQLite, TRUNCATE on PostgreSQL, as well as UPDATE and DELETE), every entry carries the hash of the
one before, and `indicated audit verify` finds the first broken link, an article whose state moved
without an entry, and history rewritten before a recorded anchor. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from indicated.cli import app
from indicated.errors import WorkflowError
from indicated.pipeline import assess
from indicated.service import db, repo
from indicated.service.tables import AuditEntry, entry_hash

NOTE = "L4-L5 disc extrusion compressing the left L5 root; 8 weeks of failed PT; left L4-L5 microdiscectomy (63030)."
WHY = "imaging correlates with the left L5 radiculopathy"  # stands for case text: never printed


@pytest.fixture(scope="module")
def article():
    return assess(NOTE)


@pytest.fixture
def engine(database_url):
    engine = db.engine_for(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def _reviewed(engine, article, n: int = 3) -> list[str]:
    """``n`` articles, each approved with a reason: two audit entries apiece, chained in order."""
    with db.sessions(engine)() as s:
        ids = [repo.create_assessment(s, assessment=article, title=f"case {i}", source="text").id for i in range(n)]
        for aid in ids:
            repo.transition(s, assessment_id=aid, to_state="approved", reviewer="ana", why=WHY)
    return ids


def _verify(engine) -> repo.AuditReport:
    with db.sessions(engine)() as s:
        return repo.verify_audit(s)


def _as_owner(engine, *statements: str) -> None:
    """Run SQL as the database's owner would, with the append-only triggers out of the way: an
    attacker with those rights, whom only the hash chain can still catch."""
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for statement in statements:
            conn.exec_driver_sql(statement)
        if not sqlite:
            conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")


def _ids(engine) -> list[tuple[int, int]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT id, seq FROM audit_log ORDER BY seq"))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_refuses_replace_into_the_audit_log(engine, article):
    """REPLACE INTO deletes the old row and inserts the new one without firing the DELETE trigger
    (recursive_triggers is off): a BEFORE INSERT trigger refuses an id or a sequence number taken."""
    _reviewed(engine, article, 1)
    with engine.connect() as conn:
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(audit_log)")]
        first_id = conn.exec_driver_sql("SELECT min(id) FROM audit_log").scalar()
    forged = {"reviewer": "'mallory'", "why": "'rewritten'"}
    values = ", ".join(forged.get(c, c) for c in columns)
    forgeries = [
        f"REPLACE INTO audit_log ({', '.join(columns)}) SELECT {values} FROM audit_log WHERE id = {first_id}",
        # the same through the unique sequence number, with a fresh id
        f"INSERT OR REPLACE INTO audit_log ({', '.join(c for c in columns if c != 'id')}) "
        f"SELECT {', '.join(forged.get(c, c) for c in columns if c != 'id')} FROM audit_log WHERE id = {first_id}",
        "UPDATE audit_log SET why = 'changed'",
        "DELETE FROM audit_log",
    ]
    with engine.connect() as conn:
        for statement in forgeries:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.exec_driver_sql(statement)
            conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM audit_log WHERE why = :w"), {"w": WHY}).scalar() == 2
    assert _verify(engine).intact


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_refuses_truncate_of_the_audit_log(engine, article):
    _reviewed(engine, article, 1)
    statements = [
        "TRUNCATE audit_log",
        "TRUNCATE assessments CASCADE",  # reaches audit_log through its foreign key
        "UPDATE audit_log SET why = 'changed'",
        "DELETE FROM audit_log",
        "INSERT INTO audit_log SELECT * FROM audit_log ON CONFLICT (id) DO UPDATE SET why = 'x'",
    ]
    with engine.connect() as conn:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"):
                conn.exec_driver_sql(statement)
            conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 2
    assert _verify(engine).intact


def test_an_entry_must_take_its_place_in_the_chain(engine, article):
    """A raw INSERT without a sequence number and hashes is refused (NOT NULL, or a trigger on SQLite)."""
    (aid,) = _reviewed(engine, article, 1)
    with engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(
            text(
                "INSERT INTO audit_log (assessment_id, reviewer, at, from_state, to_state, why) "
                "VALUES (:a, 'mallory', CURRENT_TIMESTAMP, 'approved', 'approved', 'unchained')"
            ),
            {"a": aid},
        )


def test_a_chained_log_verifies_and_names_its_head(engine, article):
    assert _verify(engine).intact and _verify(engine).entries == 0
    ids = _reviewed(engine, article)
    report = _verify(engine)
    assert report.intact, report
    assert (report.entries, report.assessments, report.head_seq) == (6, 3, 6)
    assert [seq for _, seq in _ids(engine)] == [1, 2, 3, 4, 5, 6]
    with db.sessions(engine)() as s:
        entries = [e for aid in ids for e in repo.audit(s, assessment_id=aid)]
    by_seq = sorted(entries, key=lambda e: e.seq)
    assert by_seq[0].prev_hash == repo.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(by_seq))
    assert report.head_hash == by_seq[-1].hash and len(report.head_hash) == 64


def test_verify_finds_a_row_rewritten_by_the_database_owner(engine, article):
    _reviewed(engine, article)
    target, seq = _ids(engine)[3]
    _as_owner(engine, f"UPDATE audit_log SET why = 'no imaging', reviewer = 'bo' WHERE id = {target}")
    report = _verify(engine)
    assert not report.intact
    first = report.breaks[0]
    assert (first.id, first.seq, first.problem) == (target, seq, "hash mismatch")
    assert len(report.breaks) == 1  # the rows after it still link to the hash it carries


def test_verify_finds_a_rewrite_whose_hash_was_recomputed(engine, article):
    """An attacker who recomputes the forged row's own hash breaks the next row's link instead."""
    _reviewed(engine, article)
    rows = _ids(engine)
    (target, _), (after, after_seq) = rows[2], rows[3]
    _as_owner(engine, f"UPDATE audit_log SET hash = '{'f' * 64}' WHERE id = {target}")
    report = _verify(engine)
    problems = [(b.id, b.problem) for b in report.breaks]
    assert problems == [(target, "hash mismatch"), (after, "prev_hash mismatch")]
    assert report.breaks[1].seq == after_seq


def test_verify_finds_a_deleted_entry_and_a_forged_one(engine, article):
    ids = _reviewed(engine, article)
    rows = _ids(engine)
    gone, (after, after_seq) = rows[1], rows[2]
    _as_owner(engine, f"DELETE FROM audit_log WHERE id = {gone[0]}")
    report = _verify(engine)
    assert (report.breaks[0].id, report.breaks[0].seq, report.breaks[0].problem) == (after, after_seq, "gap")

    # a row inserted with raw SQL, its hashes copied from its neighbour, at a sequence number of its own
    _as_owner(
        engine,
        "INSERT INTO audit_log (seq, assessment_id, reviewer, at, from_state, to_state, why, prev_hash, hash) "
        "SELECT 7, assessment_id, reviewer, at, 'approved', 'rejected', 'forged', hash, hash FROM audit_log "
        "WHERE seq = 6",
    )
    with engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET state = 'rejected' WHERE id = :a"), {"a": ids[-1]})
    report = _verify(engine)
    forged = _ids(engine)[-1][0]
    assert [(b.id, b.problem) for b in report.breaks] == [(after, "gap"), (forged, "hash mismatch")]


def test_verify_detects_a_state_changed_without_an_audit_entry(engine, article):
    """UPDATE assessments SET state = ... writes no entry; verify compares each article's state with
    the state its entries lead to, and names the article."""
    ids = _reviewed(engine, article, 2)
    with db.sessions(engine)() as s:
        untouched = repo.create_assessment(s, assessment=article, title="quiet", source="text").id
        opened = repo.create_assessment(s, assessment=article, title="opened", source="text").id
        repo.transition(s, assessment_id=opened, to_state="under_review", reviewer="ana")
    assert _verify(engine).intact
    with engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET state = 'rejected' WHERE id = :a"), {"a": ids[0]})
        conn.execute(text("UPDATE assessments SET state = 'approved' WHERE id = :a"), {"a": untouched})
    report = _verify(engine)
    assert not report.intact and not report.breaks  # the chain itself is whole
    assert {(m.assessment_id, m.recorded, m.actual) for m in report.mismatches} == {
        (ids[0], "approved", "rejected"),
        (untouched, "submitted", "approved"),
    }
    # moved back by hand, then decided through the workflow: the log now skips a step
    with engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET state = 'submitted' WHERE id = :a"), {"a": untouched})
        conn.execute(text("UPDATE assessments SET state = 'under_review' WHERE id = :a"), {"a": untouched})
    with db.sessions(engine)() as s:
        repo.transition(s, assessment_id=untouched, to_state="approved", reviewer="bo")
    report = _verify(engine)
    assert {(m.assessment_id, m.recorded, m.actual) for m in report.mismatches} == {
        (ids[0], "approved", "rejected"),
        (untouched, "submitted", "under_review"),  # the entry says it moved from a state the log never gave it
    }
    skipped = next(m for m in report.mismatches if m.assessment_id == untouched)
    assert skipped.seq == report.head_seq


def test_an_anchor_catches_a_chain_rewritten_consistently(engine, article):
    """Recomputing every hash after a forged row leaves a chain that verifies; a head recorded
    elsewhere (``--anchor SEQ:HASH``) does not match it any more."""
    _reviewed(engine, article)
    before = _verify(engine)
    anchor = (before.head_seq, before.head_hash)
    assert _verify_with(engine, anchor).intact
    with db.sessions(engine)() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    prev, updates = repo.GENESIS, []
    for r in rows:
        why = "forged" if r.seq == 2 else r.why
        digest = entry_hash(
            seq=r.seq,
            assessment_id=r.assessment_id,
            reviewer=r.reviewer,
            at=r.at,
            from_state=r.from_state,
            to_state=r.to_state,
            why=why,
            prev_hash=prev,
        )
        updates.append(f"UPDATE audit_log SET why = '{why}', prev_hash = '{prev}', hash = '{digest}' WHERE id = {r.id}")
        prev = digest
    _as_owner(engine, *updates)
    assert _verify(engine).intact  # what a hash chain alone cannot see
    report = _verify_with(engine, anchor)
    assert not report.intact and report.breaks[-1].problem == "anchor mismatch"
    assert report.breaks[-1].seq == anchor[0]


def _verify_with(engine, anchor: tuple[int, str]) -> repo.AuditReport:
    with db.sessions(engine)() as s:
        return repo.verify_audit(s, anchor=anchor)


def test_concurrent_reviews_leave_one_unbroken_chain(engine, article):
    """20 rounds of four reviewers at once on one database (threads, each with its own connection:
    the serialisation is the database's): a race on one article, two articles decided side by side.
    Never two entries chained from the same one; the log agrees with every article's state."""
    sessions = db.sessions(engine)
    with sessions() as s:
        ids = [repo.create_assessment(s, assessment=article, title=f"r{i}", source="text").id for i in range(60)]
        for aid in ids[::3]:
            repo.transition(s, assessment_id=aid, to_state="under_review", reviewer="ana")

    def act(aid: str, to_state: str, start: threading.Barrier) -> bool:
        with sessions() as s:
            start.wait()
            try:
                repo.transition(s, assessment_id=aid, to_state=to_state, reviewer="r", why=WHY)
            except WorkflowError:
                return False
            return True

    with ThreadPoolExecutor(4) as pool:
        for n in range(20):
            race, left, right = ids[3 * n : 3 * n + 3]
            start = threading.Barrier(4)
            jobs = [(race, "approved"), (race, "rejected"), (left, "approved"), (right, "rejected")]
            done = [f.result(timeout=60) for f in [pool.submit(act, aid, to, start) for aid, to in jobs]]
            assert done[:2].count(True) == 1 and done[2:] == [True, True]
    report = _verify(engine)
    assert report.intact, report
    assert report.entries == 20 + 20 * (1 + 2 + 2) and report.head_seq == report.entries


def test_entries_added_without_a_state_change_chain_under_the_same_lock(engine, article):
    """The follow-up page adds entries by themselves, with no UPDATE before them to take SQLite's
    write lock: appended from four threads at once, 20 times, they still form one chain."""
    (aid,) = _reviewed(engine, article, 1)
    sessions = db.sessions(engine)

    def note(n: int, start: threading.Barrier) -> None:
        with sessions() as s:
            start.wait()
            s.add_all(
                [
                    AuditEntry(assessment_id=aid, reviewer=f"r{n}", at=repo.now(), from_state=st, to_state=st, why=WHY)
                    for st in ("approved", "approved")
                ]
            )
            s.commit()

    with ThreadPoolExecutor(4) as pool:
        for _ in range(20):
            start = threading.Barrier(4)
            for f in [pool.submit(note, n, start) for n in range(4)]:
                f.result(timeout=60)
    report = _verify(engine)
    assert report.intact, report
    assert report.entries == report.head_seq == 2 + 20 * 4 * 2


def test_migration_chains_the_entries_written_before_it(database_url):
    """A database at 0002 with entries (and a follow-up entry whose from and to are the same) is
    chained in id order by 0003 and verifies."""
    from alembic import command
    from alembic.config import Config

    engine = db.engine_for(database_url)
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    command.upgrade(config, "0002")
    with engine.begin() as conn:
        for aid, state in (("a1", "approved"), ("a2", "under_review")):
            conn.execute(
                text(
                    "INSERT INTO assessments (id, created_at, title, determination, policy_set, state, source, result) "
                    "VALUES (:id, :at, 't', 'medically_necessary', 'clinical', :state, 'text', '{}')"
                ),
                {"id": aid, "at": repo.now(), "state": state},
            )
        for aid, frm, to in (
            ("a1", "submitted", "under_review"),
            ("a2", "submitted", "under_review"),
            ("a1", "under_review", "approved"),
            ("a1", "approved", "approved"),
        ):
            conn.execute(
                text(
                    "INSERT INTO audit_log (assessment_id, reviewer, at, from_state, to_state, why) "
                    "VALUES (:a, 'ana', :at, :f, :t, 'old entry')"
                ),
                {"a": aid, "at": repo.now(), "f": frm, "t": to},
            )
    db.upgrade(engine)
    report = _verify(engine)
    assert report.intact and report.entries == 4, report
    assert [seq for _, seq in _ids(engine)] == [1, 2, 3, 4]
    assert [i for i, _ in _ids(engine)] == sorted(i for i, _ in _ids(engine))
    with db.sessions(engine)() as s:  # and new entries chain on from the back-filled head
        repo.transition(s, assessment_id="a2", to_state="rejected", reviewer="bo")
    assert _verify(engine).intact and _verify(engine).head_seq == 5
    engine.dispose()


def test_cli_audit_verify_exit_code_and_output(engine, article, database_url, tmp_path):
    _reviewed(engine, article, 2)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", "--database", database_url])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output and "4" in ok.output
    head = _verify(engine)
    anchored = runner.invoke(app, ["audit", "verify", "--database", database_url, "--anchor", f"4:{head.head_hash}"])
    assert anchored.exit_code == 0, anchored.output
    target, seq = _ids(engine)[1]
    _as_owner(engine, f"UPDATE audit_log SET why = 'rewritten reason' WHERE id = {target}")
    bad = runner.invoke(app, ["audit", "verify", "--database", database_url])
    assert bad.exit_code == 1, bad.output
    assert "hash mismatch" in bad.output and f"id {target}" in bad.output and f"seq {seq}" in bad.output
    for secret in (WHY, "rewritten reason", "disc extrusion", "case 0"):
        assert secret not in bad.output
    wrong = runner.invoke(app, ["audit", "verify", "--database", database_url, "--anchor", "4-abc"])
    assert wrong.exit_code == 2 and "SEQ:HASH" in wrong.output
    missing = str(tmp_path / "typo.db")
    gone = runner.invoke(app, ["audit", "verify", "--database", f"sqlite:///{missing}"])
    assert gone.exit_code == 2 and "no database" in gone.output
    assert not Path(missing).exists()  # verify creates nothing
