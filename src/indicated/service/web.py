"""The web page: paste a case, read the article with the record's evidence highlighted, switch
audience, see the review state and history; reviewers log in to act. Server-rendered with Jinja2
(autoescaping on); the article fragment comes from our renderer, which escapes the case."""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from indicated.errors import InputError, Throttled, WorkflowError
from indicated.models import Answer, Assessment
from indicated.render import AUDIENCES, followup
from indicated.service import lines, links, repo, workflow
from indicated.service.deps import COOKIE, MaybeReviewer, SessionDep, token_of
from indicated.service.tables import STATES
from indicated.service.throttle import address_of
from indicated.wording import WORDING

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(request: Request, name: str, reviewer, status: int = 200, **context) -> HTMLResponse:
    context = {"reviewer": reviewer, "open_demo": request.app.state.settings.open, **context}
    return templates.TemplateResponse(request, name, context, status_code=status)


def is_page(request: Request) -> bool:
    """Whether a request is for one of the pages (``/`` and ``/ui/...``), whose errors are pages too; the
    JSON API and the FHIR routes answer theirs in their own formats."""
    path = request.url.path
    return path == "/" or path.startswith("/ui/")


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error on a page as a page (a bad id, a malformed parameter, an internal error): the status in
    words and the message, escaped. It reads nothing from the database, which may be what failed, so
    the page shows no reviewer as signed in."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return page(request, "error.html", None, status=status, code=status, phrase=phrase, message=message)


def may_read(request: Request, reviewer) -> bool:
    """Stored cases are health information: the pages that show them need a signed-in reviewer, unless
    the server runs as the open demo."""
    return reviewer is not None or request.app.state.settings.open


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={quote(target)}", status_code=303)


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
    if not may_read(request, reviewer):
        return RedirectResponse("/ui/login?next=/", status_code=303)
    owner = f"reviewer:{reviewer.username}" if reviewer else "open"
    try:
        row = workflow.assess_and_store(db, case, json_body=False, policy_set=policy_set, owner=owner)
    except InputError as exc:
        return _form(request, reviewer, status=422, error=str(exc), case=case, policy_set=policy_set)
    return RedirectResponse(f"/ui/assessments/{row.id}", status_code=303)


@router.get("/ui/assessments", response_class=HTMLResponse)
def listing(request: Request, db: SessionDep, reviewer: MaybeReviewer, q: str = "", state: str = ""):
    if not may_read(request, reviewer):
        return to_login(request)
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
    answers: list[Answer] | None = None,
    status: int = 200,
    link: str = "",
):
    """The article page: for a signed-in reviewer, or for whoever holds a card's signed link to it."""
    if not may_read(request, reviewer) and not (link and links.valid(request.app.state.link_key, aid, link)):
        return to_login(request)
    row = repo.get_assessment(db, assessment_id=aid)
    if row is None:
        raise HTTPException(404, f"no assessment {aid!r}")
    assessment = Assessment.model_validate_json(row.result)
    audit = repo.audit(db, assessment_id=aid)
    decided = lines.line_decisions(audit)
    return page(
        request,
        "assessment.html",
        reviewer,
        status=status,
        row=row,
        audience=audience,
        audiences=AUDIENCES,
        sections=followup.article_sections(assessment, audience=audience),
        service_lines=[(s, WORDING[s.determination].words, decided.get(s.code)) for s in assessment.services],
        lines_decided=bool(decided),
        line_actions=lines.DECIDED,
        audit=audit,
        comments=repo.comments(db, assessment_id=aid),
        error=error,
        follows=assessment.changes.follows if assessment.changes else None,
        follow_ups=[m.group(1) for e in audit if (m := _FOLLOWED_BY.search(e.why))],
        can_follow_up=row.source in _FOLLOWS_UP,
        answers=_answers_html(answers) if answers else "",
        link=link if reviewer is None else "",
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


@router.post("/ui/assessments/{aid}/lines")
def review_line(
    aid: str,
    request: Request,
    db: SessionDep,
    reviewer: MaybeReviewer,
    code: Annotated[str, Form(max_length=20)],
    action: Annotated[str, Form()],
    why: Annotated[str, Form()] = "",
):
    """A signed-in reviewer approves or rejects one service line with a reason (service/lines.py)."""
    if reviewer is None:
        return RedirectResponse(f"/ui/login?next=/ui/assessments/{aid}", status_code=303)
    try:
        lines.decide_line(
            db,
            request.app.state.auths,
            assessment_id=aid,
            code=code,
            action=action,
            reviewer=reviewer.username,
            why=why[:10_000],
            on_decided=workflow.notifier(request),
        )
    except (repo.WorkflowError, InputError) as exc:
        return show(aid, request, db, reviewer, error=str(exc), status=409 if isinstance(exc, WorkflowError) else 422)
    return RedirectResponse(f"/ui/assessments/{aid}#line-{code}", status_code=303)


# the sources whose case the page can add facts to: a coded record (FHIR, PAS, CDS Hooks) is not stored
# as it was sent, so its facts are added in the sending system and the request sent again
_FOLLOWS_UP = {"text": "a note", "json": "a JSON case"}
_FOLLOWED_BY = re.compile(r"facts added; assessed again as ([0-9a-f]{32})")


@router.post("/ui/assessments/{aid}/followup")
def follow_up(
    aid: str,
    request: Request,
    db: SessionDep,
    reviewer: MaybeReviewer,
    facts: Annotated[str, Form()] = "",
):
    """A signed-in reviewer adds facts to the case: it is assessed again and stored as a new article that
    opens with what changed, linked to this one in both audit logs (which never hold the facts). A topic
    question is answered on this page from the evidence library, and changes nothing."""
    if reviewer is None:
        return RedirectResponse(f"/ui/login?next=/ui/assessments/{aid}", status_code=303)
    row = repo.get_assessment(db, assessment_id=aid)
    if row is None:
        raise HTTPException(404, f"no assessment {aid!r}")
    stored = Assessment.model_validate_json(row.result)
    told, questions = followup.split([facts])
    if not told and not questions:
        return show(aid, request, db, reviewer, error="Write the facts to add, or a question.", status=422)
    if len(facts) > followup.MAX_CHARS:
        error = f"A follow-up holds at most {followup.MAX_CHARS:,} characters."
        return show(aid, request, db, reviewer, error=error, status=422)
    if told and row.source not in _FOLLOWS_UP:
        error = (
            f"This case came as a coded record ({row.source}), which is not stored as it was sent: add the "
            "facts in the sending system and send the request again."
        )
        return show(aid, request, db, reviewer, error=error, status=422)
    from indicated.engine import Engine
    from indicated.inputs import parse_case
    from indicated.pipeline import assess

    answers = [
        Engine.bundled().ask(followup.question_in_context(q, stored)).model_copy(update={"question": q})
        for q in questions
    ]
    if not told:
        return show(aid, request, db, reviewer, answers=answers)
    json_case = row.source == "json"
    try:  # both sides judged today, so that only the facts move the criteria (not a newer policy)
        before = assess(
            parse_case(_as_input(stored, [], json_case=json_case), source="follow-up"), policy_set=stored.policy_set
        )
        after = assess(
            parse_case(_as_input(stored, told, json_case=json_case), source="follow-up"), policy_set=stored.policy_set
        )
    except InputError as exc:
        return show(aid, request, db, reviewer, error=str(exc), status=422)
    after.changes = followup.diff(before, after, answers=answers, follows=aid)
    new = workflow.store(db, after, source=row.source)
    who = reviewer.username
    why = f"follow-up: facts added; assessed again as {new.id}"
    repo.audit_note(db, assessment_id=aid, reviewer=who, state=row.state, why=why)
    repo.audit_note(
        db, assessment_id=new.id, reviewer=who, state=new.state, why=f"follow-up of {aid}: facts added by {who}"
    )
    db.commit()
    return RedirectResponse(f"/ui/assessments/{new.id}", status_code=303)


def _as_input(stored: Assessment, facts: list[str], *, json_case: bool) -> str:
    """The stored case as input again, with the facts as its last paragraph. A JSON case keeps the fields
    it gave (those its text alone does not yield); one that gave its findings takes no facts as words."""
    text = followup.with_paragraph(stored.case.text, facts) if facts else stored.case.text
    if not json_case:
        return text
    import json
    from datetime import date

    from indicated.engine import Engine
    from indicated.models import Case

    case = stored.case
    read = Engine.bundled().extract(case.text, as_of=date.today()) if case.text.strip() else Case()
    mine, theirs = case.model_dump(exclude={"text", "parts", "ignored"}), read.model_dump()
    given = {k: v for k, v in mine.items() if v != theirs[k]}
    if facts and "findings" in given:
        raise InputError(
            "This JSON case lists its findings, which take the place of what its text says, so facts added "
            "as words would change nothing: send the case again with the facts in its findings."
        )
    return json.dumps({**given, "text": text})


def _answers_html(answers: list[Answer]) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render("\n".join(followup.answers_markdown(answers)))


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
    try:
        token = request.app.state.logins.log_in(
            db, username=username[:80], password=password[:1000], address=address_of(request), hours=hours
        )
    except Throttled as exc:
        error = f"Too many failed log-ins. Wait {exc.retry_after} seconds, then try again."
        response = page(request, "login.html", None, status=429, error=error, next=_local(next))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if token is None:
        return page(request, "login.html", None, status=401, error="Wrong username or password.", next=_local(next))
    response = RedirectResponse(_local(next), status_code=303)
    # Secure when the request came over HTTPS (issue 17.10). Behind a TLS-terminating proxy the scheme is
    # the client's only if uvicorn trusts the proxy's X-Forwarded-Proto (--forwarded-allow-ips): we do
    # not read the header ourselves, so a client cannot talk us into anything by sending it.
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, token, max_age=int(hours * 3600), httponly=True, samesite="strict", secure=secure)
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
