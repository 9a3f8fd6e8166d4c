"""Database tables (SQLAlchemy 2): assessments with their editorial state, reviewers, login
sessions, comments, the append-only, hash-chained audit log, prior-authorization requests, API clients,
failed log-ins and idempotency keys. Schema changes go through Alembic migrations.

The audit chain: every entry carries ``seq`` (its place, 1, 2, 3, ... with no gap), ``prev_hash``
(the hash of the entry at ``seq - 1``, or GENESIS for the first) and ``hash``, SHA-256 over a
canonical serialisation of its own content and ``prev_hash`` (``entry_hash``). Changing, removing or
inserting an entry anywhere but at the end breaks a link that `indicated audit verify` reports.
The chain is filled in here, just before a flush writes new entries (``_chain_new_entries``), so
every writer of an ``AuditEntry`` (the workflow, the follow-up page) gets it without doing anything;
the append holds a database lock, so two processes never chain from the same entry."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, ForeignKey, Integer, String, Text, event, inspect, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

STATES = ("submitted", "under_review", "approved", "rejected")


class Base(DeclarativeBase):
    pass


class AssessmentRow(Base):
    __tablename__ = "assessments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    title: Mapped[str] = mapped_column(String(300))
    determination: Mapped[str] = mapped_column(String(40), index=True)
    policy_set: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), index=True, default="submitted")
    source: Mapped[str] = mapped_column(String(20))  # text | json | fhir | cds-hooks | pas
    # who sent it: "client:<name>" (an API client reads only its own), "reviewer:<name>", or "open" (demo)
    owner: Mapped[str | None] = mapped_column(String(120), index=True, default=None)
    result: Mapped[str] = mapped_column(Text)  # the Assessment as JSON (the output contract)


class Reviewer(Base):
    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiClient(Base):
    """A system allowed to send cases (API, PAS) with a key, or CDS Hooks calls signed with its keys.
    The API key is kept only as a SHA-256; ``jwks`` holds the client's public keys (a JWK Set) and
    ``issuer`` the ``iss`` its CDS Hooks JWTs carry."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    issuer: Mapped[str | None] = mapped_column(String(300), unique=True, default=None)
    jwks: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServiceSecret(Base):
    """Secrets every worker process must share (the key that signs card links), made once."""

    __tablename__ = "service_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class LoginSession(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the token
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Who changed which article's state, when, from what, to what and why. Rows are only ever
    inserted: the migrations add database triggers that refuse UPDATE, DELETE, TRUNCATE (PostgreSQL)
    and an INSERT over an existing id or sequence number (SQLite's REPLACE), and each row is a link
    of a hash chain (``seq``, ``prev_hash``, ``hash``; filled in on flush, never by the caller)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    why: Mapped[str] = mapped_column(Text, default="")
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class PriorAuthRow(Base):
    """A PAS request and where it stands (the PriorAuth model as JSON), by claim identifier."""

    __tablename__ = "prior_auths"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(String(32), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[str] = mapped_column(Text)


class LoginFailure(Base):
    """A failed log-in, kept for the throttle's window (issue 17.7): one row per account and one per
    address, each a SHA-256 key, so that every worker process counts the same failures."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class IdempotencyKey(Base):
    """An ``Idempotency-Key`` a client sent with ``POST /assessments``, and the assessment it made
    (issue 17.10). Written in the same transaction as the assessment, so a key is never kept without
    its assessment nor an assessment made twice for one key, across restarts and worker processes."""

    __tablename__ = "idempotency_keys"

    client: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of who sent it
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the request it came with
    assessment_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# the hash the first entry chains from
GENESIS = "0" * 64
# names the serialisation, so that a later format can be told apart from this one
CHAIN_FORMAT = "indicated-audit-v1"
# the PostgreSQL advisory lock that serialises appends (any fixed 64-bit number; "audit" in ASCII)
AUDIT_LOCK = 0x6175646974


def canonical_time(at: datetime) -> datetime:
    """``at`` in UTC. SQLite hands a stored time back without its zone (it keeps the digits it was
    given), PostgreSQL in the session's zone: hashing the UTC instant makes both agree, and the
    entry is stored in UTC so that SQLite keeps the digits that were hashed."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def entry_hash(
    *,
    seq: int,
    assessment_id: str,
    reviewer: str,
    at: datetime,
    from_state: str,
    to_state: str,
    why: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of one entry's content and the hash of the entry before it: a JSON array in a
    fixed order, compact and UTF-8, so the same entry always gives the same bytes on any database.
    ``seq`` is inside, so an entry cannot be moved to another place in the chain unnoticed."""
    content = [
        CHAIN_FORMAT,
        seq,
        assessment_id,
        reviewer,
        canonical_time(at).isoformat(timespec="microseconds"),
        from_state,
        to_state,
        why,
        prev_hash,
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def row_hash(row: object, *, seq: int, prev_hash: str) -> str:
    """``entry_hash`` of anything with an audit entry's fields (an AuditEntry, a row read back), at ``seq``
    after ``prev_hash``: the one place the fields are named for the chain."""
    return entry_hash(
        seq=seq,
        assessment_id=row.assessment_id,
        reviewer=row.reviewer,
        at=row.at,
        from_state=row.from_state,
        to_state=row.to_state,
        why=row.why,
        prev_hash=prev_hash,
    )


def lock_audit_log(conn: Connection) -> None:
    """Hold the database's lock on appending to the audit log until this transaction ends, so that
    the head read next is still the head when the new entries are written. At the database, not in
    Python: several server processes write to one database.

    PostgreSQL: a transaction-scoped advisory lock (released by COMMIT or ROLLBACK; taken again in
    the same transaction it simply stacks). SQLite: its single write lock. pysqlite opens a
    transaction only before a write, so a connection already in one has written and holds the lock
    (the conditional UPDATE of ``transition``); otherwise BEGIN IMMEDIATE takes it now, waiting up
    to the busy timeout. A zero-row write makes sure of it in the unexpected case of a read-only
    transaction."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK})")
    elif conn.dialect.name == "sqlite":
        if conn.connection.dbapi_connection.in_transaction:
            conn.exec_driver_sql("UPDATE audit_log SET seq = seq WHERE 0")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:  # pragma: no cover - the service supports these two
        raise NotImplementedError(f"no audit lock for {conn.dialect.name}")


@event.listens_for(Session, "before_flush")
def _chain_new_entries(session: Session, _flush_context: object, _instances: object) -> None:
    """Give the entries about to be written their place in the chain, in the order they were added,
    under the append lock (held until the transaction ends). Registered on every Session, so no
    code path can write an entry outside the chain; a flush with no new entry costs nothing."""
    new = [o for o in session.new if isinstance(o, AuditEntry)]
    if not new:
        return
    conn = session.connection()
    lock_audit_log(conn)
    head = conn.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    for entry in sorted(new, key=lambda o: inspect(o).insert_order or 0):
        seq += 1
        entry.at = canonical_time(entry.at or datetime.now(UTC))
        entry.why = entry.why or ""
        entry.seq, entry.prev_hash = seq, prev
        entry.hash = prev = row_hash(entry, seq=seq, prev_hash=prev)
