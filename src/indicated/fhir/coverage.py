"""Determinations in the words of the Da Vinci guides: CRD coverage information and X12 306 actions.

The engine judges medical necessity; it never denies on its own. So in CRD terms a request whose
criteria are met is ``covered`` (prior authorization still goes through PAS); one with criteria not
met or not documented is ``conditional`` on a physician's review or on the documentation named in
the reason; and a service our library has no criteria for is ``conditional`` too, on a person's
review, said plainly in the reason (CRD 2.2 keeps ``indeterminate`` for technical limits, resp-43). In PAS terms met is A1 (certified in total) and everything else is A4
(pended); A3 (not certified) only ever comes from a person, through the review workflow.

Codes: CRD STU 2.2 ``coverage-information-codes`` (covered, pa-needed, doc-needed), v3 NullFlavor
OTH for info-needed, the cdshooks-card-type code system for card topics, and X12 code list 306.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from indicated import wording
from indicated.models import Determination, ServiceResult
from indicated.reasons import clause, leaves

COVERAGE_INFORMATION = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information"
CARD_TYPES = "http://terminology.hl7.org/CodeSystem/cdshooks-card-type"
DETAIL_CODES = "http://terminology.hl7.org/CodeSystem/crd-coverage-detail"
CPT_SYSTEM = "http://www.ama-assn.org/go/cpt"
X12_306 = "https://codesystem.x12.org/005010/306"
REVIEW_ACTION = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/extension-reviewActionCode"
# our own extension (no Da Vinci element says whether a person reviewed an item)
HUMAN_REVIEW = "urn:indicated:fhir:StructureDefinition:human-review"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
# CRD coverage assertion reasons (coverage-not-found, no-active-coverage, ...)
CRD_TEMP = "http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp"


@dataclass(frozen=True)
class CoverageCodes:
    covered: str
    pa_needed: str
    doc_needed: str | None
    info_needed: str | None


CRD = {
    Determination.MEDICALLY_NECESSARY: CoverageCodes("covered", "auth-needed", "clinical", None),
    Determination.PARTIALLY_MEDICALLY_NECESSARY: CoverageCodes("conditional", "auth-needed", "clinical", "OTH"),
    Determination.INSUFFICIENT_INFORMATION: CoverageCodes("conditional", "auth-needed", "clinical", "OTH"),
    Determination.NOT_MEDICALLY_NECESSARY: CoverageCodes("conditional", "auth-needed", "clinical", "OTH"),
    # no criteria in our library: coverage depends on a person's review (not a technical limit, so not
    # 'indeterminate'); whether prior authorization applies is the payer's rule, not ours to assert
    Determination.NO_APPLICABLE_POLICY: CoverageCodes("conditional", "conditional", None, "OTH"),
}

# X12 306: what the engine may answer by itself; A3 is left to a person
REVIEW_ACTIONS = {"A1": "Certified in total", "A3": "Not certified", "A4": "Pended"}


def judge(codes: list[str], services: list[ServiceResult]) -> tuple[Determination, list[ServiceResult]]:
    """One order's (or claim item's) determination, the worst of its codes', and the services whose
    criteria decided it: an add-on (instrumentation, another level) is judged with the primary it
    serves, so its reasons are the primary's."""
    results = [s for s in services if s.code in codes]
    primary = {s.code: s for s in services}
    deciding = {id(r): r for r in (primary.get(s.serves, s) if s.serves else s for s in results)}
    return worst([s.determination for s in results]), list(deciding.values())


def to_document(service: ServiceResult) -> list[str]:
    """What the record must still document for ``service``'s undecided criteria."""
    return [c.to_document or clause(c.statement) for c in leaves(service.criteria, "unknown")]


def unmet(service: ServiceResult) -> list[str]:
    """The criteria ``service`` failed, as clauses."""
    return [clause(c.statement) for c in leaves(service.criteria, "not_met")]


def worst(determinations: list[Determination]) -> Determination:
    """An order with several codes takes the least favourable of their determinations."""
    return wording.worst(determinations) if determinations else Determination.NO_APPLICABLE_POLICY


def coverage_information(
    determination: Determination,
    *,
    coverage: dict,
    billing_codes: list[tuple[str, str]],
    reason: str,
    assertion_id: str,
    on: date,
    ask_documentation: bool = True,
) -> dict:
    """The CRD coverage-information extension for one order, as FHIR JSON; ``billing_codes`` are
    (system, code) pairs. ``ask_documentation=False``
    (a secondary hook such as order-select, CRD hook-19) leaves out doc-needed and doc-purpose."""
    codes = CRD[determination]
    ext: list[dict] = [{"url": "coverage", "valueReference": coverage}, {"url": "covered", "valueCode": codes.covered}]
    ext.append({"url": "pa-needed", "valueCode": codes.pa_needed})
    if codes.doc_needed and ask_documentation:
        ext.append({"url": "doc-needed", "valueCode": codes.doc_needed})
        ext.append({"url": "doc-purpose", "valueCode": "withpa"})
    if codes.info_needed:
        ext.append({"url": "info-needed", "valueCode": codes.info_needed})
    # billingCode: "Billing code(s) that must be used in the eventual claim", each in its own system
    ext += [{"url": "billingCode", "valueCoding": {"system": s, "code": c}} for s, c in billing_codes]
    ext.append({"url": "reason", "valueCodeableConcept": {"text": reason}})
    if codes.info_needed == "OTH":
        # CRD 2.2 coverage-information, info-needed: "If this element is set to OTH, then there must be at
        # least one detail element the explains the nature of the additional information needed to
        # determine coverage, prior authorization, and/or documentation requirements." The detail code
        # 'instructions': "details about information needed ... Value should be a string. (Category may vary.)"
        ext.append(
            {
                "url": "detail",
                "extension": [
                    {"url": "category", "valueCode": "cat-decisional"},
                    {
                        "url": "code",
                        "valueCodeableConcept": {"coding": [{"system": DETAIL_CODES, "code": "instructions"}]},
                    },
                    {"url": "value", "valueString": reason},
                ],
            }
        )
    ext.append({"url": "date", "valueDate": on.isoformat()})
    ext.append({"url": "coverage-assertion-id", "valueString": assertion_id})
    return {"url": COVERAGE_INFORMATION, "extension": ext}


def not_covered_information(
    *, coverage: dict, billing_codes: list[tuple[str, str]], reason: str, why: str, assertion_id: str, on: date
) -> dict:
    """Coverage information for an order whose coverage cannot be resolved (CRD 2.2 resp-45): not-covered
    with a coverage assertion reason (``reason``: coverage-not-found or no-active-coverage), said in
    ``why``. Not-covered carries no pa-needed (crd-ci-q2) and, being no 'conditional', no info-needed."""
    ext: list[dict] = [{"url": "coverage", "valueReference": coverage}, {"url": "covered", "valueCode": "not-covered"}]
    ext += [{"url": "billingCode", "valueCoding": {"system": s, "code": c}} for s, c in billing_codes]
    ext.append(
        {"url": "reason", "valueCodeableConcept": {"coding": [{"system": CRD_TEMP, "code": reason}], "text": why}}
    )
    ext.append({"url": "date", "valueDate": on.isoformat()})
    ext.append({"url": "coverage-assertion-id", "valueString": assertion_id})
    return {"url": COVERAGE_INFORMATION, "extension": ext}


def review_action(determination: Determination | None, *, human_decision: str | None = None) -> str:
    """The X12 306 code for an item: a person's decision when there is one, else A1 or A4."""
    if human_decision is not None:
        return human_decision
    return "A1" if determination == Determination.MEDICALLY_NECESSARY else "A4"


def review_action_extension(code: str, *, number: str) -> dict:
    return {
        "url": REVIEW_ACTION,
        "extension": [
            {"url": "number", "valueString": number},
            {
                "url": REVIEW_ACTION_CODE,
                "valueCodeableConcept": {
                    "coding": [{"system": X12_306, "code": code, "display": REVIEW_ACTIONS[code]}]
                },
            },
        ],
    }
