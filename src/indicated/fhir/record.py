"""FHIR R4 resources -> one Case: the notes read as notes, the codes read through the value sets.

Words are read as a note is read. The notes (DocumentReference attachments), the reports
(DiagnosticReport conclusion and presented form, where systems put the MRI), coded resources whose
codes the value sets do not list but whose own words say something ("Lumbar spinal stenosis"), and
the orders (ServiceRequest) become one record text in the order a reviewer reads a chart, and the text
extractor reads it.

Codes are read through the value sets held in the knowledge (``value-sets.yaml``: ICD-10-CM, SNOMED CT,
LOINC, RxNorm and CPT codes -> concepts), never turned into an English sentence and read back
(DESIGN.md "Coded data"). Each coded resource gets one line after the words ("Condition/c1: ICD-10-CM
M51.16 Intervertebral disc disorders with radiculopathy, lumbar region; active"), which the extractor
never reads: it is the span its facts quote, so the article shows the resource that decided a
criterion. A Condition keeps its clinical and verification status (resolved: the past; refuted:
absent), an Observation its measured number, a MedicationRequest or MedicationStatement is
conservative care with its dates, and therapy sessions or injections of one kind are one course from
the first to the last date (an ongoing course counts to the request date; one session is a course of
unknown length, never "0 weeks"). ``Case.parts`` records which resource each stretch of the text came
from, so a span maps back to it; ``Case.ignored`` lists every resource read that gave nothing used.

Requested services come from the orders' billing codes, never from procedures the notes mention.
Parsing uses the R4B models of ``fhir.resources`` (the closest to R4 it ships).
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from indicated.engine import Engine
from indicated.errors import InputError, first_problem
from indicated.extract import levels as lv
from indicated.extract.summary import _segment_order, conservative_care_weeks, symptom_weeks
from indicated.kb.loader import Knowledge
from indicated.kb.schema import ValueSetCode
from indicated.models import Case, Finding, IgnoredResource, RecordPart, RequestedService, RequestedSetting, Span

CPT = {"http://www.ama-assn.org/go/cpt", "urn:oid:2.16.840.1.113883.6.12", "CPT"}
HCPCS = {
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "urn:oid:2.16.840.1.113883.6.285",
}
BILLING_OPTIONS = "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options"
_TAGS = re.compile(r"<[^>]+>")
ORDER_TYPES = ("ServiceRequest", "DeviceRequest")
MEDICATION_TYPES = ("MedicationRequest", "MedicationStatement")
# resources the request itself is made of (who, for whom, paid by whom): other parts of the service use
# them, so they are never listed as ignored
ADMINISTRATIVE = {
    "Patient",
    "Coverage",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Location",
    "RelatedPerson",
}
# resources the reader reads (a Medication is read through the requests that name it)
READ = {"DocumentReference", "DiagnosticReport", "Condition", "Observation", "Procedure", "Medication", *ORDER_TYPES}
READ |= set(MEDICATION_TYPES)
MAX_ENTRIES = 5_000
"""The most resources one record may hold: a Bundle's entries, or all the resources of a CDS Hooks
prefetch together. A prior-authorization record is tens to hundreds of resources; reading is linear in
the record, and 5,000 Conditions take about 2 s on a small machine (``bench/size.py``), so this bounds
what one request can cost (security issue 17, finding 3). A Bundle's entries are counted before its
resources are parsed, which is itself the costliest step of a large Bundle."""
MAX_RECORD_CHARS = 300_000
"""The most characters of words (notes, reports, worded resources) one record may give the text reader:
thirty long operative notes, or three notes at the limit of a plain-text case (``inputs.MAX_CHARS``).
A record fits its request's body limit long before this, except one holding a megabyte-sized note,
which would take the reader tens of seconds (security issue 17, finding 3)."""
_DONE = {"completed", "stopped"}  # a procedure that took place (stopped: begun, then stopped)
_RESOLVED = {"inactive", "resolved", "remission"}
_DOUBTFUL = {"provisional", "differential", "unconfirmed"}


class EmptyRecord(InputError):
    """The resources hold no words to read: no notes, coded record or named orders."""


@dataclass
class _Record:
    """The record text being written, with the resource each stretch came from."""

    chunks: list[str] = field(default_factory=list)
    parts: list[RecordPart] = field(default_factory=list)
    owners: list[Any] = field(default_factory=list)  # the resource of each part
    length: int = 0

    def heading(self, title: str) -> None:
        self._write(f"{title}:\n")

    def add(self, reference: str, kind: str, words: str, title: str = "", *, owner: Any = None) -> RecordPart:
        start = self.length
        self._write(words)
        part = RecordPart(reference=reference, kind=kind, title=title, start=start, end=self.length)
        self.parts.append(part)
        self.owners.append(owner)
        self._write("\n")
        return part

    def gap(self) -> None:
        self._write("\n")

    def _write(self, words: str) -> None:
        self.chunks.append(words)
        self.length += len(words)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass
class _Line:
    """A coded resource's line in the record and the facts it states (their spans come when it is written)."""

    resource: Any
    words: str
    findings: list[Finding] = field(default_factory=list)
    doses: list[_Dose] = field(default_factory=list)
    span: Span | None = None


@dataclass
class _Dose:
    """One prescription, statement, session or injection of a kind of conservative care."""

    concept: str
    start: date | None
    end: date | None
    ongoing: bool
    region: str | None = None
    session: bool = False  # a procedure (counted), not a prescription
    taken: bool = True  # False: a statement that it was not taken
    line: _Line | None = None


@dataclass
class _Reading:
    """What the coded resources say, gathered before the record is written."""

    kb: Knowledge
    as_of: date
    lines: list[_Line] = field(default_factory=list)
    ignored: list[IgnoredResource] = field(default_factory=list)
    medications: dict[str, Any] = field(default_factory=dict)  # "Medication/id" -> Medication
    used: set[int] = field(default_factory=set)  # Medications (by id()) a request or statement named
    ignored_ids: set[int] = field(default_factory=set)

    def ignore(self, resource, reason: str) -> None:
        self.ignored_ids.add(id(resource))
        self.ignored.append(IgnoredResource(resource_type=resource.get_resource_type(), id=resource.id, reason=reason))

    def line(self, resource, words: str) -> _Line:
        line = _Line(resource, f"{_reference(resource)}: {words}")
        self.lines.append(line)
        return line


def validate_bundle(data: Any, *, source: str = "bundle"):
    """A FHIR R4 Bundle as R4B models, or one InputError naming the first problem and where it is."""
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise InputError(f"{source}: expected a FHIR Bundle (resourceType 'Bundle')")
    # an entry of a resourceType R4 does not define is the client's error, not ours: 400, never a 500
    # (the models raise KeyError for it); CDS Hooks 2.0: "CDS Services MAY return other HTTP statuses,
    # specifically 4xx and 5xx HTTP error codes"
    entries = data.get("entry")
    if isinstance(entries, list) and len(entries) > MAX_ENTRIES:
        raise InputError(f"{source}: the Bundle has {len(entries):,} entries; the limit is {MAX_ENTRIES:,}")
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
    resources = list(resources)
    if len(resources) > MAX_ENTRIES:
        raise InputError(f"record: {len(resources):,} resources; the limit is {MAX_ENTRIES:,}")
    by_type: dict[str, list] = {}
    for r in resources:
        by_type.setdefault(r.get_resource_type(), []).append(r)
    orders = [r for kind in ORDER_TYPES for r in by_type.get(kind, [])]
    as_of = as_of or _request_date(orders) or date.today()
    reading = _Reading(kb, as_of, medications={_reference(m): m for m in by_type.get("Medication", [])})

    record = _Record()
    for doc in by_type.get("DocumentReference", []):
        _add_document(record, doc, reading)
    for report in by_type.get("DiagnosticReport", []):
        _add_report(record, report, reading)
    _section(record, "Problem list", by_type.get("Condition", []), lambda c: _condition(c, reading))
    _section(record, "Procedure history", by_type.get("Procedure", []), lambda p: _procedure(p, reading))
    _section(record, "Observations", by_type.get("Observation", []), lambda o: _observation(o, reading))
    for kind in MEDICATION_TYPES:
        for m in by_type.get(kind, []):
            _medication(m, reading)
    _section(record, "Requested", orders, _order_words)
    words = record.text
    if len(words) > MAX_RECORD_CHARS:
        raise InputError(
            f"record: its notes and worded resources have {len(words):,} characters; the limit is {MAX_RECORD_CHARS:,}"
        )
    if not words.strip() and not reading.lines:
        raise EmptyRecord("bundle: no clinical content (no notes, conditions, procedures, observations or orders)")

    case = engine.extract(words, as_of=as_of) if words.strip() else Case()
    coded = _write_coded(record, reading)
    findings = [*case.findings, *coded]
    used = _used_parts(record.parts, record.owners, case, orders)
    patient = next(iter(by_type.get("Patient", [])), None)
    age, sex = _age_and_sex(patient, as_of)
    return case.model_copy(
        update={
            "text": record.text,
            "age": age if age is not None else case.age,
            "sex": sex or case.sex,
            "findings": findings,
            "levels": sorted({*case.levels, *(s for f in coded for s in f.levels)}, key=_segment_order),
            "conservative_care_weeks": conservative_care_weeks(findings, kb),
            "symptom_weeks": symptom_weeks(findings, kb),
            "services": requested_services(orders, case, kb) if orders else case.services,
            "setting": setting or case.setting,
            "parts": record.parts,
            "ignored": _ignored(resources, reading, record.owners, used),
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


# --- the words ------------------------------------------------------------------------------------


def _section(record: _Record, title: str, resources: list, words) -> None:
    """One heading and a line per resource whose words are read (the reader of each resource sets aside
    the coded ones for their own lines)."""
    lines = [(r, w) for r in resources if (w := words(r))]
    if not lines:
        return
    record.heading(title)
    for r, w in lines:
        record.add(_reference(r), r.get_resource_type(), w, owner=r)
    record.gap()


def _add_document(record: _Record, doc, reading: _Reading) -> None:
    if doc.status == "entered-in-error":
        reading.ignore(doc, "entered in error")
        return
    title = (doc.description or _display(doc.type) or "Clinical note").strip()
    _add_attachments(record, doc, title, _date(doc.date), [c.attachment for c in doc.content or []])


def _add_attachments(
    record: _Record, resource, title: str, when: date | None, attachments: list, lead: str = ""
) -> bool:
    """The text attachments of a note or report as one stretch of the record (``lead``, a report's
    conclusion, first); others are named, not read. Whether any words were written."""
    reference, kind = _reference(resource), resource.get_resource_type()
    bodies = [lead.strip()] if lead and lead.strip() else []
    for att in attachments:
        media = (att.contentType or "text/plain").split(";")[0].strip().lower()
        if att.data is None or not media.startswith("text/"):
            why = "linked, not included" if att.data is None else f"{media}, not read"
            record.add(reference, kind, f"Attachment {title!r} ({why}).", title, owner=resource)
            continue
        body = att.data.decode("utf-8-sig", errors="replace")
        if media == "text/html":
            body = html.unescape(_TAGS.sub(" ", body))
        if body.strip():
            bodies.append(body.strip())
    if bodies:
        record.heading(f"{title} ({when})" if when else title)
        record.add(reference, kind, "\n\n".join(bodies), title, owner=resource)
        record.gap()
    return bool(bodies)


def _add_report(record: _Record, report, reading: _Reading) -> None:
    """A DiagnosticReport: its conclusion and presented form are a report read like a note (where real
    systems put the MRI); its code and conclusion codes are read through the value sets."""
    if report.status in {"cancelled", "entered-in-error"}:
        reading.ignore(report, f"status {report.status}")
        return
    kb = reading.kb
    mapped = _mapped(report.code, kb)
    title = _display(report.code) or (mapped[0][1].display if mapped else "") or "Diagnostic report"
    period = report.effectivePeriod
    when = _date(report.effectiveDateTime) or (_date(period.start) if period else None) or _date(report.issued)
    wrote = _add_attachments(record, report, title, when, list(report.presentedForm or []), report.conclusion or "")
    concluded = [m for cc in report.conclusionCode or [] for m in _mapped(cc, kb)]
    if not (wrote or concluded):
        if not report.presentedForm:
            reading.ignore(report, "no conclusion, report text or coded conclusion")
        return
    if not (mapped or concluded):
        return  # the words alone are read
    words = _coded_words(mapped, kb) if mapped else title
    words += _details(report.status, when and str(when))
    if concluded:
        words += "; conclusion: " + _coded_words(concluded, kb)
    line = reading.line(report, words)
    for _, entry in [*mapped, *concluded]:
        for concept in entry.concepts:
            line.findings.append(_fact(concept, entry, kb))


def _condition(c, reading: _Reading) -> str:
    """A Condition: its codes through the value sets (words only for a code they do not list), with its
    clinical status (resolved: the past) and verification status (refuted: absent; provisional: possible)."""
    verification = _code(c.verificationStatus)
    if verification == "entered-in-error":
        reading.ignore(c, "entered in error")
        return ""
    kb = reading.kb
    mapped = _mapped(c.code, kb)
    if not mapped:
        words = _condition_words(c)
        if not words:
            reading.ignore(c, _unlisted(c.code))
        return words
    clinical = _code(c.clinicalStatus)
    onset = _date(c.onsetDateTime) or (_date(c.onsetPeriod.start) if c.onsetPeriod else None)
    own = " ".join(filter(None, [_display(c.code), *(_display(b) for b in c.bodySite or [])]))
    line = reading.line(
        c,
        _coded_words(mapped, kb)
        + _details(clinical, verification if verification != "confirmed" else None, onset and f"onset {onset}"),
    )
    for concept, entry in _concepts(mapped):
        f = _fact(concept, entry, kb, own)
        if verification == "refuted":
            f.status = "absent"
        elif verification in _DOUBTFUL and f.status == "present":
            f.status = "possible"
        if clinical in _RESOLVED:
            f.historical = True
            past = kb.concepts[concept].past
            if f.status == "present" and past:
                f.concept, f.historical = past, False  # resolved nicotine dependence: former smoking
        elif onset and kb.concepts[concept].read.time == "lasting" and onset <= reading.as_of:
            f.weeks = round((reading.as_of - onset).days / 7, 1) or None
        line.findings.append(f)
    return ""


def _condition_words(c) -> str:
    name = _display(c.code)
    verification = _code(c.verificationStatus)
    if not name or verification == "entered-in-error":
        return ""
    if verification == "refuted":
        return f"No {name}."
    if verification in _DOUBTFUL:
        return f"Possible {name}."
    if _code(c.clinicalStatus) in _RESOLVED:
        return f"History of {name}."
    return f"{name}."


def _procedure(p, reading: _Reading) -> str:
    """A Procedure: a therapy session or injection the value sets list is a dose of conservative care
    (sessions become one course); a spine operation by its CPT code is an earlier operation; other
    procedures are read by their words."""
    kb = reading.kb
    mapped = _mapped(p.code, kb)
    surgery = [
        c.code
        for c in (p.code.coding if p.code else None) or []
        if c.system in CPT and c.code in kb.codes and kb.codes[c.code].family != "injection"
    ]
    if not mapped and not surgery:
        words = _procedure_words(p, reading)
        if not words:
            reading.ignore(p, f"status {p.status}: not done" if p.status not in _DONE else _unlisted(p.code))
        return words
    if p.status not in _DONE | {"in-progress"}:
        reading.ignore(p, f"status {p.status}: not done")
        return ""
    start, end = _performed(p)
    dates = f"{start} to {end}" if start and end and end != start else (str(start) if start else None)
    if mapped:
        line = reading.line(p, _coded_words(mapped, kb) + _details(p.status, dates))
        for concept, entry in _concepts(mapped):
            line.doses.append(_Dose(concept, start, end, p.status == "in-progress", entry.region, session=True))
        return ""
    known = kb.codes[surgery[0]]
    if known.region == "other":
        reading.ignore(p, f"CPT {surgery[0]}: a {kb.regions[known.region].label} procedure")
        return ""
    if p.status == "in-progress":
        reading.ignore(p, "an operation in progress is not an earlier operation")
        return ""
    own = " ".join(filter(None, [_display(p.code), *(_display(b) for b in p.bodySite or [])]))
    name = _display(p.code) or known.description
    line = reading.line(p, f"CPT {surgery[0]} {name}" + _details(p.status, dates))
    when = end or start
    line.findings.append(
        Finding(
            concept=kb.procedures.prior,
            historical=True,
            value=f"{name} ({known.family.replace('_', ' ')})",
            number=round((reading.as_of - when).days / (365.25 / 12), 1) if when and when <= reading.as_of else None,
            levels=_segments(own),
            side=_side(own),
        )
    )
    return ""


def _procedure_words(p, reading: _Reading) -> str:
    """A procedure the value sets do not list, by its own words: a course with its weeks, or a session."""
    name = _display(p.code)
    if not name or p.status not in _DONE | {"in-progress"}:
        return ""
    start, end = _performed(p)
    if p.status == "in-progress" and start and start <= reading.as_of:
        end = reading.as_of  # an ongoing course counts to the request date
    weeks = round((end - start).days / 7) if start and end else 0
    if weeks > 0:
        done = "Ongoing" if p.status == "in-progress" else "Completed"
        return f"{done} {name} for {weeks} weeks ({start} to {end})."
    return f"{name} on {start}." if start else f"{name}."


def _observation(o, reading: _Reading) -> str:
    """An Observation: a listed code with a measured number (BMI, HbA1c) or a coded value (smoking status)
    read through the value sets; an unlisted one by its own name and value."""
    if o.status in {"entered-in-error", "cancelled", "preliminary"}:
        reading.ignore(o, f"status {o.status}")
        return ""
    kb = reading.kb
    mapped = _mapped(o.code, kb)
    facts: list[Finding] = []
    said: list[str] = []
    for _, entry in mapped:
        if entry.value == "number":
            q = o.valueQuantity
            if q is None or q.value is None:
                continue
            number = float(q.value)
            facts += [_fact(c, entry, kb, number=number) for c in entry.concepts]
            said.append(f"{number:g}{' ' + q.unit if q.unit else ''}")
        elif entry.value == "coded":
            values = _mapped(o.valueCodeableConcept, kb)
            facts += [_fact(c, e, kb) for c, e in _concepts(values)]
            if values:
                said.append(_coded_words(values, kb))
        else:
            facts += [_fact(c, entry, kb) for c in entry.concepts]
    if facts:
        line = reading.line(o, _coded_words(mapped, kb) + (": " + "; ".join(dict.fromkeys(said)) if said else ""))
        line.findings += _unique(facts)
        return ""
    words = _observation_words(o, mapped)
    if not words:
        reading.ignore(o, "no value read" if mapped else _unlisted(o.code))
    return words


def _observation_words(o, mapped: list) -> str:
    value = _value(o)
    if value is None:
        return ""
    name = _display(o.code) or (mapped[0][1].display if mapped else "")
    return f"{name}: {value}." if name else ""


def _medication(m, reading: _Reading) -> None:
    """A MedicationRequest or MedicationStatement: conservative care with its dates (prescriptions of one
    kind become one course from the first to the last date; an active one counts to the request date)."""
    kind = m.get_resource_type()
    if m.status in {"entered-in-error", "cancelled", "draft", "intended"}:
        reading.ignore(m, f"status {m.status}")
        return
    if kind == "MedicationRequest" and m.intent in {"proposal", "plan"}:
        reading.ignore(m, f"intent {m.intent}: proposed, not prescribed")
        return
    kb = reading.kb
    concept = _medication_concept(m, reading)
    mapped = _mapped(concept, kb)
    if mapped:
        meant = [(c, e.region) for c, e in _concepts(mapped)]
        words = _coded_words(mapped, kb)
    else:
        name = " ".join(
            filter(None, [_display(concept), *(c.display or "" for c in (concept.coding if concept else None) or [])])
        )
        meant = [(c, None) for c in _named(name, kb)]
        words = _display(concept)
    if not meant:
        reading.ignore(m, _unlisted(concept) if concept is not None else "no medication named")
        return
    start, end = _taken(m)
    ongoing = m.status == "active" and end is None
    dates = (
        f"{start} to {end}" if start and end and end != start else (start and f"{'from ' if ongoing else ''}{start}")
    )
    line = reading.line(m, words + _details(m.status, dates))
    for c, region in meant:
        line.doses.append(_Dose(c, start, end, ongoing, region, taken=m.status != "not-taken"))


def _medication_concept(m, reading: _Reading):
    """The medication a request or statement names: its code, or the Medication it refers to."""
    if m.medicationCodeableConcept is not None:
        return m.medicationCodeableConcept
    ref = m.medicationReference.reference if m.medicationReference is not None else None
    if not ref:
        return None
    found = None
    if ref.startswith("#"):
        found = next((r for r in m.contained or [] if r.id == ref[1:]), None)
    else:
        # "Medication/x", an absolute URL ending in it, or a bundle's "urn:uuid:x" (Synthea)
        found = reading.medications.get(f"Medication/{re.split(r'[/:]', ref)[-1]}")
        if found is not None:
            reading.used.add(id(found))
    return found.code if found is not None else None


def _named(name: str, kb: Knowledge) -> list[str]:
    """The conservative-care concepts whose ingredient names a medication's own name carries."""
    low = name.lower()
    return [
        concept
        for concept, names in kb.value_sets.medication_names.items()
        if any(re.search(rf"\b{re.escape(n)}\b", low) for n in names)
    ]


def _taken(m) -> tuple[date | None, date | None]:
    """When a medication was started and, where the record says, stopped."""
    if m.get_resource_type() == "MedicationStatement":
        period = m.effectivePeriod
        if period is not None:
            return _date(period.start), _date(period.end)
        when = _date(m.effectiveDateTime)
        return (when, when) if when else (_date(m.dateAsserted), None)
    bounds = next(
        (
            d.timing.repeat.boundsPeriod
            for d in m.dosageInstruction or []
            if d.timing and d.timing.repeat and d.timing.repeat.boundsPeriod
        ),
        None,
    )
    validity = m.dispenseRequest.validityPeriod if m.dispenseRequest is not None else None
    start = (
        _date(m.authoredOn) or _date(bounds.start if bounds else None) or _date(validity.start if validity else None)
    )
    end = _date(bounds.end if bounds else None) or _date(validity.end if validity else None)
    return start, end


def _order_words(order) -> str:
    name = order_name(order)
    where = "; ".join(filter(None, (_display(s) for s in getattr(order, "bodySite", None) or [])))
    return f"{name} ({where})." if name and where else (f"{name}." if name else "")


# --- the coded lines, courses of care and what was left unused ------------------------------------


def _write_coded(record: _Record, reading: _Reading) -> list[Finding]:
    """The coded resources' lines after the words (the extractor never reads them), each fact quoting its
    resource's line, and the courses of care the doses make."""
    if not reading.lines:
        return []
    record.heading("Coded record")
    out: list[Finding] = []
    for line in reading.lines:
        part = record.add(_reference(line.resource), line.resource.get_resource_type(), line.words, owner=line.resource)
        span = Span(text=line.words, start=part.start, end=part.end)
        for f in line.findings:
            f.evidence = [span]
        for d in line.doses:
            d.line = line
        line.span = span
        out += line.findings
    return out + _courses(reading)


def _courses(reading: _Reading) -> list[Finding]:
    """Doses of one kind of care as courses: dated ones from the first to the last date, a new course
    after a gap longer than the value sets' ``course_gap_weeks``; an ongoing one to the request date."""
    gap = reading.kb.value_sets.course_gap_weeks * 7
    doses = [d for line in reading.lines for d in line.doses]
    out: list[Finding] = []
    for concept in dict.fromkeys(d.concept for d in doses):
        mine = [d for d in doses if d.concept == concept]
        out += [_course([d], reading) for d in mine if not d.taken]
        taken = [d for d in mine if d.taken]
        dated = sorted((d for d in taken if d.start), key=lambda d: d.start)
        courses: list[list[_Dose]] = []
        for d in dated:
            last = max((x.end or x.start for x in courses[-1]), default=None) if courses else None
            if last is None or (d.start - last).days > gap:
                courses.append([d])
            else:
                courses[-1].append(d)
        if undated := [d for d in taken if not d.start]:
            courses.append(undated)
        out += [_course(c, reading) for c in courses]
    return out


def _course(doses: list[_Dose], reading: _Reading) -> Finding:
    first = min((d for d in doses if d.start), key=lambda d: d.start, default=doses[0])
    last = max((d for d in doses if d.start), key=lambda d: d.end or d.start, default=doses[-1])
    weeks = None
    if first.start and doses[0].taken:
        end = max(d.end or d.start for d in doses if d.start)
        if any(d.ongoing for d in doses) and reading.as_of > end:
            end = reading.as_of
        weeks = round((end - first.start).days / 7, 1) or None  # one session is a course of unknown length
    regions = {d.region for d in doses}
    spans = list({id(d.line): d.line.span for d in (first, last)}.values())
    return Finding(
        concept=doses[0].concept,
        status="present" if doses[0].taken else "absent",
        weeks=weeks,
        count=len(doses) if all(d.session for d in doses) else None,
        region=regions.pop() if len(regions) == 1 else None,
        evidence=spans,
    )


def _used_parts(parts: list[RecordPart], owners: list, case: Case, orders: list) -> set[int]:
    """The resources (by ``id()``) whose words gave a fact, a requested service or the setting."""
    spans = [e for f in case.findings for e in f.evidence] + [e for s in case.services for e in s.evidence]
    spans += case.setting.evidence if case.setting else []
    used = {id(o) for o in orders if billing_codes(o)}
    # a part is used when some span starts before the part ends and ends after it starts: among the spans
    # starting before the part's end (a prefix of them by start), the furthest end decides. Sorted once,
    # so a record of thousands of resources costs n log n, not parts x spans (security issue 17)
    spans.sort(key=lambda s: s.start)
    starts = [s.start for s in spans]
    furthest = list(itertools.accumulate((s.end for s in spans), max))
    for part, owner in zip(parts, owners, strict=True):
        n = bisect.bisect_left(starts, part.end)  # spans[:n] start before the part ends
        if n and furthest[n - 1] > part.start:
            used.add(id(owner))
    return used


def _ignored(resources: list, reading: _Reading, owners: list, used: set[int]) -> list[IgnoredResource]:
    """Every resource read that gave nothing used, with why (DESIGN.md: never dropped silently)."""
    out = list(reading.ignored)
    done = {id(line.resource) for line in reading.lines} | used | reading.used | reading.ignored_ids
    written = {id(o) for o in owners}
    for r in resources:
        kind = r.get_resource_type()
        if kind in ADMINISTRATIVE or id(r) in done:
            continue
        if kind == "Medication":
            why = "no medication request or statement names it"
        elif kind not in READ:
            why = f"{kind} resources are not read"
        elif id(r) in written:
            why = "read; nothing in it bears on the criteria"
        else:
            why = "nothing to read"
        out.append(IgnoredResource(resource_type=kind, id=r.id, reason=why))
    return out


# --- small readers --------------------------------------------------------------------------------


def _mapped(concept, kb: Knowledge) -> list[tuple[Any, ValueSetCode]]:
    """The codings of a CodeableConcept the value sets list, each with what it means."""
    out: dict[tuple[str, str], tuple[Any, ValueSetCode]] = {}
    for coding in (concept.coding if concept is not None else None) or []:
        entry = kb.coded(coding.system, coding.code)
        if entry is not None:
            out.setdefault((entry.system, entry.code), (coding, entry))
    return list(out.values())


def _concepts(mapped: list[tuple[Any, ValueSetCode]]) -> list[tuple[str, ValueSetCode]]:
    """Each concept the mapped codings mean, once (the first coding that means it says how)."""
    out: dict[str, ValueSetCode] = {}
    for _, entry in mapped:
        for concept in entry.concepts:
            out.setdefault(concept, entry)
    return list(out.items())


def _coded_words(mapped: list[tuple[Any, ValueSetCode]], kb: Knowledge) -> str:
    labels = {s.id: s.label for s in kb.value_sets.systems}

    def name(coding, entry: ValueSetCode) -> str:
        if coding.display:
            return coding.display.strip()
        listed = kb.coded(coding.system, entry.code) is entry and entry.code.replace(".", "") == coding.code.replace(
            ".", ""
        )
        return entry.display if listed else f"(in {entry.code} {entry.display})"

    return " / ".join(f"{labels[entry.system]} {coding.code} {name(coding, entry)}" for coding, entry in mapped)


def _details(*bits: str | None) -> str:
    return "".join(f"; {b}" for b in bits if b)


def _fact(concept: str, entry: ValueSetCode, kb: Knowledge, words: str = "", number: float | None = None) -> Finding:
    """A finding a code states; levels where the concept's group carries them (the code's own, else those
    its resource's words name)."""
    levels = (entry.levels or _segments(words)) if kb.groups[kb.concepts[concept].group].levels else []
    return Finding(
        concept=concept,
        status=entry.status,
        value=f"{number:g}" if number is not None else None,
        number=number,
        levels=levels,
        side=entry.side or (_side(words) if words else None),
        region=entry.region,
    )


def _unique(facts: list[Finding]) -> list[Finding]:
    return list({(f.concept, f.status, f.number): f for f in facts}.values())


def _unlisted(concept) -> str:
    codes = [f"{c.system}|{c.code}" for c in (concept.coding if concept is not None else None) or [] if c.code]
    return f"code not in the value sets: {', '.join(codes)}" if codes else "no code and no words"


def _segments(words: str) -> list[str]:
    return sorted({s for m in lv.levels(words) for s in m.segments}, key=_segment_order) if words else []


_SIDE = re.compile(r"\b(left|right|bilateral)\b", re.IGNORECASE)


def _side(words: str):
    sides = {m.lower() for m in _SIDE.findall(words)}
    return sides.pop() if len(sides) == 1 else ("bilateral" if sides else None)


def _performed(p) -> tuple[date | None, date | None]:
    period = p.performedPeriod
    if period is not None:
        return _date(period.start), _date(period.end)
    when = _date(p.performedDateTime)
    return when, when


def _reference(resource) -> str:
    return f"{resource.get_resource_type()}/{resource.id or '?'}"


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
