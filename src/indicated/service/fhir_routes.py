"""CDS Hooks (Da Vinci CRD) and prior authorization (Da Vinci PAS) routes. Their articles are stored
like any other, so a card's link opens the article page and a reviewer's decision reaches `$inquire`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from indicated.errors import InputError, NotFound
from indicated.fhir import crd
from indicated.inputs import load_json
from indicated.service import pas, workflow
from indicated.service.deps import CurrentReviewer, SessionDep

router = APIRouter()
log = logging.getLogger(__name__)


async def body_of(request: Request) -> Any:
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"body: not JSON (not UTF-8 at byte {exc.start})") from exc
    return load_json(text, source="body", malformed="not JSON")


def fhir_json(resource: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(resource, status_code=status, media_type="application/fhir+json")


def outcome(status: int, code: str, message: str) -> JSONResponse:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": message}]}
    return fhir_json(body, status)


@router.get("/cds-services", tags=["CDS Hooks"])
def discovery() -> dict:
    return crd.discovery()


@router.post("/cds-services/{service_id}", tags=["CDS Hooks"])
async def hook(service_id: str, request: Request, db: SessionDep) -> dict:
    if service_id not in crd.SERVICES:
        raise NotFound(f"no CDS service {service_id!r}; see GET /cds-services")
    body = await body_of(request)
    base = str(request.base_url).rstrip("/")
    return await run_in_threadpool(
        crd.respond,
        service_id,
        body,
        link=lambda aid: f"{base}/ui/assessments/{aid}",
        keep=lambda aid, a: workflow.store(db, a, source="cds-hooks", assessment_id=aid),
        policy_set=request.app.state.settings.policy_set,
        payer=request.app.state.settings.payer_name,
    )


@router.post("/fhir/Claim/$submit", tags=["PAS"])
async def claim_submit(request: Request, db: SessionDep) -> JSONResponse:
    body = await body_of(request)
    response = await run_in_threadpool(
        pas.submit,
        body,
        store=request.app.state.auths,
        keep=lambda aid, a: workflow.store(db, a, source="pas", assessment_id=aid),
        policy_set=request.app.state.settings.policy_set,
        payer=request.app.state.settings.payer_name,
    )
    return fhir_json(response)


@router.post("/fhir/Claim/$inquire", tags=["PAS"])
async def claim_inquire(request: Request) -> JSONResponse:
    body = await body_of(request)
    payer = request.app.state.settings.payer_name
    return fhir_json(await run_in_threadpool(pas.inquire, body, store=request.app.state.auths, payer=payer))


# PAS subscriptions (R4 Subscriptions Backport, rest-hook, full-resource): creating or removing one is a
# state change, so it needs a signed-in account, and is written to the service log by id only
@router.post("/fhir/Subscription", tags=["PAS"], status_code=201)
async def subscription_create(request: Request, reviewer: CurrentReviewer) -> JSONResponse:
    sub = request.app.state.subscriptions.create(await body_of(request))
    log.info("PAS subscription %s created by %s", sub.id, reviewer.username)
    return fhir_json(sub.resource(), 201)


@router.get("/fhir/Subscription/{sid}", tags=["PAS"])
def subscription_read(sid: str, request: Request, reviewer: CurrentReviewer) -> JSONResponse:
    return fhir_json(request.app.state.subscriptions.get(sid).resource())


@router.delete("/fhir/Subscription/{sid}", tags=["PAS"], status_code=204)
def subscription_delete(sid: str, request: Request, reviewer: CurrentReviewer) -> None:
    request.app.state.subscriptions.delete(sid)
    log.info("PAS subscription %s removed by %s", sid, reviewer.username)
