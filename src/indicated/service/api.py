"""The JSON API: create, fetch, list and search assessments; log in; move articles through review."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError

from indicated.errors import NotFound
from indicated.service import cpu, idempotency, lines, repo, workflow
from indicated.service.deps import Caller, CurrentCaller, CurrentReviewer, SessionDep, token_of
from indicated.service.tables import AssessmentRow
from indicated.service.throttle import address_of

router = APIRouter()
Audience = Literal["clinician", "reviewer", "patient"]


class AssessmentPublic(BaseModel):
    id: str
    created_at: str
    title: str
    determination: str
    state: str
    source: str


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1000)


class ReviewAction(BaseModel):
    action: Literal["start_review", "approve", "reject"]
    comment: str = Field(default="", max_length=10_000)


class LineAction(BaseModel):
    action: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=10_000)


class CommentCreate(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


def public(row: AssessmentRow) -> AssessmentPublic:
    return AssessmentPublic(
        id=row.id,
        created_at=row.created_at.isoformat(),
        title=row.title,
        determination=row.determination,
        state=row.state,
        source=row.source,
    )


@router.post("/assessments", status_code=201, tags=["Assessments"])
async def create(
    request: Request, response: Response, db: SessionDep, caller: CurrentCaller, policy_set: str | None = None
) -> dict:
    """Assess a case sent as text (`text/plain`), a JSON case or a FHIR Bundle (`application/json`).

    With an `Idempotency-Key` header, sending the same request again (same key, body and policy set)
    answers 200 with the assessment the first one made and `Idempotent-Replayed: true`, never a
    duplicate; the same key with another request is 422. Takes an API client key or a reviewer's token;
    a client reads back only what it sent."""
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    chosen = policy_set or request.app.state.settings.policy_set
    key = request.headers.get(idempotency.HEADER)
    once = (
        idempotency.Once.of(request, key, raw=raw, kind=kind, policy_set=chosen, owner=caller.owner)
        if key is not None
        else None
    )
    aid = None
    if once is not None:
        if made := idempotency.made_by(db, once):
            return replayed(request, response, db, made, caller)
        db.commit()  # end the lookup's transaction (PostgreSQL holds one, and a connection) before assessing
        aid = uuid.uuid4().hex
        idempotency.hold(db, once, assessment_id=aid)  # committed with the assessment, or not at all
    try:
        row = await cpu.run(  # assessing is CPU work: off the event loop, in a few threads at a time
            request,
            workflow.assess_and_store,
            db,
            raw,
            json_body=kind.endswith("json"),
            policy_set=chosen,
            assessment_id=aid,
            owner=caller.owner,
        )
    except IntegrityError:
        db.rollback()  # another request with this key stored its assessment first: answer as its retry
        if once is None or not (made := idempotency.made_by(db, once)):
            raise
        return replayed(request, response, db, made, caller)
    return {**public(row).model_dump(), "links": links(request, row.id)}


def replayed(request: Request, response: Response, db: SessionDep, aid: str, caller: Caller) -> dict:
    response.status_code = 200
    response.headers["Idempotent-Replayed"] = "true"
    return {**public(readable(db, aid, caller)).model_dump(), "links": links(request, aid)}


def links(request: Request, aid: str) -> dict[str, str]:
    base = str(request.base_url).rstrip("/")
    return {
        "self": f"{base}/assessments/{aid}",
        "article": f"{base}/assessments/{aid}/article",
        "page": f"{base}/ui/assessments/{aid}",
    }


@router.get("/assessments", tags=["Assessments"])
def search(
    db: SessionDep,
    caller: CurrentCaller,
    q: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str | None, Query(pattern="^(submitted|under_review|approved|rejected)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,  # SQL's OFFSET is 64 bits: larger was a 500
) -> dict:
    total, rows = repo.list_assessments(db, query=q, state=state, limit=limit, offset=offset, owner=caller.scope)
    return {"total": total, "items": [public(r).model_dump() for r in rows]}


def readable(db: SessionDep, aid: str, caller: Caller) -> AssessmentRow:
    """The article if this caller may read it; another client's article is "not found", as if it were not
    there, so ids cannot be probed."""
    row = repo.get_assessment(db, assessment_id=aid)
    if row is None or not caller.may_read(row):
        raise NotFound(f"no assessment {aid!r}")
    return row


@router.get("/assessments/{aid}", tags=["Assessments"])
def fetch(aid: str, db: SessionDep, caller: CurrentCaller) -> dict:
    row = readable(db, aid, caller)
    audit = repo.audit(db, assessment_id=aid)
    return {
        **public(row).model_dump(),
        "assessment": json.loads(row.result),
        "audit": [audit_public(e) for e in audit],
        "service_decisions": [
            {"code": d.code, "decision": d.decision, "reviewer": d.reviewer, "at": d.at.isoformat(), "why": d.why}
            for d in lines.line_decisions(audit).values()
        ],
        "comments": [
            {"reviewer": c.reviewer, "at": c.at.isoformat(), "text": c.text}
            for c in repo.comments(db, assessment_id=aid)
        ],
    }


def audit_public(e) -> dict:
    return {"reviewer": e.reviewer, "at": e.at.isoformat(), "from": e.from_state, "to": e.to_state, "why": e.why}


@router.get("/assessments/{aid}/article", tags=["Assessments"])
def article(
    aid: str,
    db: SessionDep,
    caller: CurrentCaller,
    audience: Audience = "clinician",
    format: Literal["html", "markdown", "json"] = "html",
) -> Response:
    from indicated.models import Assessment
    from indicated.render import render

    assessment = Assessment.model_validate_json(readable(db, aid, caller).result)
    media = {"html": "text/html", "markdown": "text/markdown", "json": "application/json"}[format]
    return Response(render(assessment, format, audience=audience), media_type=f"{media}; charset=utf-8")


@router.post("/auth/login", tags=["Reviewers"])
def login(body: Login, request: Request, db: SessionDep) -> dict:
    """A bearer token for a reviewer; the 11th wrong password within a minute gets 429 (issue 17.7)."""
    hours = request.app.state.settings.session_hours
    token = request.app.state.logins.log_in(
        db, username=body.username, password=body.password, address=address_of(request), hours=hours
    )
    if token is None:
        raise HTTPException(401, "wrong username or password")
    return {"token": token, "token_type": "bearer", "expires_in": int(hours * 3600)}


@router.post("/auth/logout", status_code=204, tags=["Reviewers"])
def logout(request: Request, db: SessionDep, reviewer: CurrentReviewer) -> None:
    repo.logout(db, token=token_of(request) or "")


@router.post("/assessments/{aid}/review", tags=["Reviewers"])
def review(aid: str, body: ReviewAction, request: Request, db: SessionDep, reviewer: CurrentReviewer) -> dict:
    as_reviewer = Caller.of(reviewer)
    readable(db, aid, as_reviewer)
    workflow.review(
        db,
        request.app.state.auths,
        assessment_id=aid,
        to_state=workflow.ACTIONS[body.action],
        reviewer=reviewer.username,
        why=body.comment,
        on_decided=workflow.notifier(request),
    )
    return fetch(aid, db, as_reviewer)


@router.post("/assessments/{aid}/services/{code}/review", tags=["Reviewers"])
def review_line(
    aid: str, code: str, body: LineAction, request: Request, db: SessionDep, reviewer: CurrentReviewer
) -> dict:
    """Approve or reject one service line (a CPT code of the article) with a reason: recorded in the audit
    log, and passed to the Claim items of a PAS request that carry the code. The article is put under
    review if it was submitted; approving or rejecting the whole article later decides the other lines."""
    as_reviewer = Caller.of(reviewer)
    readable(db, aid, as_reviewer)
    lines.decide_line(
        db,
        request.app.state.auths,
        assessment_id=aid,
        code=code,
        action=body.action,
        reviewer=reviewer.username,
        why=body.comment,
        on_decided=workflow.notifier(request),
    )
    return fetch(aid, db, as_reviewer)


@router.post("/assessments/{aid}/comments", status_code=201, tags=["Reviewers"])
def comment(aid: str, body: CommentCreate, db: SessionDep, reviewer: CurrentReviewer) -> dict:
    readable(db, aid, Caller.of(reviewer))
    c = repo.add_comment(db, assessment_id=aid, reviewer=reviewer.username, text=body.text)
    return {"reviewer": c.reviewer, "at": c.at.isoformat(), "text": c.text}
