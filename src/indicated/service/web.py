"""The web page: paste a case, read the article with the record's evidence highlighted, switch
audience, see the review state and history; reviewers log in to act. Server-rendered with Jinja2
(autoescaping on); the article fragment comes from our renderer, which escapes the case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from indicated.errors import InputError
from indicated.models import Assessment
from indicated.render import AUDIENCES
from indicated.render.html import CSS, article_fragment
from indicated.service import repo, workflow
from indicated.service.deps import COOKIE, MaybeReviewer, SessionDep, token_of
from indicated.service.tables import STATES

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(request: Request, name: str, reviewer, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"css": CSS, "reviewer": reviewer, **context}, status_code=status)


@router.get("/", response_class=HTMLResponse)
def index(request: Request, reviewer: MaybeReviewer) -> HTMLResponse:
    return _form(request, reviewer)


def _form(request: Request, reviewer, **context) -> HTMLResponse:
    from indicated.engine import Engine

    settings = request.app.state.settings
    context.setdefault("policy_set", settings.policy_set)
    return page(request, "index.html", reviewer, policy_sets=list(Engine.bundled().knowledge.policy_sets()), **context)


@router.post("/ui/assess")
def assess(
    request: Request,
    db: SessionDep,
    reviewer: MaybeReviewer,
    case: Annotated[str, Form()],
    policy_set: Annotated[str, Form()] = "clinical",
):
    try:
        row = workflow.assess_and_store(db, case, json_body=False, policy_set=policy_set)
    except InputError as exc:
        return _form(request, reviewer, status=422, error=str(exc), case=case, policy_set=policy_set)
    return RedirectResponse(f"/ui/assessments/{row.id}", status_code=303)


@router.get("/ui/assessments", response_class=HTMLResponse)
def listing(request: Request, db: SessionDep, reviewer: MaybeReviewer, q: str = "", state: str = "") -> HTMLResponse:
    total, rows = repo.list_assessments(db, query=q[:200], state=state if state in STATES else None, limit=100)
    return page(request, "list.html", reviewer, rows=rows, total=total, q=q, state=state, states=STATES)


@router.get("/ui/assessments/{aid}", response_class=HTMLResponse)
def show(
    aid: str,
    request: Request,
    db: SessionDep,
    reviewer: MaybeReviewer,
    audience: Literal["clinician", "reviewer", "patient"] = "clinician",
    error: str = "",
) -> HTMLResponse:
    row = repo.get_assessment(db, assessment_id=aid)
    if row is None:
        raise HTTPException(404, f"no assessment {aid!r}")
    assessment = Assessment.model_validate_json(row.result)
    return page(
        request,
        "assessment.html",
        reviewer,
        row=row,
        audience=audience,
        audiences=AUDIENCES,
        article=article_fragment(assessment, audience=audience),
        audit=repo.audit(db, assessment_id=aid),
        comments=repo.comments(db, assessment_id=aid),
        error=error,
    )


@router.post("/ui/assessments/{aid}/review")
def review(
    aid: str,
    request: Request,
    db: SessionDep,
    reviewer: MaybeReviewer,
    action: Annotated[str, Form()],
    why: Annotated[str, Form()] = "",
):
    if reviewer is None:
        return RedirectResponse(f"/ui/login?next=/ui/assessments/{aid}", status_code=303)
    if repo.get_assessment(db, assessment_id=aid) is None:
        raise HTTPException(404, f"no assessment {aid!r}")
    if action == "comment":
        if why.strip():
            repo.add_comment(db, assessment_id=aid, reviewer=reviewer.username, text=why.strip()[:10_000])
        return RedirectResponse(f"/ui/assessments/{aid}", status_code=303)
    to_state = workflow.ACTIONS.get(action)
    if to_state is None:
        raise HTTPException(422, f"unknown action {action!r}")
    try:
        workflow.review(
            db,
            request.app.state.auths,
            assessment_id=aid,
            to_state=to_state,
            reviewer=reviewer.username,
            why=why[:10_000],
            on_decided=workflow.notifier(request),
        )
    except repo.WorkflowError as exc:
        return show(aid, request, db, reviewer, error=str(exc))
    return RedirectResponse(f"/ui/assessments/{aid}", status_code=303)


@router.get("/ui/login", response_class=HTMLResponse)
def login_form(request: Request, reviewer: MaybeReviewer, next: str = "/") -> HTMLResponse:
    return page(request, "login.html", reviewer, next=_local(next))


@router.post("/ui/login")
def login(
    request: Request,
    db: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
):
    hours = request.app.state.settings.session_hours
    token = repo.login(db, username=username[:80], password=password[:1000], hours=hours)
    if token is None:
        return page(request, "login.html", None, status=401, error="Wrong username or password.", next=_local(next))
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict")
    return response


@router.post("/ui/logout")
def logout(request: Request, db: SessionDep):
    token = token_of(request)
    if token:
        repo.logout(db, token=token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _local(target: str) -> str:
    """Only redirect within this site (no open redirect through ?next=)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
