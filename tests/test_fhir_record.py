"""FHIR R4 Bundles read into a Case: what each resource says, spans back into the notes they came
from, the orders as the requested services, and clear errors for what cannot be read."""

from __future__ import annotations

import base64
import json

import pytest
from typer.testing import CliRunner

from conftest import SHARED_CASES, load_cases
from indicated.cli import app
from indicated.errors import InputError
from indicated.fhir.record import case_from_bundle
from indicated.fhir.samples import record_bundle
from indicated.pipeline import assess

DEV = load_cases(SHARED_CASES)
CPT = "http://www.ama-assn.org/go/cpt"


def bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def note(text: str, id: str = "n1", content_type: str = "text/plain") -> dict:
    data = base64.b64encode(text.encode()).decode()
    return {
        "resourceType": "DocumentReference",
        "id": id,
        "status": "current",
        "description": f"note {id}",
        "content": [{"attachment": {"contentType": content_type, "data": data}}],
    }


def order(cpt: str, id: str = "o1", **extra) -> dict:
    return {
        "resourceType": "ServiceRequest",
        "id": id,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": CPT, "code": cpt}]},
        **extra,
    }


def condition(name: str, id: str, clinical: str = "active", verification: str | None = None) -> dict:
    c = {
        "resourceType": "Condition",
        "id": id,
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "X", "display": name}]},
        "clinicalStatus": {"coding": [{"code": clinical}]},
    }
    if verification:
        c["verificationStatus"] = {"coding": [{"code": verification}]}
    return c


def observation(loinc: str, id: str, **value) -> dict:
    return {
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        **value,
    }


def finding(case, concept: str):
    return next(f for f in case.findings if f.concept == concept)


def test_spans_map_back_into_the_note_they_came_from():
    first, second = (
        "Severe left leg pain with numbness.",
        "MRI: L4-L5 disc extrusion compressing the left L5 nerve root.",
    )
    case = case_from_bundle(bundle(note(first, "a"), note(second, "b"), order("63030")))
    notes = {"DocumentReference/a": first, "DocumentReference/b": second}
    checked = 0
    for f in case.findings:
        for span in f.evidence:
            part = case.part_of(span)
            assert part is not None
            if part.reference in notes:
                local = notes[part.reference][span.start - part.start : span.end - part.start]
                assert local == span.text
                checked += 1
    assert checked >= 4
    assert {case.part_of(finding(case, c).evidence[0]).reference for c in ("radicular_pain", "disc_herniation")} == {
        "DocumentReference/a",
        "DocumentReference/b",
    }


def test_condition_statuses_become_present_history_absent_and_possible():
    case = case_from_bundle(
        bundle(
            condition("Lumbar spinal stenosis", "c1"),
            condition("Nicotine dependence, cigarettes", "c2", clinical="resolved"),
            condition("Cauda equina syndrome", "c3", verification="refuted"),
            condition("Pseudarthrosis", "c4", verification="provisional"),
            order("63047"),
        )
    )
    assert finding(case, "spinal_stenosis").status == "present"
    # a resolved nicotine dependence is former smoking (vocabulary: current_smoker's past form)
    assert finding(case, "former_smoker").status == "present"
    assert not [f for f in case.findings if f.concept == "current_smoker"]
    assert finding(case, "cauda_equina_syndrome").status == "absent"
    assert finding(case, "pseudarthrosis").status == "possible"
    assert case.part_of(finding(case, "spinal_stenosis").evidence[0]).reference == "Condition/c1"


def test_observations_procedures_and_the_patient():
    case = case_from_bundle(
        bundle(
            {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1961-06-30"},
            observation("39156-5", "bmi", valueQuantity={"value": 41.5, "unit": "kg/m2"}),
            observation("4548-4", "a1c", valueQuantity={"value": 8.6, "unit": "%"}),
            {
                "resourceType": "Procedure",
                "id": "pt",
                "status": "completed",
                "subject": {"reference": "Patient/p"},
                "code": {"text": "Physical therapy"},
                "performedPeriod": {"start": "2026-01-05", "end": "2026-03-02"},
            },
            {
                "resourceType": "Procedure",
                "id": "old",
                "status": "completed",
                "subject": {"reference": "Patient/p"},
                "code": {"coding": [{"system": CPT, "code": "63030", "display": "L5-S1 microdiscectomy"}]},
                "performedDateTime": "2019-04-02",
            },
            {
                "resourceType": "Procedure",
                "id": "never",
                "status": "not-done",
                "subject": {"reference": "Patient/p"},
                "code": {"text": "Epidural steroid injection"},
            },
            order("63047", authoredOn="2026-06-01"),
        )
    )
    assert (case.age, case.sex) == (64, "female")
    assert finding(case, "bmi").number == 41.5
    assert finding(case, "diabetes").number == 8.6
    assert finding(case, "physical_therapy").weeks == 8
    prior = finding(case, "prior_spine_surgery")
    assert prior.historical and prior.levels == ["L5-S1"]
    assert case.part_of(prior.evidence[0]).reference == "Procedure/old"
    assert not [f for f in case.findings if f.concept == "epidural_steroid_injection"]


def test_the_orders_are_the_request_not_procedures_the_note_mentions():
    text = "Plan: L4-L5 laminectomy and posterolateral fusion (63047, 22612). Prior 63030 in 2015."
    billing = {
        "extension": [
            {
                "url": "http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-billing-options",
                "valueCodeableConcept": {"coding": [{"system": CPT, "code": "63048"}]},
            }
        ],
        "coding": [{"system": CPT, "code": "63047"}],
    }
    case = case_from_bundle(bundle(note(text), order("63047", code=billing)))
    assert [s.code for s in case.services] == ["63047", "63048"]
    assert case.services[0].levels == ["L4-L5"]


def test_html_notes_are_read_as_text_and_other_attachments_are_named_not_read():
    html = "<html><body><p>Severe <b>left leg pain</b> &amp; numbness.</p></body></html>"
    pdf = note("%PDF-1.4", "scan", content_type="application/pdf")
    case = case_from_bundle(bundle(note(html, "h", "text/html"), pdf, order("63030")))
    assert "<b>" not in case.text and "left leg pain" in case.text
    assert "(application/pdf, not read)" in case.text
    assert finding(case, "radicular_pain").status == "present"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition"}}]},
            "entry.0.resource.subject",
        ),
        (
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": {"resourceType": "Observation", "status": "final"}}],
            },
            "entry.0.resource.code",
        ),
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "no clinical content"),
    ],
)
def test_bad_bundles_name_the_problem(data, message):
    with pytest.raises(InputError, match=message.replace(".", r"\.")):
        case_from_bundle(data)


@pytest.mark.parametrize(("name", "case"), DEV, ids=[n for n, _ in DEV])
def test_dev_cases_as_fhir_get_the_determinations_of_their_text(name, case):
    text = assess(case["text"])
    codes = [s.code for s in text.services]
    fhir = assess(case_from_bundle(record_bundle(case["text"], codes)))
    assert [(s.code, s.determination) for s in fhir.services] == [(s.code, s.determination) for s in text.services]


def test_cli_assesses_a_bundle_file(tmp_path):
    case = dict(DEV)["d01_discectomy_failed_conservative"]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(record_bundle(case["text"], ["63030"], birth_date="1987-02-01", gender="female")))
    done = CliRunner().invoke(app, ["assess", str(path), "--format", "json"])
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["determination"] == "medically_necessary"
    assert out["case"]["parts"][0]["reference"] == "DocumentReference/note-1"
    wrong = tmp_path / "patient.json"
    wrong.write_text(json.dumps({"resourceType": "Patient"}))
    done = CliRunner().invoke(app, ["assess", str(wrong)])
    assert done.exit_code == 2 and "must be a Bundle" in done.output
