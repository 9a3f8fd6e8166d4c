"""Request-scoped dependencies: a database session, and the reviewer a token or cookie belongs to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from indicated.service import repo
from indicated.service.tables import Reviewer

COOKIE = "indicated_session"


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as db:
        yield db


SessionDep = Annotated[Session, Depends(get_db)]


def token_of(request: Request) -> str | None:
    """The session token a request carries: a bearer header (API) or the login cookie (web page)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE)


def optional_reviewer(request: Request) -> Reviewer | None:
    """The reviewer a request's token belongs to, or None. A session is opened only for a token, so the
    pages that need no database (the form, the log-in page) answer while it is busy (issue 17.9)."""
    token = token_of(request)
    if not token:
        return None
    with request.app.state.sessions() as db:
        return repo.reviewer_for(db, token=token)


def current_reviewer(reviewer: Annotated[Reviewer | None, Depends(optional_reviewer)]) -> Reviewer:
    if reviewer is None:
        raise HTTPException(
            401,
            "log in as a reviewer first (POST /auth/login), or the session has expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return reviewer


MaybeReviewer = Annotated[Reviewer | None, Depends(optional_reviewer)]
CurrentReviewer = Annotated[Reviewer, Depends(current_reviewer)]
