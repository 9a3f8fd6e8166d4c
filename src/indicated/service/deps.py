"""Request-scoped dependencies: a database session, and who is calling.

Who may do what (the README's security model):

- a **reviewer** (session token as bearer, or the login cookie) reads every stored case and decides;
- an **API client** (``Bearer ik_...``) sends cases, PAS requests and inquiries, and reads back only
  what it sent;
- a **CDS Hooks client** calls the hooks with a JWT signed by keys registered for it;
- ``indicated serve --open`` (a local demo) lets anyone send and read cases, and says so on every page;
  deciding still takes a signed-in reviewer, because a decision is audited by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from indicated.errors import Unauthorized
from indicated.service import clients, repo
from indicated.service.tables import AssessmentRow, Reviewer

COOKIE = "indicated_session"


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


SessionDep = Annotated[Session, Depends(get_db)]


def token_of(request: Request) -> str | None:
    """The token a request carries: a bearer header (API) or the login cookie (web page)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


@dataclass(frozen=True)
class Caller:
    """Who a request comes from, and so what it may read."""

    kind: Literal["reviewer", "client", "open"]
    name: str
    reviewer: Reviewer | None = None

    @property
    def owner(self) -> str:
        """What the assessments this caller creates are stored under."""
        return "open" if self.kind == "open" else f"{self.kind}:{self.name}"

    @property
    def scope(self) -> str | None:
        """The owner this caller's reads are limited to: a client's own name; None for reviewers and the
        open demo, who read every case."""
        return self.owner if self.kind == "client" else None

    def may_read(self, row: AssessmentRow) -> bool:
        return self.scope is None or row.owner == self.scope

    @classmethod
    def of(cls, reviewer: Reviewer) -> Caller:
        return cls("reviewer", reviewer.username, reviewer)


def optional_reviewer(request: Request) -> Reviewer | None:
    """The reviewer a request's token belongs to, or None. A session is opened only for a token, so the
    pages that need no database (the form, the log-in page) answer while it is busy (issue 17.9)."""
    token = token_of(request)
    if not token or clients.is_key(token):
        return None
    with request.app.state.sessions() as db:
        return repo.reviewer_for(db, token=token)


def optional_caller(request: Request, db: SessionDep) -> Caller | None:
    """Who calls, read in a transaction of its own: ending it here gives the connection back to the
    pool while the route assesses the case (CPU, tens of milliseconds); held, 40 request threads
    emptied the pool and waited past its timeout (503)."""
    try:
        return _caller(request, db)
    finally:
        db.commit()


def _caller(request: Request, db: Session) -> Caller | None:
    token = token_of(request)
    if token and clients.is_key(token):
        client = clients.client_for_key(db, key=token)
        return Caller("client", client.name) if client else None
    reviewer = repo.reviewer_for(db, token=token) if token else None
    if reviewer is not None:
        return Caller.of(reviewer)
    return Caller("open", "demo") if request.app.state.settings.open else None


def current_caller(caller: Annotated[Caller | None, Depends(optional_caller)]) -> Caller:
    if caller is None:
        raise Unauthorized(
            "send an API client key (Authorization: Bearer ik_...; `indicated clients add`) "
            "or a reviewer's session token (POST /auth/login)"
        )
    return caller


def current_reviewer(reviewer: Annotated[Reviewer | None, Depends(optional_reviewer)]) -> Reviewer:
    if reviewer is None:
        raise Unauthorized("log in as a reviewer first (POST /auth/login), or the session has expired")
    return reviewer


def identified_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    """A caller with a name: a client or a reviewer, even in the open demo (for what reaches outside, such
    as a subscription that posts to a URL it gives)."""
    if caller.kind == "open":
        raise Unauthorized("send an API client key or a reviewer's session token: the open demo does not do this")
    return caller


MaybeReviewer = Annotated[Reviewer | None, Depends(optional_reviewer)]
CurrentReviewer = Annotated[Reviewer, Depends(current_reviewer)]
MaybeCaller = Annotated[Caller | None, Depends(optional_caller)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]
IdentifiedCaller = Annotated[Caller, Depends(identified_caller)]


def cds_client(request: Request, db: SessionDep) -> str:
    """The CDS Hooks client that signed this call (its name), or the open demo."""
    token = token_of(request) if request.headers.get("authorization") else None
    if token is None and request.app.state.settings.open:
        return "open"
    if token is None:
        raise Unauthorized(clients.REFUSED)
    audience = str(request.url.replace(query=""))
    found = clients.client_for_jwt(db, token=token, audience=audience, nonces=request.app.state.nonces)
    return f"client:{found.name}"


CdsClient = Annotated[str, Depends(cds_client)]
