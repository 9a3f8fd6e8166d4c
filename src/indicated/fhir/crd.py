"""CDS Hooks services for Da Vinci CRD: `order-sign` and `order-select` over draft orders.

An EHR calls us as a clinician signs (or picks) an order. We read the draft orders' billing codes,
assess the ones our library has criteria for against the record sent in the prefetch, and answer
with a ``systemActions`` update per order carrying the CRD coverage-information extension, plus a
card only for an order the clinician has to act on: what to document, or which criteria are not met,
and where the full article is (CRD resp-25: coverage information itself never uses a card). Orders we have no criteria for (a mammogram, home oxygen, a records request) are answered
too, ``conditional`` on a person's review with a plain reason, never with an error and never with a guess.

We cannot call back into the EHR's FHIR server (no network at run time), so when an order needs the
record and the prefetch leaves out every record key, the answer is HTTP 412 as CDS Hooks prescribes; a
key sent as ``null`` is the client saying the record has no such data, and is answered.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from indicated.engine import Engine
from indicated.errors import InputError, MissingData, first_problem
from indicated.fhir.coverage import (
    CARD_TYPES,
    COVERAGE_INFORMATION,
    coverage_information,
    judge,
    not_covered_information,
    to_document,
    unmet,
)
from indicated.fhir.record import (
    CPT,
    EmptyRecord,
    billing_codes,
    billing_codings,
    bundle_resources,
    case_from_resources,
    is_resource_type,
    order_name,
    requested_services,
    validate_bundle,
)
from indicated.kb.loader import Knowledge
from indicated.models import Assessment, Case, Determination, ServiceResult
from indicated.wording import WORDING

D = Determination
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "coverage": "Coverage?patient={{context.patientId}}&status=active",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse,resolved",
    "procedures": "Procedure?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&category=vital-signs,social-history,laboratory",
    "documents": "DocumentReference?patient={{context.patientId}}&status=current",
}
# the prefetch that carries the clinical record; an order we have criteria for needs some of it
RECORD_KEYS = ("documents", "conditions", "procedures", "observations")
SERVICES = {
    "indicated-order-sign": {
        "hook": "order-sign",
        "title": "{scope} medical necessity (indicated)",
        "description": "Checks draft {scope_lower} orders against open, cited medical-necessity criteria and "
        "returns Da Vinci CRD coverage information, with what to document when criteria cannot yet be met.",
    },
    "indicated-order-select": {
        "hook": "order-select",
        "title": "{scope} medical necessity at order selection (indicated)",
        "description": "The same check as the order-sign service, for the orders just selected.",
    },
    # the other 'primary' hooks of CRD 2.2 (hook-16: coverage information for every invocation)
    "indicated-order-dispatch": {
        "hook": "order-dispatch",
        "title": "{scope} medical necessity at order dispatch (indicated)",
        "description": "The same check as the order-sign service, for orders dispatched to a performer.",
    },
    "indicated-appointment-book": {
        "hook": "appointment-book",
        "title": "{scope} medical necessity at appointment booking (indicated)",
        "description": "The same check as the order-sign service, for the procedures of booked appointments "
        "(their serviceType codes).",
    },
}
# where each hook's context carries the resources answered for (a Bundle each)
ORDERS_KEY = {"order-dispatch": "dispatchedOrders", "appointment-book": "appointments"}


class HookRequest(BaseModel):
    """The parts of a CDS Hooks request we read; anything else a client sends is accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    hook: str
    hookInstance: str
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None


def discovery(kb: Knowledge | None = None) -> dict:
    """The `GET /cds-services` document; the titles name what the library covers (scope.yaml)."""
    title = (kb or Engine.bundled().knowledge).scope.title
    words = {"scope": title, "scope_lower": title.lower()}
    return {
        "services": [
            {
                **{k: v.format(**words) for k, v in spec.items()},
                "id": sid,
                "prefetch": PREFETCH,
                "extension": {"davinci-crd.version": ["2.2"], "davinci-crd.configuration-options": OPTIONS},
            }
            for sid, spec in SERVICES.items()
        ]
    }


def respond(
    service_id: str,
    body: Any,
    *,
    link: Callable[[str], str],
    keep: Callable[[str, Assessment], None] = lambda aid, a: None,
    kb: Knowledge | None = None,
    policy_set: str = "clinical",
    today: date | None = None,
    payer: str = "indicated",
    fetch: Callable[[str], Any] | None = None,
) -> dict:
    """Answer one hook call. ``link(id)`` is the article's address; ``keep(id, assessment)`` stores it;
    ``payer`` labels the cards (CRD resp-4: the source label names the payer); ``fetch(query)`` reads
    a FHIR query from the client's server (None when it cannot), for the prefetch keys left out.

    Raises KeyError for an unknown service, InputError for a malformed request (HTTP 400) and
    MissingData when the record is needed but every record key is left out of the prefetch, or the
    Coverage is, and neither could be fetched (HTTP 412).
    """
    from indicated.pipeline import assess

    spec = SERVICES[service_id]
    kb = kb or Engine.bundled().knowledge
    request = _request(body, spec["hook"])
    orders, originals = _orders(request)
    covered = {c for p in kb.policies_in(policy_set) if p.kind == "procedure" for c in (s.code for s in p.services)}
    prefetch = _completed(request, fetch)
    needs_record = any(set(billing_codes(o)) & covered for o in orders)
    # CDS Hooks 2.0 (Prefetch): "If the CDS Client has no data to populate a template prefetch key, the
    # prefetch template key MUST have a value of null", while "CDS Clients MUST omit the prefetch key if
    # relevant details cannot be provided". So a key sent as null is an empty answer (the record holds
    # nothing, the criteria are undocumented); only keys left out mean "not fetched", and 412 is for "the
    # request did not contain the necessary prefetch keys".
    if needs_record and not any(k in prefetch for k in RECORD_KEYS):
        raise MissingData(
            "the draft orders include services with criteria, but the prefetch holds none of "
            f"{', '.join(RECORD_KEYS)}; send them as this service's discovery document asks"
        )
    if orders and "coverage" not in prefetch:
        # coverage information names the Coverage it is about (CRD: coverage 1..1); without one there is
        # nothing conformant to say, and CDS Hooks answers a service that cannot get its data with 412
        raise MissingData(
            "the prefetch leaves out coverage and it could not be fetched from the client's FHIR server; "
            "send the patient's active Coverage as this service's discovery document asks"
        )
    coverages = [r for r in _prefetched(prefetch, "coverage") if r.get_resource_type() == "Coverage"]
    unresolved = _unresolved(coverages) if "coverage" in prefetch else None
    if unresolved is not None:
        return _not_covered(orders, originals, coverages, unresolved, today or date.today())
    record = [r for key in ("patient", *RECORD_KEYS) for r in _prefetched(prefetch, key)] if needs_record else []
    coverage = next(iter(coverages), None)
    case = (
        _case([*record, *orders], orders, kb) if needs_record else Case(services=requested_services(orders, Case(), kb))
    )
    assessment = assess(case, policy_set=policy_set, kb=kb)
    aid = uuid.uuid4().hex
    keep(aid, assessment)
    on = today or date.today()
    covering = _coverage_reference(coverage)
    # CRD 2.2 hooks.html, secondary hooks (order-select among them), hook-19: "If Coverage Information is
    # returned for these hooks, it SHALL NOT include messages indicating a need for clinical or
    # administrative information, as such information is expected to be made available later in the
    # process". So order-select sends no doc-needed (clinical/admin) and no list of what to document.
    secondary = spec["hook"] == "order-select"
    cards, actions = [], []
    for n, (order, original) in enumerate(zip(orders, originals, strict=True), start=1):
        codes = billing_codes(order)
        billed = billing_codings(order)
        determination, results = judge(codes, assessment.services)
        # CRD 2.2 deviations.html: associated-resource holds "local references referring to the resource
        # type and resource id of the resource being linked"; an order sent without an id has none to give
        reference = f"{order.get_resource_type()}/{order.id}" if order.id else None
        label = _label(order, billed)
        info = coverage_information(
            determination,
            coverage=covering,
            billing_codes=billed,
            reason=_reason(determination, results, label, secondary=secondary),
            assertion_id=f"{aid}-{n}",
            on=on,
            ask_documentation=not secondary,
        )
        actions += _update(original, info, label)
        if determination in CARDS and not (secondary and determination == D.INSUFFICIENT_INFORMATION):
            cards.append(_card(determination, results, label, reference, link(aid), payer))
    return _configured({"cards": cards, "systemActions": actions}, request)


# CRD 2.2 cards.html resp-25: "Regardless of the content, this 'Coverage Information' response type SHALL
# NOT use a card"; resp-12: "Where systemActions are used, CRD servers SHOULD NOT return equivalent
# information in a card for user display". The coverage-information system action carries every
# determination; a card is added only where the clinician has something to do: documentation to add
# (an Instructions card, topic 'guideline') or criteria not met, with the article to read (topic
# 'off-guideline': "the proposed therapy may be contrary to best-practice guidelines, typically with an
# option to view the relevant guideline"). Criteria met and no criteria in the library get no card.
CARDS = {
    D.INSUFFICIENT_INFORMATION: ("guideline", "Guideline"),
    D.PARTIALLY_MEDICALLY_NECESSARY: ("off-guideline", "Off Guideline"),
    D.NOT_MEDICALLY_NECESSARY: ("off-guideline", "Off Guideline"),
}

# CRD 2.2 configuration options (dev-4, dev-5: one boolean per card type the service returns), set by the
# client per call in the request's davinci-crd.configuration extension (dev-12, dev-14)
OPTIONS = [
    {
        "code": "coverage-info",
        "type": "boolean",
        "name": "Coverage Information",
        "description": "Whether each order gets the coverage-information extension (covered, prior authorization, "
        "documentation) as a system action.",
        "default": True,
    },
    {
        "code": "guideline",
        "type": "boolean",
        "name": "Documentation to add",
        "description": "Cards naming what the record must still document for an order's medical-necessity criteria.",
        "default": True,
    },
    {
        "code": "off-guideline",
        "type": "boolean",
        "name": "Criteria not met",
        "description": "Cards for orders whose medical-necessity criteria are not met on the record sent, with the article.",
        "default": True,
    },
    {
        "code": "max-cards",
        "type": "integer",
        "name": "Maximum cards",
        "description": "The most cards returned for one call; further cards are left out.",
        "default": 10,
    },
]


def _configured(response: dict, request: HookRequest) -> dict:
    """The response as the client configured it (davinci-crd.configuration): card types turned off are
    left out, the number of cards capped, coverage information left out when turned off. Unknown options
    and values of the wrong type are ignored (dev-6, dev-17)."""
    config = (request.model_extra or {}).get("extension", {})
    config = config.get("davinci-crd.configuration") if isinstance(config, dict) else None
    if not isinstance(config, dict):
        return response
    off = {code for code, value in config.items() if value is False}
    cards = [c for c in response["cards"] if c["source"]["topic"]["code"] not in off]
    limit = config.get("max-cards")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
        cards = cards[:limit]
    actions = [] if "coverage-info" in off else response["systemActions"]
    return {"cards": cards, "systemActions": actions}


# what may differ between two assertions that say the same thing
_ASSERTION_STAMPS = {"date", "coverage-assertion-id"}


def _with_coverage_information(original: dict, info: dict) -> dict | None:
    """The order as sent with ``info`` in place of any coverage-information it already carries for the
    same coverage, or None when what it carries already says the same thing.

    CRD 2.2 cards.html resp-35: "CRD servers SHALL NOT send a `systemAction` to update the order unless
    something is new or changed"; resp-37: the update "SHALL NOT make changes to any data elements other
    than adding or modifying coverage-information extensions"; resp-32: repetitions "referencing differing
    insurance (coverage-information.coverage)" stay, so only the one for this coverage is replaced."""
    sent = original.get("extension")
    sent = sent if isinstance(sent, list) else []
    coverage = _sub(info, "coverage")
    prior = [e for e in sent if _is_coverage_information(e) and _sub(e, "coverage") == coverage]
    if prior and all(_said(e) == _said(info) for e in prior):
        return None
    return {**original, "extension": [*(e for e in sent if not any(e is p for p in prior)), info]}


def _is_coverage_information(ext: Any) -> bool:
    return isinstance(ext, dict) and ext.get("url") == COVERAGE_INFORMATION


def _sub(ext: dict, url: str) -> Any:
    subs = ext.get("extension")
    return (
        next((s for s in subs if isinstance(s, dict) and s.get("url") == url), None) if isinstance(subs, list) else None
    )


def _said(ext: dict) -> list:
    subs = ext.get("extension")
    subs = subs if isinstance(subs, list) else []
    return sorted(
        json.dumps(s, sort_keys=True) for s in subs if not (isinstance(s, dict) and s.get("url") in _ASSERTION_STAMPS)
    )


def _case(resources: list, orders: list, kb: Knowledge) -> Case:
    """The record as a Case; an empty record (every record key sent as null) is a Case with no words,
    so every criterion is undocumented rather than the request refused."""
    try:
        return case_from_resources(resources, kb=kb)
    except EmptyRecord:
        return Case(services=requested_services(orders, Case(), kb))


def _request(body: Any, hook: str) -> HookRequest:
    if not isinstance(body, dict):
        raise InputError("request: expected a CDS Hooks request object")
    try:
        request = HookRequest.model_validate(body)
    except ValidationError as exc:
        where, msg = first_problem(exc)
        raise InputError(f"request.{where}: {msg}") from exc
    if request.hook != hook:
        raise InputError(f"request.hook: this service answers {hook!r}, not {request.hook!r}")
    key = ORDERS_KEY.get(hook, "draftOrders")
    if key not in request.context:
        raise InputError(f"request.context.{key}: required for this hook")
    if not isinstance(request.context[key], dict):
        # CRD 2.2 logical models (CRDOrderDispatchContext, CRDAppointmentBookContext): a Bundle of the resources
        raise InputError(f"request.context.{key}: expected a Bundle of the resources, not references to fetch")
    return request


def _orders(request: HookRequest) -> tuple[list, list[dict]]:
    """The orders to answer for, as models and as the JSON the client sent (echoed back unchanged). An
    appointment is judged as the order for the procedures its serviceType names."""
    key = ORDERS_KEY.get(request.hook, "draftOrders")
    bundle = validate_bundle(request.context[key], source=f"context.{key}")
    raw = [e.get("resource") for e in request.context[key].get("entry", [])]
    pairs = [(_as_order(e.resource), r) for e, r in zip(bundle.entry or [], raw, strict=True) if e.resource is not None]
    if request.hook == "order-select":
        selections = request.context.get("selections")
        if not isinstance(selections, list) or not selections:
            raise InputError("request.context.selections: order-select needs the ids of the selected orders")
        pairs = [(m, r) for m, r in pairs if f"{m.get_resource_type()}/{m.id}" in set(selections)]
    return [m for m, _ in pairs], [r for _, r in pairs]


def _as_order(resource):
    """An Appointment as the ServiceRequest it books (its serviceType codes, its id), so that it is judged
    like an order; any other resource as it is."""
    if resource.get_resource_type() != "Appointment":
        return resource
    from fhir.resources.R4B.servicerequest import ServiceRequest

    codings = [c.model_dump(mode="json", exclude_none=True) for t in resource.serviceType or [] for c in t.coding or []]
    patient = next(
        (p.actor for p in resource.participant or [] if p.actor and (p.actor.reference or "").startswith("Patient/")),
        None,
    )
    order = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": patient.model_dump(mode="json", exclude_none=True) if patient else {"display": "the patient"},
        "code": {"coding": codings, "text": resource.description or "the booked procedure"},
    }
    made = ServiceRequest.model_validate(order)
    made.id = resource.id  # the card and the system action name the Appointment by its id
    return made


def _prefetched(prefetch: dict, key: str) -> list:
    """The resources of one prefetch entry (a resource or a searchset Bundle); none when absent."""
    from fhir.resources.R4B import get_fhir_model_class

    value = prefetch.get(key)
    if not value:
        return []
    if not isinstance(value, dict) or "resourceType" not in value:
        raise InputError(f"prefetch.{key}: expected a FHIR resource or Bundle")
    if not is_resource_type(value["resourceType"]):
        raise InputError(f"prefetch.{key}: unknown FHIR resourceType {value['resourceType']!r}")
    if value["resourceType"] == "Bundle":
        return bundle_resources(validate_bundle(value, source=f"prefetch.{key}"))
    if value["resourceType"] == "OperationOutcome":  # the client could not fetch it
        return []
    try:
        return [get_fhir_model_class(value["resourceType"]).model_validate(value)]
    except (KeyError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise InputError(f"prefetch.{key}: not a valid FHIR {value['resourceType']}") from exc


def _unresolved(coverages: list) -> tuple[str, str] | None:
    """Why the one Coverage the client sent does not cover the orders (CRD resp-45: not in force), as a
    CRD coverage assertion reason and words; None when it is in force. No Coverage or several is a bad
    request (CRD hooks.md: a 400 "where no Coverage is accessible, multiple Coverages are accessible"):
    coverage information always names one Coverage of the client's."""
    if len(coverages) != 1:
        raise InputError(
            f"prefetch.coverage: holds {len(coverages)} Coverages; CRD answers for exactly one (send the "
            "patient's active Coverage, and call once per coverage)"
        )
    (coverage,) = coverages
    if coverage.status != "active":
        name = f"Coverage/{coverage.id}" if coverage.id else "the Coverage sent"
        return "no-active-coverage", f"{name} is {coverage.status}, not in force."
    return None


def _not_covered(orders: list, originals: list[dict], coverages: list, unresolved: tuple[str, str], on: date) -> dict:
    """CRD 2.2 resp-45: an order whose coverage is not in force is not-covered, with the reason; its
    medical necessity is not assessed (no card: nothing clinical for the clinician to act on)."""
    reason, why = unresolved
    covering = _coverage_reference(coverages[0])
    run = uuid.uuid4().hex
    actions = []
    for n, (order, original) in enumerate(zip(orders, originals, strict=True), start=1):
        billed = billing_codings(order)
        info = not_covered_information(
            coverage=covering, billing_codes=billed, reason=reason, why=why, assertion_id=f"{run}-{n}", on=on
        )
        actions += _update(original, info, _label(order, billed))
    return {"cards": [], "systemActions": actions}


def _update(original: dict, info: dict, label: str) -> list[dict]:
    """The system action that puts ``info`` on the order as sent; none when it already carries the same."""
    resource = _with_coverage_information(original, info)
    if resource is None:
        return []
    return [{"type": "update", "description": f"Coverage information for {label}", "resource": resource}]


def _completed(request: HookRequest, fetch: Callable[[str], Any] | None) -> dict:
    """The prefetch, with each of our template keys the client left out read from its FHIR server
    (CDS Hooks: a service may query ``fhirServer`` itself when prefetch is missing). A key sent as null
    stays null: the client said it has nothing. A template whose context value is missing or not a
    plain id is not queried."""
    prefetch = dict(request.prefetch or {})
    if fetch is None:
        return prefetch
    for key, template in PREFETCH.items():
        if key in prefetch:
            continue
        query = _query(template, request.context)
        found = fetch(query) if query else None
        if found is not None:
            prefetch[key] = found
    return prefetch


_TOKEN = re.compile(r"\{\{context\.(\w+)\}\}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # a FHIR id: nothing that could change the query's meaning


def _query(template: str, context: dict[str, Any]) -> str | None:
    values = {name: context.get(name) for name in _TOKEN.findall(template)}
    if not all(isinstance(v, str) and _ID.fullmatch(v) for v in values.values()):
        return None
    return _TOKEN.sub(lambda m: values[m.group(1)], template)


def _coverage_reference(coverage) -> dict:
    if coverage is None:
        return {"display": "no Coverage was sent with the request"}
    if not coverage.id:
        return {"display": "the Coverage sent with the request has no id"}
    return {"reference": f"Coverage/{coverage.id}"}


def _label(order, billed: list[tuple[str, str]]) -> str:
    name = order_name(order) or f"this {order.get_resource_type()}"
    by_kind: dict[str, list[str]] = {}
    for system, code in billed:
        by_kind.setdefault("CPT" if system in CPT else "HCPCS", []).append(code)
    codes = "; ".join(f"{kind} {', '.join(c)}" for kind, c in by_kind.items())
    return f"{name} ({codes})" if codes else name


def _reason(determination: Determination, results: list[ServiceResult], label: str, *, secondary: bool = False) -> str:
    if determination == D.INSUFFICIENT_INFORMATION and secondary:  # hook-19: no list of what to document
        return "Medical-necessity criteria are judged on the record when the order is signed."
    if determination == D.NO_APPLICABLE_POLICY:
        return (
            f"The indicated library has no medical-necessity criteria for {label}; coverage was not assessed "
            "and depends on review by a person."
        )
    if determination == D.MEDICALLY_NECESSARY:
        return "Medical-necessity criteria are met on the record sent; prior authorization still applies."
    if determination == D.INSUFFICIENT_INFORMATION:
        return "Criteria cannot be judged until the record documents: " + "; ".join(_missing(results)) + "."
    return "Criteria are not met on the record sent: " + "; ".join(_unmet(results)) + "; a physician will review."


def _missing(results: list[ServiceResult]) -> list[str]:
    return list(dict.fromkeys(x for s in results for x in to_document(s)))


def _unmet(results: list[ServiceResult]) -> list[str]:
    return list(dict.fromkeys(x for s in results for x in unmet(s)))


def _card(
    determination: Determination, results: list[ServiceResult], label: str, reference: str | None, url: str, payer: str
) -> dict:
    card = WORDING[determination].card
    summary = card.format(label=label)
    if len(summary) > 140:
        summary = card.format(label=label[:100].rsplit(" ", 1)[0] + "…")
    if determination == D.INSUFFICIENT_INFORMATION:
        detail = "To document:\n" + "\n".join(f"- {m}" for m in _missing(results))
    elif determination == D.NOT_MEDICALLY_NECESSARY:
        detail = "Not met:\n" + "\n".join(f"- {m}" for m in _unmet(results)) + "\n\nA physician reviewer decides."
    else:
        detail = _reason(determination, results, label)
    card = {
        "uuid": str(uuid.uuid4()),
        "summary": summary,
        "indicator": "info" if determination in (D.MEDICALLY_NECESSARY, D.NO_APPLICABLE_POLICY) else "warning",
        # CRD 2.2 dev-24: cards "specific to only a subset of the resources passed as context SHALL
        # disambiguate in the detail element which resources they are associated with in a human-friendly way"
        "detail": f"{label}\n\n{detail}",
        "source": {
            "label": payer,
            "topic": {"system": CARD_TYPES, "code": CARDS[determination][0], "display": CARDS[determination][1]},
        },
        "links": [{"label": "Read the determination article", "url": url, "type": "absolute"}],
    }
    if reference:
        card["extension"] = {"davinci-crd.associated-resource": [{"reference": reference}]}
    return card
