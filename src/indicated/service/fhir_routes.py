"""CDS Hooks (Da Vinci CRD) and prior authorization (Da Vinci PAS) routes. Their articles are stored
like any other, so a card's link opens the article page and a reviewer's decision reaches `$inquire`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from indicated.errors import InputError, NotFound
from indicated.fhir import crd
from indicated.inputs import load_json
from indicated.service import cpu, links, pas, workflow
from indicated.service.deps import CdsClient, CurrentCaller, IdentifiedCaller, SessionDep
from indicated.service.prior_auths import OwnedPriorAuths, PriorAuths

router = APIRouter()
log = logging.getLogger(__name__)
EHR_TIMEOUT = 5.0  # seconds for each query to the client's FHIR server: a hook call must answer quickly


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
async def hook(service_id: str, request: Request, db: SessionDep, client: CdsClient) -> dict:
    """A CDS Hooks call, signed by a registered client's JWT. Its cards link to the article with a signed,
    expiring link, so the clinician the EHR shows it to can open that one article without an account."""
    if service_id not in crd.SERVICES:
        raise NotFound(f"no CDS service {service_id!r}; see GET /cds-services")
    body = await body_of(request)
    base = str(request.base_url).rstrip("/")
    settings = request.app.state.settings
    key = request.app.state.link_key

    def link(aid: str) -> str:
        return f"{base}/ui/assessments/{aid}?link={links.sign(key, aid, hours=settings.link_hours)}"

    return await cpu.run(
        request,
        crd.respond,
        service_id,
        body,
        fetch=ehr_reader(request, body),
        link=link,
        keep=lambda aid, a: workflow.store(db, a, source="cds-hooks", assessment_id=aid, owner=client),
        policy_set=request.app.state.settings.policy_set,
        payer=request.app.state.settings.payer_name,
    )


def ehr_reader(request: Request, body: Any) -> Callable[[str], Any] | None:
    """Read a FHIR query from the server the hook call names (``fhirServer``), with the access token it
    grants us (``fhirAuthorization``), for prefetch keys the client left out. Only with a token: the call
    itself is signed by a registered client, and we go nowhere it did not send us. Any failure (refused,
    not JSON, over the body limit, slower than the timeout) is "could not fetch", never an error."""
    server = body.get("fhirServer") if isinstance(body, dict) else None
    grant = body.get("fhirAuthorization") if isinstance(body, dict) else None
    token = grant.get("access_token") if isinstance(grant, dict) else None
    if not isinstance(server, str) or not server.startswith(("https://", "http://")) or not isinstance(token, str):
        return None
    settings = request.app.state.settings

    def read(query: str) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
        try:
            with (
                httpx.Client(transport=request.app.state.ehr_transport, timeout=EHR_TIMEOUT) as http,
                http.stream("GET", f"{server.rstrip('/')}/{query}", headers=headers) as res,
            ):
                if res.status_code != 200:
                    return None
                raw = bytearray()
                for chunk in res.iter_bytes():
                    raw += chunk
                    if len(raw) > settings.max_body:
                        return None
            return load_json(raw.decode("utf-8-sig"), source="fhirServer", malformed="not JSON")
        except (httpx.HTTPError, UnicodeDecodeError, InputError) as exc:
            log.warning("reading %s from the client's FHIR server failed: %s", query.split("?")[0], type(exc).__name__)
            return None

    return read


def auths_of(request: Request, caller) -> PriorAuths:
    """The prior-authorization requests this caller may see: a client only those it sent."""
    store = request.app.state.auths
    return OwnedPriorAuths(store, caller.scope) if caller.scope else store


@router.post("/fhir/Claim/$submit", tags=["PAS"])
async def claim_submit(request: Request, db: SessionDep, caller: CurrentCaller) -> JSONResponse:
    body = await body_of(request)
    response = await cpu.run(
        request,
        pas.submit,
        body,
        store=auths_of(request, caller),
        keep=lambda aid, a: workflow.store(db, a, source="pas", assessment_id=aid, owner=caller.owner),
        policy_set=request.app.state.settings.policy_set,
        payer=request.app.state.settings.payer_name,
    )
    return fhir_json(response)


@router.post("/fhir/Claim/$inquire", tags=["PAS"])
async def claim_inquire(request: Request, caller: CurrentCaller) -> JSONResponse:
    body = await body_of(request)
    payer = request.app.state.settings.payer_name
    return fhir_json(await cpu.run(request, pas.inquire, body, store=auths_of(request, caller), payer=payer))


# PAS subscriptions (R4 Subscriptions Backport, rest-hook, full-resource): creating or removing one is a
# state change, so it needs a client key or a signed-in account, and is written to the service log by id only
@router.post("/fhir/Subscription", tags=["PAS"], status_code=201)
async def subscription_create(request: Request, caller: IdentifiedCaller) -> JSONResponse:
    sub = request.app.state.subscriptions.create(await body_of(request))
    log.info("PAS subscription %s created by %s", sub.id, caller.owner)
    return fhir_json(sub.resource(), 201)


@router.get("/fhir/Subscription/{sid}", tags=["PAS"])
def subscription_read(sid: str, request: Request, caller: IdentifiedCaller) -> JSONResponse:
    return fhir_json(request.app.state.subscriptions.get(sid).resource())


@router.delete("/fhir/Subscription/{sid}", tags=["PAS"], status_code=204)
def subscription_delete(sid: str, request: Request, caller: IdentifiedCaller) -> None:
    request.app.state.subscriptions.delete(sid)
    log.info("PAS subscription %s removed by %s", sid, caller.owner)
