"""FHIR R4 resources -> one Case: the notes and the coded record read the same way a note is read.

Every resource becomes words in one record text, in the order a reviewer reads a chart: the notes
(DocumentReference attachments) first, then the problem list (Condition), procedure history
(Procedure), observations (Observation) and the orders (ServiceRequest). The coded resources are
written as short sentences the extractor already understands ("History of ...", "s/p ...",
"BMI 31.2."), so a Condition and a note saying the same thing meet the same criteria, and every fact
keeps a span into the words it came from. ``Case.parts`` records which resource each stretch of the
text came from, so a span maps back into the note it was read from.

Requested services come from the orders' billing codes, never from procedures the notes mention.
Parsing uses the R4B models of ``fhir.resources`` (the closest to R4 it ships).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from indicated.engine import Engine
from indicated.errors import InputError, first_problem
from indicated.kb.loader import Knowledge
from indicated.models import Case, RecordPart, RequestedService, RequestedSetting

CPT = {"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12", "CPT"}
HCPCS = {
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "urn:oid:2.16.840.1.113883.6.285",
}
BILLING_OPTIONS = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options"
# LOINC observations written as the words a note would use; others are written as "name: value"
OBSERVATION_WORDS = {"39156-5": "BMI {value}.", "4548-4": "HbA1c {value}%.", "72166-2": "{value}."}
_TAGS = re.compile(r"<[^>]+>")
ORDER_TYPES = ("ServiceRequest", "DeviceRequest")


class EmptyRecord(InputError):
    """The resources hold no words to read: no notes, coded record or named orders."""


@dataclass
class _Record:
    """The record text being written, with the resource each stretch came from."""

    chunks: list[str] = field(default_factory=list)
    parts: list[RecordPart] = field(default_factory=list)
    length: int = 0

    def heading(self, title: str) -> None:
        self._write(f"{title}:\n")

    def add(self, reference: str, kind: str, words: str, title: str = "") -> None:
        start = self.length
        self._write(words)
        self.parts.append(RecordPart(reference=reference, kind=kind, title=title, start=start, end=self.length))
        self._write("\n")

    def gap(self) -> None:
        self._write("\n")

    def _write(self, words: str) -> None:
        self.chunks.append(words)
        self.length += len(words)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def validate_bundle(data: Any, *, source: str = "bundle"):
    """A FHIR R4 Bundle as R4B models, or one InputError naming the first problem and where it is."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise InputError(f"{source}: expected a FHIR Bundle (resourceType 'Bundle')")
    # an entry of a resourceType R4 does not define is the client's error, not ours: 400, never a 500
    # (the models raise KeyError for it); CDS Hooks 2.0: "CDS Services MAY return other HTTP statuses,
    # specifically 4xx and 5xx HTTP error codes"
    entries = data.get("entry")
    for n, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and not is_resource_type(resource.get("resourceType")):
            raise InputError(
                f"{source}: entry[{n}].resource: unknown FHIR resourceType {resource.get('resourceType')!r}"
            )
    try:
        return Bundle.model_validate(data)
    except ValidationError as exc:
        where, msg = first_problem(exc)
        raise InputError(f"{source}: invalid FHIR Bundle at {where or '(top level)'}: {msg}") from exc
    except (KeyError, ValueError) as exc:  # an unknown resourceType deeper in (e.g. a contained resource)
        raise InputError(f"{source}: invalid FHIR Bundle: unknown FHIR type {exc}") from exc


def is_resource_type(name: Any) -> bool:
    """Whether ``name`` is a FHIR resource type the R4B models know."""
    from fhir.resources.R4B import get_fhir_model_class

    if not isinstance(name, str) or not name:
        return False
    try:
        get_fhir_model_class(name)
    except (KeyError, ValueError):
        return False
    return True


def bundle_resources(bundle) -> list:
    """The resources of a Bundle, leaving out empty entries."""
    return [e.resource for e in bundle.entry or [] if e.resource is not None]


def case_from_bundle(
    data: Any, *, as_of: date | None = None, kb: Knowledge | None = None, source: str = "bundle"
) -> Case:
    """A FHIR Bundle (JSON, already parsed) -> Case."""
    return case_from_resources(bundle_resources(validate_bundle(data, source=source)), as_of=as_of, kb=kb)


def case_from_resources(
    resources: Iterable,
    *,
    as_of: date | None = None,
    kb: Knowledge | None = None,
    setting: RequestedSetting | None = None,
) -> Case:
    """R4B resources of one patient -> Case; the ServiceRequests among them are what is requested."""
    engine = Engine.of(kb) if kb is not None else Engine.bundled()
    kb = engine.knowledge
    by_type: dict[str, list] = {}
    for r in resources:
        by_type.setdefault(r.get_resource_type(), []).append(r)
    orders = [r for kind in ORDER_TYPES for r in by_type.get(kind, [])]
    as_of = as_of or _request_date(orders) or date.today()

    record = _Record()
    for doc in by_type.get("DocumentReference", []):
        _add_document(record, doc)
    _section(record, "Problem list", by_type.get("Condition", []), _condition_words)
    _section(record, "Procedure history", by_type.get("Procedure", []), lambda p: _procedure_words(p, kb))
    _section(record, "Observations", by_type.get("Observation", []), _observation_words)
    _section(record, "Requested", orders, _order_words)
    text = record.text
    if not text.strip():
        raise EmptyRecord("bundle: no clinical content (no notes, conditions, procedures, observations or orders)")

    case = engine.extract(text, as_of=as_of)
    patient = next(iter(by_type.get("Patient", [])), None)
    age, sex = _age_and_sex(patient, as_of)
    return case.model_copy(
        update={
            "age": age if age is not None else case.age,
            "sex": sex or case.sex,
            "services": requested_services(orders, case, kb) if orders else case.services,
            "setting": setting or case.setting,
            "parts": record.parts,
        }
    )


def requested_services(orders: Iterable, case: Case, kb: Knowledge) -> list[RequestedService]:
    """One service per billing code of the orders; levels and side as the record states them."""
    found = {s.code: s for s in case.services}
    out: dict[str, RequestedService] = {}
    for order in orders:
        for code in billing_codes(order):
            if code in out:
                continue
            known = kb.codes.get(code)
            out[code] = (
                found[code].model_copy()
                if code in found
                else RequestedService(code=code, description=known.description if known else order_name(order))
            )
    return list(out.values())


def order_concept(order):
    """What an order asks for: ``code`` (ServiceRequest) or ``codeCodeableConcept`` (DeviceRequest)."""
    concept = getattr(order, "code", None) or getattr(order, "codeCodeableConcept", None)
    return concept if hasattr(concept, "coding") else None


def order_name(order) -> str:
    return _display(order_concept(order))


def billing_codes(order) -> list[str]:
    """CPT codes of an order: its coding and the CRD billing-options extension on its code."""
    return list(dict.fromkeys(c.code for c in _codings(order) if c.code and c.system in CPT))


def billing_codings(order) -> list[tuple[str, str]]:
    """(system, code) of every billing code of an order, CPT and HCPCS (a DME order such as E0431 is
    billed in HCPCS), each with the system the order wrote it in."""
    return list(dict.fromkeys((c.system, c.code) for c in _codings(order) if c.code and c.system in CPT | HCPCS))


def _codings(order) -> list:
    concept = order_concept(order)
    if concept is None:
        return []
    codings = list(concept.coding or [])
    for ext in concept.extension or []:
        if ext.url == BILLING_OPTIONS and ext.valueCodeableConcept is not None:
            codings += ext.valueCodeableConcept.coding or []
    return codings


def _section(record: _Record, title: str, resources: list, words) -> None:
    """One heading and a line per resource that has something to say."""
    lines = [(r, w) for r in resources if (w := words(r))]
    if not lines:
        return
    record.heading(title)
    for r, w in lines:
        kind = r.get_resource_type()
        record.add(f"{kind}/{r.id or '?'}", kind, w)
    record.gap()


def _add_document(record: _Record, doc) -> None:
    if doc.status == "entered-in-error":
        return
    title = (doc.description or _display(doc.type) or "Clinical note").strip()
    when = _date(doc.date)
    reference = f"DocumentReference/{doc.id or '?'}"
    for content in doc.content or []:
        att = content.attachment
        kind = (att.contentType or "text/plain").split(";")[0].strip().lower()
        if att.data is None or not kind.startswith("text/"):
            why = "linked, not included" if att.data is None else f"{kind}, not read"
            record.add(reference, "DocumentReference", f"Attachment {title!r} ({why}).", title)
            continue
        body = att.data.decode("utf-8-sig", errors="replace")
        if kind == "text/html":
            body = html.unescape(_TAGS.sub(" ", body))
        record.heading(f"{title} ({when})" if when else title)
        record.add(reference, "DocumentReference", body.strip(), title)
        record.gap()


def _condition_words(c) -> str:
    name = _display(c.code)
    verification = _code(c.verificationStatus)
    if not name or verification == "entered-in-error":
        return ""
    if verification == "refuted":
        return f"No {name}."
    if verification in {"provisional", "differential", "unconfirmed"}:
        return f"Possible {name}."
    if _code(c.clinicalStatus) in {"inactive", "resolved", "remission"}:
        return f"History of {name}."
    return f"{name}."


def _procedure_words(p, kb: Knowledge) -> str:
    name = _display(p.code)
    if not name or p.status != "completed":
        return ""
    codes = [c.code for c in (p.code.coding or []) if c.system in CPT]
    surgery = any(code in kb.codes and kb.codes[code].family != "injection" for code in codes)
    period = p.performedPeriod
    if period is not None and period.start and period.end:
        weeks = round((_date(period.end) - _date(period.start)).days / 7)
        return f"Completed {name} for {weeks} weeks ({_date(period.start)} to {_date(period.end)})."
    when = _date(p.performedDateTime) or (_date(period.start) if period is not None else None)
    on = f" on {when}" if when else ""
    return f"s/p {name}{on}." if surgery else f"{name}{on}."


def _observation_words(o) -> str:
    if o.status in {"entered-in-error", "cancelled", "preliminary"}:
        return ""
    value = _value(o)
    if value is None:
        return ""
    loinc = next((c.code for c in (o.code.coding or []) if c.system == "http://loinc.org"), None)
    template = OBSERVATION_WORDS.get(loinc or "")
    if template:
        return template.format(value=value)
    name = _display(o.code)
    return f"{name}: {value}." if name else ""


def _order_words(order) -> str:
    name = order_name(order)
    where = "; ".join(filter(None, (_display(s) for s in getattr(order, "bodySite", None) or [])))
    return f"{name} ({where})." if name and where else (f"{name}." if name else "")


def _value(o) -> str | None:
    if o.valueQuantity is not None and o.valueQuantity.value is not None:
        unit = o.valueQuantity.unit or ""
        return f"{o.valueQuantity.value:g}{' ' + unit if unit and unit != '%' else ''}"
    if o.valueCodeableConcept is not None:
        return _display(o.valueCodeableConcept) or None
    for attr in ("valueString", "valueInteger"):
        if getattr(o, attr, None) is not None:
            return str(getattr(o, attr))
    if o.valueBoolean is not None:
        return "yes" if o.valueBoolean else "no"
    return None


def _display(concept) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text.strip()
    return next((c.display.strip() for c in concept.coding or [] if c.display), "")


def _code(concept) -> str | None:
    return next((c.code for c in concept.coding or []), None) if concept is not None else None


def _date(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:  # partial dates ("2019", "2019-04") count from their first day
        parts = [int(x) for x in str(value)[:10].split("-")]
        return date(*([*parts, 1, 1])[:3])
    except ValueError:
        return None


def _request_date(orders: list) -> date | None:
    return max((d for d in (_date(getattr(o, "authoredOn", None)) for o in orders) if d), default=None)


def _age_and_sex(patient, as_of: date) -> tuple[int | None, str | None]:
    if patient is None:
        return None, None
    born = _date(patient.birthDate)
    age = None
    if born is not None:
        age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    sex = patient.gender if patient.gender in {"female", "male"} else None
    return age, sex
