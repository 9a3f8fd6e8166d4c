"""The FastAPI app: JSON API, web page, CDS Hooks and PAS on one engine and one database.

Domain errors become HTTP answers in one place. The API answers bad input with 422 and a message;
the FHIR routes with 400 and an OperationOutcome (412 for missing prefetch, as CDS Hooks prescribes);
a body over the size limit gets 413; too many failed log-ins 429 and a busy database 503, both with
``Retry-After``; no traceback ever reaches a client, and no log line carries a case's text (it is
health information): errors are logged by type and path only.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from indicated.errors import InputError, MissingData, NotFound, Throttled, Unauthorized, WorkflowError, first_problem
from indicated.fhir import crd
from indicated.render.html import CSS as ARTICLE_CSS
from indicated.service import api, assets, cpu, db, docs, fhir_routes, links, origin, web
from indicated.service.clients import SeenNonces
from indicated.service.prior_auths import StoredPriorAuths
from indicated.service.settings import Settings
from indicated.service.subscriptions import Subscriptions
from indicated.service.throttle import LoginGuard

log = logging.getLogger("indicated.service")
FHIR_PATHS = ("/cds-services", "/fhir/")


def warm_up() -> None:
    """Build what the first request would otherwise wait for (the NLP pipeline, the retrieval
    indexes, the FHIR models): about a second, spent before the server reports that it is up."""
    from indicated.engine import Engine
    from indicated.fhir.samples import crd_request, record_bundle

    scope = Engine.bundled().knowledge.scope
    crd.respond("indicated-order-sign", crd_request(record_bundle(scope.example, scope.example_codes)), link=str)


class BodyTooLarge(HTTPException):
    """A request body found over the limit while it was read (FastAPI lets an HTTPException through
    its body parsing, so this reaches the 413 handler whichever way a route reads its body)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body is over the limit of {limit:,} bytes")


class BodyLimit:
    """Count a request body's bytes as the app reads them and stop at the limit: a body sent in
    chunks (no Content-Length) is never read into memory past ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counted, send)


def _style_hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


# Issue 17.10: nothing may run or load but the site's own stylesheet and script (/ui/app.js), and the
# standalone article's one inline style (an article is a page one can mail, so it keeps its style
# inside), allowed by its hash.
# The API docs (docs.py) load Swagger UI and Redoc from this site, started by a script file of ours: no
# other host and no inline script; they set inline styles and Redoc runs a worker from a blob.
CSP = (
    f"default-src 'none'; script-src 'self'; style-src 'self' {_style_hash(ARTICLE_CSS)}; img-src 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


class SecurityHeaders:
    """Give every response the security headers (a route's own value wins): the Content-Security-Policy,
    ``nosniff``, no framing (for old browsers beside ``frame-ancestors``), and no Referer, since an
    article's address names the article. Plain ASGI, outermost, so error answers carry them too."""

    def __init__(self, app: ASGIApp, docs: frozenset[str]) -> None:
        self.app, self.docs = app, docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_CSP if scope["path"] in self.docs else CSP

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in {"content-security-policy": policy, **SECURITY_HEADERS}.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, secured)


def create_app(settings: Settings | None = None, *, warm: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    engine = db.engine_for(settings.database_url, lock_timeout=settings.db_lock_timeout_seconds)
    db.upgrade(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            warm_up()
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served by docs.mount from this site, not from a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        title="indicated",
        summary="Open medical-necessity determinations with cited criteria, editorial review, "
        "CDS Hooks (Da Vinci CRD) and prior authorization (Da Vinci PAS).",
    )
    app.state.settings = settings
    app.state.sessions = db.sessions(engine)
    app.state.auths = StoredPriorAuths(app.state.sessions)
    app.state.subscriptions = Subscriptions()
    app.state.nonces = SeenNonces()
    app.state.cpu = cpu.limiter(settings.assess_threads)
    app.state.ehr_transport = None  # httpx's own; tests put a stand-in for the EHR's FHIR server here
    with app.state.sessions() as session:
        app.state.link_key = links.link_key(session)
    app.state.logins = LoginGuard.from_settings(settings)
    app.include_router(api.router)
    app.include_router(fhir_routes.router)
    app.include_router(web.router)
    app.include_router(assets.router)
    docs.mount(app)
    app.add_middleware(BodyLimit, limit=settings.max_body)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        """Refuse oversized bodies before reading them, and turn any unexpected error into a plain
        500 here, so no traceback (which may quote a case) reaches the client or the server log."""
        if origin.forged(request):
            log.warning("cross-site %s %s refused", request.method, request.url.path)
            return _error(request, 403, "forbidden", "a change sent from another site is refused")
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > settings.max_body:
            limit = f"body of {int(size):,} bytes is over the limit of {settings.max_body:,}"
            return _error(request, 413, "too-costly", limit)
        try:
            response = await call_next(request)
        except Exception as exc:
            log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return _error(request, 500, "exception", "internal error; the request was not processed")
        if settings.open:
            response.headers["X-Indicated-Open-Demo"] = "anyone may read and send cases on this server"
        return response

    app.add_middleware(SecurityHeaders, docs=docs.DOCS_PATHS)

    @app.exception_handler(BodyTooLarge)
    def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return _error(request, 413, "too-costly", exc.detail)

    @app.exception_handler(InputError)
    def bad_input(request: Request, exc: InputError) -> Response:
        return _error(request, 422, "invalid", str(exc))

    @app.exception_handler(MissingData)
    def precondition(request: Request, exc: MissingData) -> Response:
        return _error(request, 412, "required", str(exc))

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "not-found", str(exc))

    @app.exception_handler(Unauthorized)
    def unauthorized(request: Request, exc: Unauthorized) -> Response:
        response = _error(request, 401, "login", str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(WorkflowError)
    def conflict(request: Request, exc: WorkflowError) -> Response:
        return _error(request, 409, "conflict", str(exc))

    @app.exception_handler(Throttled)
    def throttled(request: Request, exc: Throttled) -> Response:
        response = _error(request, 429, "throttled", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    def unavailable(request: Request, exc: Exception) -> Response:
        """A lock not granted within the timeout ("database is locked", PostgreSQL's lock_timeout), no
        pooled connection free, the server gone: try again shortly. Logged by type only, since the
        exception's text quotes the statement and its parameters, which may hold a case."""
        cause = type(getattr(exc, "orig", None) or exc).__name__
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, cause)
        response = _error(request, 503, "transient", "the database is busy; try again shortly")
        response.headers["Retry-After"] = str(max(1, math.ceil(settings.db_lock_timeout_seconds)))
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """A page's HTTP error (an unknown id, an unknown page) is a page; the API's stays JSON."""
        if web.is_page(request):
            return web.error_page(request, exc.status_code, str(exc.detail))
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        where, msg = first_problem(exc)
        return _error(request, 422, "invalid", f"{where}: {msg}" if where else msg)

    return app


def _error(request: Request, status: int, code: str, message: str) -> Response:
    """FHIR routes answer with an OperationOutcome (malformed input is 400 there), the pages with a page,
    the rest with {"detail"}."""
    if request.url.path.startswith(FHIR_PATHS):
        return fhir_routes.outcome(400 if status == 422 else status, code, message)
    if web.is_page(request):
        return web.error_page(request, status, message)
    return JSONResponse({"detail": message}, status_code=status)
