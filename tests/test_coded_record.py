"""Coded FHIR records (issue 18.14): codes are read through the value sets in the knowledge, never as
English read back; each coded fact quotes its resource; medications and therapy sessions are care with
their dates; a report's conclusion is read as a report; and what was read but not used is listed."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest

from conftest import edit_yaml
from indicated.errors import KnowledgeError
from indicated.fhir.pas import read_request
from indicated.fhir.record import case_from_bundle
from indicated.fhir.samples import pas_request
from indicated.kb.loader import load
from indicated.pipeline import assess

DATA = Path(__file__).parent / "data" / "coded-record"
AS_OF = date(2026, 3, 9)  # the order's date in the bundle
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CPT = "http://www.ama-assn.org/go/cpt"
PATIENT = {"reference": "Patient/p"}


def synthea_bundle() -> dict:
    return json.loads((DATA / "discectomy-bundle.json").read_text())


def bundle(*resources: dict, order: str | None = "63030") -> dict:
    entries = list(resources)
    if order:
        entries.append(
            {
                "resourceType": "ServiceRequest",
                "id": "o1",
                "status": "draft",
                "intent": "order",
                "subject": PATIENT,
                "authoredOn": AS_OF.isoformat(),
                "code": {"coding": [{"system": CPT, "code": order}]},
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


def condition(id: str, system: str, code: str, clinical: str | None = "active", verification: str | None = None):
    c = {
        "resourceType": "Condition",
        "id": id,
        "subject": PATIENT,
        "code": {"coding": [{"system": system, "code": code}]},
    }
    if clinical:
        c["clinicalStatus"] = {"coding": [{"code": clinical}]}
    if verification:
        c["verificationStatus"] = {"coding": [{"code": verification}]}
    return c


def session(
    id: str, on: str, status: str = "completed", *, system: str = CPT, code: str = "97110", end: str | None = None
):
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": status,
        "subject": PATIENT,
        "code": {"coding": [{"system": system, "code": code}]},
        "performedPeriod": {"start": on, **({"end": end} if end else {})},
    }


def findings(case, concept: str) -> list:
    return [f for f in case.findings if f.concept == concept]


def statuses(assessment) -> list:
    services = [(s.code, s.determination, [(c.id, c.status) for c in s.criteria]) for s in assessment.services]
    setting = assessment.setting
    return [services, setting and (setting.determination, [(c.id, c.status) for c in setting.criteria])]


def test_a_coded_record_decides_as_the_same_facts_written_as_a_note():
    """Done-when of issue 18: a Synthea-shaped record (code-only Conditions, MedicationRequests, a
    DiagnosticReport MRI, therapy sessions) and a note stating the same facts get the same article."""
    coded = assess(case_from_bundle(synthea_bundle()))
    note = assess((DATA / "discectomy-note.txt").read_text(), as_of=AS_OF)
    assert coded.determination == note.determination == "medically_necessary"
    assert statuses(coded) == statuses(note)
    assert coded.case.conservative_care_weeks == note.case.conservative_care_weeks == 8
    assert (coded.case.age, coded.case.sex) == (note.case.age, note.case.sex) == (44, "male")


def test_each_coded_fact_quotes_the_resource_it_came_from():
    case = case_from_bundle(synthea_bundle())
    seen = set()
    for f in case.findings:
        for span in f.evidence:
            assert case.text[span.start : span.end] == span.text
            part = case.part_of(span)
            assert part is not None
            if span.text.startswith(f"{part.reference}: "):  # a coded line names its resource first
                seen.add(part.reference)
    assert {
        "Condition/cond-disc",
        "Observation/obs-bmi",
        "MedicationRequest/med-gaba",
        "DiagnosticReport/mri-1",
    } <= seen
    disc = next(f for f in findings(case, "radicular_pain") if f.evidence[0].text.startswith("Condition/"))
    assert disc.evidence[0].text.startswith("Condition/cond-disc: ICD-10-CM M51.17 ")
    assert disc.weeks == 12  # onset 2025-12-15 to the order of 2026-03-09
    # the MRI is read from the report's conclusion, as a report is read
    herniation = next(f for f in findings(case, "disc_herniation") if f.levels)
    assert (herniation.value, herniation.levels, herniation.side) == ("extrusion", ["L5-S1"], "right")
    assert case.part_of(herniation.evidence[0]).reference == "DiagnosticReport/mri-1"


def test_the_coded_lines_are_never_read_back_as_words():
    """The display of a code in its line is not re-read: M51.17 gives its concepts once, from the code."""
    case = case_from_bundle(bundle(condition("c1", ICD, "M51.17")))
    assert [f.concept for f in case.findings] == ["disc_herniation", "radicular_pain"]
    assert all(f.evidence[0].text.startswith("Condition/c1: ") for f in case.findings)


def test_therapy_sessions_are_one_course_from_the_first_to_the_last_date():
    case = case_from_bundle(synthea_bundle())
    (pt,) = findings(case, "physical_therapy")
    assert (pt.weeks, pt.count) == (8, 10)
    assert [e.text.split(":")[0] for e in pt.evidence] == ["Procedure/pt-1", "Procedure/pt-10"]
    (gabapentin,) = findings(case, "neuropathic_agents")
    assert gabapentin.weeks == 8  # an active prescription counts to the request date
    (naproxen,) = findings(case, "nsaids")
    assert naproxen.weeks == 6  # read by the ingredient its own name carries; its validity period


def test_an_in_progress_course_counts_to_the_request_date_and_one_session_is_not_zero_weeks():
    ongoing = case_from_bundle(bundle(session("s1", "2026-01-26", "in-progress", system=SCT, code="91251008")))
    assert findings(ongoing, "physical_therapy")[0].weeks == 6
    assert ongoing.conservative_care_weeks == 6
    one = case_from_bundle(bundle(session("s1", "2026-02-02")))
    (pt,) = findings(one, "physical_therapy")
    assert (pt.weeks, pt.count) == (None, 1)
    assert one.conservative_care_weeks is None
    # a SNOMED CT therapy procedure with its own period keeps it (it was lost before)
    period = case_from_bundle(bundle(session("s1", "2026-01-05", system=SCT, code="91251008", end="2026-02-16")))
    assert findings(period, "physical_therapy")[0].weeks == 6
    # a procedure read by its words only: a single session is no "0 weeks", an ongoing one counts to date
    words = {"text": "Physical therapy"}
    single = session("w1", "2026-02-02", end="2026-02-02") | {"code": words}
    running = session("w2", "2026-01-26", "in-progress") | {"code": words}
    case = case_from_bundle(bundle(single, running))
    assert "0 weeks" not in case.text
    assert case.conservative_care_weeks == 6


def test_sessions_far_apart_are_separate_courses():
    case = case_from_bundle(bundle(session("a", "2019-05-01"), session("b", "2019-06-12"), session("c", "2026-02-23")))
    courses = {(f.weeks, f.count) for f in findings(case, "physical_therapy")}
    assert courses == {(None, 1), (6, 2)}


def test_condition_statuses_from_codes_alone():
    case = case_from_bundle(
        bundle(
            condition("stenosis", ICD, "M48.062"),
            condition("smoking", ICD, "F17.210", clinical="resolved"),
            condition("ces", ICD, "G83.4", verification="refuted"),
            condition("slip", ICD, "M43.16", verification="provisional"),
            condition("dm", ICD, "E11.9", clinical=None),
            condition("error", ICD, "M54.16", verification="entered-in-error"),
        )
    )
    assert {
        f.concept: f.status for f in findings(case, "spinal_stenosis") + findings(case, "neurogenic_claudication")
    } == {
        "spinal_stenosis": "present",
        "neurogenic_claudication": "present",
    }
    # a resolved nicotine dependence is former smoking, as the vocabulary's past form says
    assert [f.status for f in findings(case, "former_smoker")] == ["present"]
    assert not findings(case, "current_smoker")
    assert findings(case, "cauda_equina_syndrome")[0].status == "absent"
    assert findings(case, "spondylolisthesis")[0].status == "possible"
    assert findings(case, "diabetes")[0].status == "present"  # E11.9 falls under the listed E11
    assert not findings(case, "radicular_pain")
    assert ("Condition", "error", "entered in error") in {(i.resource_type, i.id, i.reason) for i in case.ignored}


def test_nicotine_dependence_in_remission_is_former_smoking():
    case = case_from_bundle(bundle(condition("c", ICD, "F17.211")))
    assert [f.concept for f in case.findings] == ["former_smoker"]


def test_unknown_codes_and_unread_resources_are_listed_as_ignored():
    case = case_from_bundle(synthea_bundle())
    ignored = {(i.resource_type, i.id): i.reason for i in case.ignored}
    assert ignored == {
        ("Condition", "cond-htn"): "code not in the value sets: http://hl7.org/fhir/sid/icd-10-cm|I10",
        ("Encounter", "enc-1"): "Encounter resources are not read",
    }
    out = json.loads(assess(case).model_dump_json())
    assert {"resource_type": "Condition", "id": "cond-htn"}.items() <= out["case"]["ignored"][0].items()
    # a case without the field (stored before it existed) still loads
    stored = out["case"]
    del stored["ignored"]
    assert type(case).model_validate(stored).ignored == []


def test_medication_statements_references_and_plans():
    medication = {
        "resourceType": "Medication",
        "id": "pregabalin",
        "code": {"coding": [{"system": RXNORM, "code": "187832"}]},
    }
    spare = {"resourceType": "Medication", "id": "spare", "code": {"text": "ibuprofen 200 MG Oral Tablet"}}
    by_reference = {
        "resourceType": "MedicationRequest",
        "id": "r1",
        "status": "completed",
        "intent": "order",
        "subject": PATIENT,
        "medicationReference": {"reference": "Medication/pregabalin"},
        "authoredOn": "2026-01-05",
        "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2026-01-05", "end": "2026-02-16"}}}}],
    }
    statement = {
        "resourceType": "MedicationStatement",
        "id": "s1",
        "status": "completed",
        "subject": PATIENT,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "10689"}]},
        "effectivePeriod": {"start": "2025-12-01", "end": "2026-01-26"},
    }
    refused = statement | {"id": "s2", "status": "not-taken", "medicationCodeableConcept": {"text": "Oxycodone"}}
    planned = by_reference | {"id": "r2", "intent": "plan", "medicationReference": None}
    planned["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "7258"}]}
    case = case_from_bundle(bundle(medication, spare, by_reference, statement, refused, planned))
    assert [(f.weeks, f.status) for f in findings(case, "neuropathic_agents")] == [(6, "present")]
    assert {(f.weeks, f.status) for f in findings(case, "opioids")} == {(None, "absent"), (8, "present")}
    assert not findings(case, "nsaids")
    ignored = {(i.resource_type, i.id) for i in case.ignored}
    assert ignored == {("Medication", "spare"), ("MedicationRequest", "r2")}


def test_observations_read_their_number_or_their_coded_value():
    def observation(id: str, code: str, **value) -> dict:
        return {
            "resourceType": "Observation",
            "id": id,
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            **value,
        }

    def smoking(id: str, snomed: str) -> dict:
        return observation(id, "72166-2", valueCodeableConcept={"coding": [{"system": SCT, "code": snomed}]})

    case = case_from_bundle(
        bundle(
            observation("bmi", "39156-5", valueQuantity={"value": 41.5, "unit": "kg/m2"}),
            observation("a1c", "4548-4", valueQuantity={"value": 8.6, "unit": "%"}),
            observation("empty", "39156-5"),
            smoking("daily", "449868002"),
        )
    )
    assert findings(case, "bmi")[0].number == 41.5
    assert findings(case, "diabetes")[0].number == 8.6
    assert findings(case, "current_smoker")[0].status == "present"
    assert ("Observation", "empty", "no value read") in {(i.resource_type, i.id, i.reason) for i in case.ignored}
    never = case_from_bundle(bundle(smoking("never", "266919005")))
    assert {(f.concept, f.status) for f in never.findings} == {
        ("current_smoker", "absent"),
        ("former_smoker", "absent"),
    }


def test_a_report_presented_form_and_conclusion_codes_are_read():
    text = "MRI LUMBAR SPINE. IMPRESSION: Severe central canal stenosis at L4-L5."
    report = {
        "resourceType": "DiagnosticReport",
        "id": "r1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "24968-0"}]},
        "effectiveDateTime": "2026-02-01",
        "presentedForm": [{"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}],
        "conclusionCode": [{"coding": [{"system": SCT, "code": "76107001"}]}],
    }
    case = case_from_bundle(bundle(report, order="63047"))
    stenosis = findings(case, "spinal_stenosis")
    assert {case.part_of(f.evidence[0]).reference for f in stenosis} == {"DiagnosticReport/r1"}
    assert any(f.levels == ["L4-L5"] and f.value for f in stenosis)  # from the report's words
    assert any(f.evidence[0].text.startswith("DiagnosticReport/r1: LOINC 24968-0 ") for f in stenosis)
    assert findings(case, "imaging_study")
    # a report with nothing in it asks for nothing and is listed
    empty = {"resourceType": "DiagnosticReport", "id": "r2", "status": "final", "code": report["code"]}
    case = case_from_bundle(bundle(empty, condition("c1", ICD, "M48.061")))
    assert ("DiagnosticReport", "r2") in {(i.resource_type, i.id) for i in case.ignored}


def test_a_coded_record_sent_as_a_pas_request_is_read_the_same_way():
    """PAS builds its case through the record reader, so a coded record counts there too."""
    body = pas_request(synthea_bundle(), claim_id="coded-1")
    request = read_request(body)
    assert findings(request.case, "physical_therapy")[0].weeks == 8
    assert assess(request.case).determination == "medically_necessary"


def test_claim_diagnosis_codes_alone_give_their_concepts():
    body = pas_request(synthea_bundle(), claim_id="coded-2")
    claim = body["entry"][0]["resource"]
    claim["diagnosis"] = [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [{"system": ICD, "code": "M54.16"}]}}]
    body["entry"] = [e for e in body["entry"] if e["resource"]["resourceType"] != "Condition"]
    case = read_request(body).case
    assert [f.evidence[0].text.split(":")[0] for f in findings(case, "radicular_pain")] == ["Condition/coded-2-dx-1"]


def test_value_sets_are_checked_when_the_knowledge_loads(copy):
    kb = load(copy)
    assert kb.coded(ICD, "M5116") is kb.coded(ICD, "m51.16")  # ICD-10-CM compares without dots or case
    assert kb.coded(ICD, "E11.65").code == "E11"  # a listed category stands for the codes under it
    assert kb.coded(ICD, "F17.211").concepts == ["former_smoker"]  # a listed code wins over its category
    assert kb.coded("http://example.org/codes", "M51.16") is None

    path = copy / "value-sets.yaml"
    original = path.read_text()

    def bad(change, message):
        edit_yaml(copy, "value-sets.yaml", change)
        with pytest.raises(KnowledgeError, match=message):
            load(copy)
        path.write_text(original)

    bad(lambda d: d["codes"][0].update(concepts=["no_such_concept"]), "unknown concept 'no_such_concept'")
    bad(lambda d: d["codes"].append(dict(d["codes"][0])), "listed twice")
    bad(lambda d: d["codes"][0].update(system="icd9"), "unknown code system 'icd9'")
    bad(lambda d: d["codes"][0].update(source="hearsay"), "unknown source 'hearsay'")
    bad(lambda d: d["medication_names"].update(bmi=["x"]), "not a conservative-care concept")
    bad(lambda d: d["codes"][0].update(concepts=[]), "needs concepts")
