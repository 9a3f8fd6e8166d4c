"""Data access: plain functions over a SQLAlchemy session, keyword-only, one job each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from indicated.errors import NotFound, WorkflowError
from indicated.models import Assessment
from indicated.service import auth
from indicated.service.tables import AssessmentRow, AuditEntry, Comment, LoginSession, Reviewer

# the editorial workflow: which state may follow which
TRANSITIONS = {"submitted": {"under_review"}, "under_review": {"approved", "rejected"}}


def now() -> datetime:
    return datetime.now(UTC)


def create_assessment(
    db: Session, *, assessment: Assessment, title: str, source: str, assessment_id: str | None = None
) -> AssessmentRow:
    row = AssessmentRow(
        id=assessment_id or uuid.uuid4().hex,
        created_at=now(),
        title=title[:300],
        determination=assessment.determination.value,
        policy_set=assessment.policy_set,
        state="submitted",
        source=source,
        result=assessment.model_dump_json(),
    )
    db.add(row)
    db.commit()
    return row


def get_assessment(db: Session, *, assessment_id: str) -> AssessmentRow | None:
    return db.get(AssessmentRow, assessment_id)


def list_assessments(
    db: Session, *, query: str = "", state: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[AssessmentRow]]:
    """Newest first; ``query`` matches the title, the determination or an id prefix."""
    where = []
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


def add_comment(db: Session, *, assessment_id: str, reviewer: str, text: str) -> Comment:
    comment = Comment(assessment_id=assessment_id, reviewer=reviewer, at=now(), text=text)
    db.add(comment)
    db.commit()
    return comment


def comments(db: Session, *, assessment_id: str) -> list[Comment]:
    return list(db.scalars(select(Comment).where(Comment.assessment_id == assessment_id).order_by(Comment.id)))
