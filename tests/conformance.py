"""Checks of what an EHR or payer certifies: the CDS Hooks 2.0 response shape, the Da Vinci CRD 2.2
coverage-information extension (cardinalities, required bindings, invariants crd-ci-q1..q9) and the
Da Vinci PAS 2.2 response Bundle (required elements and bindings). Each check returns the problems it
finds, so a test can report all of them at once."""

from __future__ import annotations

from fhir.resources.R4B import get_fhir_model_class

COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
X12_306 = "https://codesystem.x12.org/005010/306"
REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode"

# CRD 2.2 coverage-information: sub-extension -> (min, max, the codes of its required binding or None)
COVERAGE_ELEMENTS: dict[str, tuple[int, float, set[str] | None]] = {
    "coverage": (1, 1, None),
    "covered": (1, 1, {"covered", "not-covered", "conditional", "indeterminate"}),
    "pa-needed": (0, 1, {"no-auth", "auth-needed", "satisfied", "performpa", "conditional", "indeterminate"}),
    "doc-needed": (0, float("inf"), {"clinical", "admin", "patient", "conditional", "indeterminate"}),
    "doc-purpose": (0, float("inf"), {"withpa", "withclaim", "withorder", "retain-doc", "OTH"}),
    "info-needed": (
        0,
        float("inf"),
        {"performer", "location", "timeframe", "contract-window", "detail-code", "OTH"},
    ),
    "billingCode": (0, float("inf"), None),
    "reason": (0, float("inf"), None),
    "detail": (0, float("inf"), None),
    "dependency": (0, float("inf"), None),
    "questionnaire": (0, float("inf"), None),
    "date": (1, 1, None),
    "coverage-assertion-id": (1, 1, None),
    "satisfied-pa-id": (0, 1, None),
    "contact": (0, float("inf"), None),
    "expiry-date": (0, 1, None),
}
CRD_REASON_CODES = {
    "gold-card",
    "no-member-found",
    "no-active-coverage",
    "coverage-not-found",
    "auth-out-network",
    "technical",
}
CARD_INDICATORS = {"info", "warning", "critical"}
ACTION_TYPES = {"create", "update", "delete"}
LINK_TYPES = {"absolute", "smart"}
# X12 306 action codes a PAS response may carry (the certification actions of a 278 response)
X12_306_CODES = {"A1", "A2", "A3", "A4", "A6", "C", "CT", "D", "IP", "NA"}
PAS_OUTCOMES = {"complete", "error", "partial"}


def _value(ext: dict):
    return next((v for k, v in ext.items() if k.startswith("value")), None)


def coverage_information_problems(ext: dict) -> list[str]:
    """Problems with one coverage-information extension (CRD 2.2 StructureDefinition and invariants)."""
    problems: list[str] = []
    if ext.get("url") != COVERAGE_INFORMATION:
        return [f"not a coverage-information extension: {ext.get('url')}"]
    subs = ext.get("extension") or []
    by: dict[str, list] = {}
    for sub in subs:
        by.setdefault(sub.get("url"), []).append(sub)
    for url in set(by) - set(COVERAGE_ELEMENTS):
        problems.append(f"unknown element {url!r}")
    for url, (lo, hi, codes) in COVERAGE_ELEMENTS.items():
        found = by.get(url, [])
        if not lo <= len(found) <= hi:
            problems.append(f"{url}: {len(found)} repetitions, expected {lo}..{'*' if hi == float('inf') else int(hi)}")
        for sub in found:
            value = _value(sub)
            if url == "detail":
                continue  # a complex extension: its parts are checked below
            if value is None:
                problems.append(f"{url}: no value")
            elif codes is not None and value not in codes:
                problems.append(f"{url}: {value!r} is not in its required value set")
    coverage = [_value(s) for s in by.get("coverage", [])]
    if coverage and not (coverage[0] or {}).get("reference", "").startswith("Coverage/"):
        problems.append("coverage: not a reference to one of the client's Coverage resources")
    values = {url: [_value(s) for s in found] for url, found in by.items()}
    decisions = values.get("covered", []) + values.get("pa-needed", []) + values.get("doc-needed", [])
    if values.get("questionnaire") and not values.get("doc-needed"):
        problems.append("crd-ci-q1: questionnaire without doc-needed")
    if "not-covered" in values.get("covered", []) and values.get("pa-needed"):
        problems.append("crd-ci-q2: not-covered with pa-needed")
    if "conditional" in decisions and not values.get("info-needed"):
        problems.append("crd-ci-q3: a conditional decision without info-needed")
    if set(values.get("pa-needed", [])) & {"satisfied", "noauth", "no-auth", "not-covered"} and "withpa" in values.get(
        "doc-purpose", []
    ):
        problems.append("crd-ci-q4: doc-purpose withpa when no prior authorization is needed")
    if ("satisfied" in values.get("pa-needed", [])) != bool(values.get("satisfied-pa-id")):
        problems.append("crd-ci-q5: satisfied-pa-id exactly when pa-needed is satisfied")
    if "OTH" in values.get("info-needed", []) and not values.get("reason"):
        problems.append("crd-ci-q6: info-needed OTH without a reason")
    if "OTH" in values.get("info-needed", []) and not values.get("detail"):
        problems.append("info-needed OTH without a detail naming what is needed")
    for reason in values.get("reason", []):
        coded = {c.get("code") for c in (reason or {}).get("coding", [])}
        if not (reason or {}).get("text") and not coded <= CRD_REASON_CODES:
            problems.append("crd-ci-q7: a reason outside the value set without text")
    if set(values.get("doc-purpose", [])) - {"conditional"} and not values.get("reason"):
        problems.append("crd-ci-q8: doc-purpose without a reason")
    if "indeterminate" in decisions and not values.get("reason"):
        problems.append("crd-ci-q9: indeterminate without a reason")
    return problems


def cds_response_problems(response: dict) -> list[str]:
    """Problems with a CDS Hooks 2.0 response carrying CRD coverage information."""
    problems: list[str] = []
    if set(response) - {"cards", "systemActions"}:
        problems.append(f"unknown members {sorted(set(response) - {'cards', 'systemActions'})}")
    if not isinstance(response.get("cards"), list):
        problems.append("cards: required, an array")
    for n, card in enumerate(response.get("cards") or []):
        where = f"cards[{n}]"
        if not card.get("summary") or len(card["summary"]) >= 140:
            problems.append(f"{where}.summary: required, under 140 characters")
        if card.get("indicator") not in CARD_INDICATORS:
            problems.append(f"{where}.indicator: {card.get('indicator')!r}")
        if not (card.get("source") or {}).get("label"):
            problems.append(f"{where}.source.label: required")
        if ((card.get("source") or {}).get("topic") or {}).get("code") == "coverage-info":
            problems.append(f"{where}: a card repeating the coverage information (CRD resp-25)")
        for link in card.get("links") or []:
            if not link.get("label") or not link.get("url") or link.get("type") not in LINK_TYPES:
                problems.append(f"{where}.links: label, url and type (absolute | smart) required")
    for n, action in enumerate(response.get("systemActions") or []):
        where = f"systemActions[{n}]"
        if action.get("type") not in ACTION_TYPES or not action.get("description"):
            problems.append(f"{where}: type (create | update | delete) and description required")
        resource = action.get("resource") or {}
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except (KeyError, ValueError) as exc:
            problems.append(f"{where}.resource: not valid FHIR ({str(exc).splitlines()[0]})")
        infos = [e for e in resource.get("extension") or [] if e.get("url") == COVERAGE_INFORMATION]
        if not infos:
            problems.append(f"{where}.resource: no coverage-information extension")
        problems += [f"{where}: {p}" for e in infos for p in coverage_information_problems(e)]
    return problems


def pas_response_problems(bundle: dict) -> list[str]:
    """Problems with a PAS 2.2 response Bundle (PASResponseBundle, PASClaimResponse): required elements
    and bindings beyond what the FHIR R4 model itself checks."""
    problems: list[str] = []
    try:
        get_fhir_model_class("Bundle").model_validate(bundle)
    except ValueError as exc:
        return [f"not a valid FHIR Bundle ({str(exc).splitlines()[0]})"]
    if not (bundle.get("identifier") or {}).get("value"):
        problems.append("Bundle.identifier: 1..1 (the submitted transaction identifier)")
    if bundle.get("type") != "collection" or not bundle.get("timestamp"):
        problems.append("Bundle: type collection and a timestamp required")
    entries = bundle.get("entry") or []
    if any(not e.get("fullUrl") or not e.get("resource") for e in entries):
        problems.append("Bundle.entry: fullUrl and resource 1..1")
    if any("request" in e or "response" in e or "search" in e for e in entries):
        problems.append("Bundle.entry: request, response and search are not allowed")
    first = (entries[0].get("resource") if entries else None) or {}
    if first.get("resourceType") != "ClaimResponse":
        return [*problems, "the first entry must be the ClaimResponse"]
    full_urls = {e.get("fullUrl") for e in entries}
    cr = first
    for element in ("status", "type", "use", "patient", "created", "insurer", "request", "outcome"):
        if not cr.get(element):
            problems.append(f"ClaimResponse.{element}: required")
    if cr.get("status") != "active" or cr.get("use") != "preauthorization":
        problems.append("ClaimResponse: status active and use preauthorization")
    if cr.get("outcome") not in PAS_OUTCOMES:
        problems.append(f"ClaimResponse.outcome: {cr.get('outcome')!r} is not complete | error | partial")
    insurer = (cr.get("insurer") or {}).get("reference")
    if insurer and insurer.startswith("urn:uuid:") and insurer not in full_urls:
        problems.append("ClaimResponse.insurer: refers to no entry of the Bundle")
    notes = {n.get("number") for n in cr.get("processNote") or []}
    if any(not n.get("number") or not n.get("text") for n in cr.get("processNote") or []):
        problems.append("ClaimResponse.processNote: number and text required")
    for item in cr.get("item") or []:
        where = f"item {item.get('itemSequence')}"
        if set(item.get("noteNumber") or []) - notes:
            problems.append(f"{where}.noteNumber: refers to no processNote")
        for adj in item.get("adjudication") or []:
            if [c.get("code") for c in (adj.get("category") or {}).get("coding", [])] != ["submitted"]:
                problems.append(f"{where}.adjudication.category: fixed to submitted")
            actions = [e for e in adj.get("extension") or [] if e.get("url") == REVIEW_ACTION]
            codes = [
                c
                for a in actions
                for s in a.get("extension") or []
                if s.get("url") == REVIEW_ACTION_CODE
                for c in (s.get("valueCodeableConcept") or {}).get("coding", [])
            ]
            if len(actions) > 1 or any(c.get("system") != X12_306 or c.get("code") not in X12_306_CODES for c in codes):
                problems.append(f"{where}.reviewAction: 0..1, its code from X12 306")
    return problems
