"""Data access: plain functions over a SQLAlchemy session, keyword-only, one job each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from indicated.errors import NotFound, WorkflowError
from indicated.models import Assessment
from indicated.service import auth
from indicated.service.tables import (
    GENESIS,
    AssessmentRow,
    AuditEntry,
    Comment,
    LoginSession,
    Reviewer,
    row_hash,
)

# the editorial workflow: which state may follow which
TRANSITIONS = {"submitted": {"under_review"}, "under_review": {"approved", "rejected"}}


def now() -> datetime:
    return datetime.now(UTC)


def create_assessment(
    db: Session,
    *,
    assessment: Assessment,
    title: str,
    source: str,
    assessment_id: str | None = None,
    owner: str | None = None,
) -> AssessmentRow:
    row = AssessmentRow(
        id=assessment_id or uuid.uuid4().hex,
        created_at=now(),
        title=title[:300],
        determination=assessment.determination.value,
        policy_set=assessment.policy_set,
        state="submitted",
        source=source,
        owner=owner,
        result=assessment.model_dump_json(),
    )
    db.add(row)
    db.commit()
    return row


def get_assessment(db: Session, *, assessment_id: str) -> AssessmentRow | None:
    return db.get(AssessmentRow, assessment_id)


def list_assessments(
    db: Session,
    *,
    query: str = "",
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
    owner: str | None = None,
) -> tuple[int, list[AssessmentRow]]:
    """Newest first; ``query`` matches the title, the determination or an id prefix; ``owner`` keeps
    only what one caller sent."""
    where = [AssessmentRow.owner == owner] if owner else []
    if query:
        like = f"%{query.lower()}%"
        where.append(
            or_(
                func.lower(AssessmentRow.title).like(like),
                AssessmentRow.determination.like(like),
                AssessmentRow.id.like(f"{query}%"),
            )
        )
    if state:
        where.append(AssessmentRow.state == state)
    total = db.scalar(select(func.count()).select_from(AssessmentRow).where(*where)) or 0
    rows = db.scalars(
        select(AssessmentRow).where(*where).order_by(AssessmentRow.created_at.desc()).limit(limit).offset(offset)
    )
    return total, list(rows)


def add_reviewer(db: Session, *, username: str, password: str) -> Reviewer:
    if db.scalar(select(Reviewer).where(Reviewer.username == username)) is not None:
        raise WorkflowError(f"reviewer {username!r} already exists")
    reviewer = Reviewer(username=username, password_hash=auth.hash_password(password), created_at=now())
    db.add(reviewer)
    db.commit()
    return reviewer


def reviewers(db: Session) -> list[Reviewer]:
    return list(db.scalars(select(Reviewer).order_by(Reviewer.username)))


def _reviewer(db: Session, username: str) -> Reviewer:
    reviewer = db.scalar(select(Reviewer).where(Reviewer.username == username))
    if reviewer is None:
        raise NotFound(f"no reviewer {username!r}")
    return reviewer


def _end_sessions(db: Session, reviewer: Reviewer) -> None:
    db.execute(delete(LoginSession).where(LoginSession.reviewer_id == reviewer.id))


def remove_reviewer(db: Session, *, username: str) -> None:
    """Delete the account and end its sessions; what the reviewer did stays in the audit log by name."""
    reviewer = _reviewer(db, username)
    _end_sessions(db, reviewer)
    db.delete(reviewer)
    db.commit()


def set_password(db: Session, *, username: str, password: str) -> None:
    """A new password ends every session opened with the old one."""
    reviewer = _reviewer(db, username)
    reviewer.password_hash = auth.hash_password(password)
    _end_sessions(db, reviewer)
    db.commit()


def login(db: Session, *, username: str, password: str, hours: float) -> str | None:
    """A new session token for valid credentials, else None (the same answer for a wrong name or password).
    An unknown name is checked against a dummy hash, so that it takes as long as a wrong password."""
    reviewer = db.scalar(select(Reviewer).where(Reviewer.username == username))
    stored = reviewer.password_hash if reviewer is not None else auth.dummy_hash()
    if not auth.verify_password(stored, password) or reviewer is None:
        return None
    token, digest = auth.new_token()
    db.add(LoginSession(token_hash=digest, reviewer_id=reviewer.id, expires_at=now() + timedelta(hours=hours)))
    db.commit()
    return token


def reviewer_for(db: Session, *, token: str) -> Reviewer | None:
    """The reviewer a token belongs to while it has not expired."""
    session = db.get(LoginSession, auth.token_hash(token))
    if session is None:
        return None
    expires = session.expires_at if session.expires_at.tzinfo else session.expires_at.replace(tzinfo=UTC)
    if expires <= now():
        db.delete(session)
        db.commit()
        return None
    return db.get(Reviewer, session.reviewer_id)


def logout(db: Session, *, token: str) -> None:
    session = db.get(LoginSession, auth.token_hash(token))
    if session is not None:
        db.delete(session)
        db.commit()


def transition(db: Session, *, assessment_id: str, to_state: str, reviewer: str, why: str = "") -> AssessmentRow:
    """Move an article to ``to_state`` and write the audit entry, in one transaction. Approving or
    rejecting an article still ``submitted`` opens the review first (two entries).

    The move is one conditional write, ``UPDATE ... WHERE id = :id AND state = :from``, and only a
    row count of one lets it through: of two reviewers deciding the same article at once, the
    second finds the state no longer the one it read and gets WorkflowError (409). A row lock
    (``SELECT ... FOR UPDATE``) would do this on PostgreSQL only; SQLite ignores it."""
    row = db.get(AssessmentRow, assessment_id)
    if row is None:
        raise NotFound(f"no assessment {assessment_id!r}")
    from_state = row.state
    steps = [to_state]
    if from_state == "submitted" and to_state in TRANSITIONS["under_review"]:
        steps = ["under_review", to_state]
    state = from_state
    for step in steps:
        if step not in TRANSITIONS.get(state, set()):
            raise WorkflowError(f"an article that is {state.replace('_', ' ')} cannot become {step.replace('_', ' ')}")
        state = step
    moved = db.execute(
        update(AssessmentRow)
        .where(AssessmentRow.id == assessment_id, AssessmentRow.state == from_state)
        .values(state=to_state)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        db.rollback()
        raise WorkflowError(
            f"the article is no longer {from_state.replace('_', ' ')}: another reviewer moved it meanwhile; reload it"
        )
    state = from_state
    for step in steps:
        db.add(
            AuditEntry(
                assessment_id=assessment_id, reviewer=reviewer, at=now(), from_state=state, to_state=step, why=why
            )
        )
        state = step
    db.commit()
    db.refresh(row)
    return row


def audit(db: Session, *, assessment_id: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.assessment_id == assessment_id).order_by(AuditEntry.id)))


def audit_note(db: Session, *, assessment_id: str, reviewer: str, state: str, why: str) -> AuditEntry:
    """An audit entry that records an act without moving the article (a follow-up, a line decided):
    added to the session, committed with the caller's transaction."""
    entry = AuditEntry(
        assessment_id=assessment_id, reviewer=reviewer, at=now(), from_state=state, to_state=state, why=why
    )
    db.add(entry)
    return entry


def add_comment(db: Session, *, assessment_id: str, reviewer: str, text: str) -> Comment:
    comment = Comment(assessment_id=assessment_id, reviewer=reviewer, at=now(), text=text)
    db.add(comment)
    db.commit()
    return comment


def comments(db: Session, *, assessment_id: str) -> list[Comment]:
    return list(db.scalars(select(Comment).where(Comment.assessment_id == assessment_id).order_by(Comment.id)))


@dataclass(frozen=True)
class AuditBreak:
    """One broken link of the audit chain: the entry where the chain stops holding, and why.

    ``problem`` is one of: "hash mismatch" (the entry's content is not what was hashed when it was
    written: changed since), "prev_hash mismatch" (it does not link to the entry before it: that one
    was changed and re-hashed, or replaced), "gap" (entries before it are missing), "sequence repeated",
    "not chained" (no sequence number or hash: written around the application), "anchor mismatch"."""

    id: int | None
    seq: int | None
    problem: str
    detail: str


@dataclass(frozen=True)
class StateMismatch:
    """An article whose state the audit log does not account for: ``recorded`` is the state its
    entries lead to, ``actual`` what the article (or, at ``seq``, the next entry) says instead."""

    assessment_id: str
    recorded: str
    actual: str
    seq: int | None = None


@dataclass(frozen=True)
class AuditReport:
    """What `verify_audit` found. ``head_seq`` and ``head_hash`` are the last entry's: recorded
    outside the database, they are the anchor that a later verify can check (``anchor=``)."""

    entries: int
    assessments: int
    head_seq: int
    head_hash: str
    breaks: list[AuditBreak] = field(default_factory=list)
    mismatches: list[StateMismatch] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.mismatches


def _snapshot(db: Session) -> None:
    """Read the log and the articles as of one moment, while servers go on writing: REPEATABLE READ
    on PostgreSQL; on SQLite an explicit BEGIN, since pysqlite would run each SELECT on its own."""
    if db.in_transaction():
        return
    if db.get_bind().dialect.name == "postgresql":
        db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        db.connection().exec_driver_sql("BEGIN")


def _links(rows: Iterator[AuditEntry]) -> Iterator[tuple[AuditEntry, AuditBreak | None]]:
    """Each entry in chain order with the first thing wrong with its link, if anything. After a
    break the walk goes on from the entry as it stands, so one forged row is one break, not all after."""
    seq, prev = 0, GENESIS
    for e in rows:
        if e.seq is None or e.hash is None or e.prev_hash is None:
            yield (
                e,
                AuditBreak(e.id, e.seq, "not chained", "no sequence number or hash: written around the application"),
            )
            continue
        if e.seq == seq:
            problem: AuditBreak | None = AuditBreak(e.id, e.seq, "sequence repeated", f"a second entry at {e.seq}")
        elif e.seq != seq + 1:
            problem = AuditBreak(e.id, e.seq, "gap", f"entries {seq + 1}..{e.seq - 1} are missing")
        elif e.prev_hash != prev:
            problem = AuditBreak(e.id, e.seq, "prev_hash mismatch", f"does not link to entry {seq} as it stands")
        else:
            problem = None
        digest = row_hash(e, seq=e.seq, prev_hash=e.prev_hash)
        if problem is None and digest != e.hash:
            problem = AuditBreak(e.id, e.seq, "hash mismatch", "its content changed after it was written")
        yield e, problem
        seq, prev = e.seq, e.hash


def verify_audit(db: Session, *, anchor: tuple[int, str] | None = None) -> AuditReport:
    """Walk the audit chain from the first entry to the head and check every link; then check that
    each article's state is the one its entries lead to (``submitted`` when it has none), so that a
    state changed with plain SQL, which writes no entry, is found. ``anchor`` is a (seq, hash) pair
    recorded earlier outside the database: the entry at that place must still carry that hash.

    Reads one snapshot (call it on a fresh session), and the rows one at a time, so a long log costs
    little memory. Reports identifiers and sequence numbers only, never an entry's reason or a case."""
    _snapshot(db)
    breaks: list[AuditBreak] = []
    mismatches: list[StateMismatch] = []
    recorded: dict[str, str] = {}
    entries, head_seq, head_hash, anchored = 0, 0, GENESIS, anchor is None
    query = (
        select(AuditEntry).order_by(AuditEntry.seq.asc().nulls_first(), AuditEntry.id).execution_options(yield_per=1000)
    )
    for e, problem in _links(iter(db.scalars(query))):
        entries += 1
        if problem:
            breaks.append(problem)
        if e.seq is not None:
            head_seq, head_hash = e.seq, e.hash
        if anchor and e.seq == anchor[0]:
            anchored = e.hash == anchor[1]
        before = recorded.get(e.assessment_id, "submitted")
        if e.from_state != before:
            mismatches.append(StateMismatch(e.assessment_id, before, e.from_state, e.seq))
        recorded[e.assessment_id] = e.to_state
        db.expunge(e)
    if anchor and not anchored:
        breaks.append(
            AuditBreak(None, anchor[0], "anchor mismatch", "the entry at the anchor is missing or carries another hash")
        )
    assessments = 0
    for aid, state in db.execute(select(AssessmentRow.id, AssessmentRow.state).order_by(AssessmentRow.id)):
        assessments += 1
        if state != recorded.get(aid, "submitted"):
            mismatches.append(StateMismatch(aid, recorded.get(aid, "submitted"), state))
    db.rollback()
    return AuditReport(entries, assessments, head_seq, head_hash, breaks, mismatches)
