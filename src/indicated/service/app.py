"""FastAPI app: CDS Hooks services, PAS operations and the articles their answers link to.

Domain errors become HTTP answers in one place: a malformed request is 400 with a FHIR
OperationOutcome, missing prefetch data 412 (as CDS Hooks prescribes), an unknown service or claim
404, a body over the size limit 413; no traceback reaches a client, and nothing of a case's text is
logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from indicated.errors import IndicatedError, InputError, MissingData
from indicated.fhir import crd, pas
from indicated.service.store import Articles

MAX_BODY = 5_000_000  # bytes: a Bundle with several notes is well under 1 MB
log = logging.getLogger("indicated.service")


class NotFound(IndicatedError):
    pass


def warm_up() -> None:
    """Build what the first request would otherwise wait for (the NLP pipeline, the retrieval
    indexes, the FHIR models): about a second, spent before the server reports that it is up."""
    from indicated.fhir.samples import crd_request, record_bundle

    note = "L5-S1 disc extrusion with left S1 radiculopathy after 8 weeks of physical therapy."
    crd.respond("indicated-order-sign", crd_request(record_bundle(note, ["63030"])), link=str)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    warm_up()
    yield


def create_app(*, policy_set: str = "clinical", max_body: int = MAX_BODY) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title="indicated",
        summary="Open medical-necessity determinations: CDS Hooks (Da Vinci CRD), prior authorization (Da Vinci PAS)",
    )
    articles = Articles()
    auths = pas.PriorAuths()

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > max_body:
            raise _TooLarge(len(raw), max_body)
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"body: not JSON ({exc})") from exc

    @app.get("/cds-services", tags=["CDS Hooks"])
    def discovery() -> dict:
        return crd.discovery()

    @app.post("/cds-services/{service_id}", tags=["CDS Hooks"])
    async def hook(service_id: str, request: Request) -> dict:
        if service_id not in crd.SERVICES:
            raise NotFound(f"no CDS service {service_id!r}; see GET /cds-services")
        body = await body_of(request)
        base = str(request.base_url).rstrip("/")
        return crd.respond(
            service_id, body, link=lambda aid: f"{base}/articles/{aid}", keep=articles.keep, policy_set=policy_set
        )

    @app.post("/fhir/Claim/$submit", tags=["PAS"])
    async def claim_submit(request: Request) -> JSONResponse:
        body = await body_of(request)
        return _fhir(pas.submit(body, store=auths, keep=articles.keep, policy_set=policy_set))

    @app.post("/fhir/Claim/$inquire", tags=["PAS"])
    async def claim_inquire(request: Request) -> JSONResponse:
        body = await body_of(request)
        try:
            return _fhir(pas.inquire(body, store=auths))
        except KeyError as exc:
            raise NotFound(f"no prior-authorization request for claim {exc.args[0]}") from exc

    @app.get("/articles/{aid}", tags=["Articles"])
    def article(
        aid: str,
        audience: Annotated[str, Query(pattern="^(clinician|reviewer|patient)$")] = "clinician",
        format: Annotated[str, Query(pattern="^(html|markdown|json)$")] = "html",
    ) -> Response:
        from indicated.render import render

        assessment = articles.get(aid)
        if assessment is None:
            raise NotFound(f"no article {aid!r} (articles are kept in memory while the server runs)")
        if format == "json":
            return Response(render(assessment, "json"), media_type="application/json")
        text = render(assessment, format, audience=audience)
        return HTMLResponse(text) if format == "html" else PlainTextResponse(text, media_type="text/markdown")

    @app.exception_handler(InputError)
    def bad_request(request: Request, exc: InputError) -> JSONResponse:
        return _outcome(400, "invalid", str(exc))

    @app.exception_handler(MissingData)
    def precondition(request: Request, exc: MissingData) -> JSONResponse:
        return _outcome(412, "required", str(exc))

    @app.exception_handler(NotFound)
    def not_found(request: Request, exc: NotFound) -> JSONResponse:
        return _outcome(404, "not-found", str(exc))

    @app.exception_handler(_TooLarge)
    def too_large(request: Request, exc: _TooLarge) -> JSONResponse:
        return _outcome(413, "too-costly", str(exc))

    @app.exception_handler(Exception)
    def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return _outcome(500, "exception", "internal error; the request was not processed")

    return app


class _TooLarge(IndicatedError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"body of {size:,} bytes is over the limit of {limit:,}")


def _fhir(resource: dict) -> JSONResponse:
    return JSONResponse(resource, media_type="application/fhir+json")


def _outcome(status: int, code: str, message: str) -> JSONResponse:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": message}]}
    return JSONResponse(body, status_code=status, media_type="application/fhir+json")
