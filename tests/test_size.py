"""Work grows linearly with the record (security issue 17, finding 3: a 99 KB note took seconds, a
Bundle of 2,000 Conditions 7.5 s, because some steps paired everything with everything).

No test here reads a clock: work is counted as the function calls a run makes (cProfile counts Python
and spaCy's Cython calls alike), the same on any machine. A record four times the size must cost about
four times the work; the quadratic steps cost ten to twenty times. Timings are in ``bench/size.py``.
"""

from __future__ import annotations

import base64
import cProfile
from collections.abc import Callable
from datetime import date, timedelta

import medspacy.context
import medspacy.target_matcher
import pytest

from conftest import make_client
from indicated.errors import InputError
from indicated.extract import nlp, pipes
from indicated.fhir import record
from indicated.fhir.record import case_from_bundle
from indicated.fhir.samples import pas_request
from indicated.pipeline import assess
from test_nlp import _texts

AS_OF = date(2026, 3, 9)
LINEAR = 5.0  # work ratio allowed for a record four times the size (linear: about 4)
LEVELS = ["L3-L4", "L4-L5", "L5-S1", "L2-L3"]
PARAGRAPHS = [
    "Seen {day}. Left leg pain below the knee for {weeks} weeks, worse sitting. No saddle anesthesia, "
    "no bowel or bladder change. Straight leg raise positive at {angle} degrees.",
    "MRI {day}: {level} disc extrusion with moderate left lateral recess stenosis; no fracture, no listhesis.",
    "Physical therapy since {day} for {weeks} weeks and naproxen, little relief. Denies fever. Nonsmoker.",
    "Exam {day}: EHL {grade}/5 on the left, reflexes symmetric, history of L4-5 microdiscectomy in 2015.",
]


def note(paragraphs: int) -> str:
    """A note of varied paragraphs (dates, levels and numbers change), then the request."""
    parts = [
        PARAGRAPHS[i % len(PARAGRAPHS)].format(
            day=(AS_OF - timedelta(days=7 * (paragraphs - i))).isoformat(),
            weeks=6 + i % 20,
            angle=30 + i % 40,
            level=LEVELS[i % len(LEVELS)],
            grade=3 + i % 2,
        )
        for i in range(paragraphs)
    ]
    return "\n\n".join([*parts, "Plan: L5-S1 microdiscectomy (CPT 63030)."])


def conditions_bundle(n: int) -> dict:
    """A note, ``n`` Conditions (coded through the value sets and worded in turn) and a microdiscectomy order."""
    text = note(4)
    resources = [
        {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1980-05-01"},
        {
            "resourceType": "DocumentReference",
            "id": "note",
            "status": "current",
            "content": [
                {"attachment": {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}}
            ],
        },
    ]
    for i in range(n):
        if i % 2:
            coding = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "R69"}
            coding["display"] = f"Lumbar radiculopathy, {'left' if i % 4 == 1 else 'right'} {LEVELS[i % len(LEVELS)]}"
        else:
            coding = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": ["M51.16", "M48.062"][i % 4 // 2]}
        resources.append(
            {
                "resourceType": "Condition",
                "id": f"c{i}",
                "subject": {"reference": "Patient/p"},
                "code": {"coding": [coding]},
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "onsetDateTime": (AS_OF - timedelta(days=n - i)).isoformat(),
            }
        )
    resources.append(
        {
            "resourceType": "ServiceRequest",
            "id": "order",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": "Patient/p"},
            "authoredOn": AS_OF.isoformat(),
            "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "63030"}]},
        }
    )
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def work(run: Callable[[], object]) -> int:
    """The function calls ``run()`` makes: a measure of work that no machine's speed changes."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        run()
    finally:
        profile.disable()
    return sum(entry.callcount for entry in profile.getstats())


def growth(run: Callable[[int], object], size: int) -> float:
    """Work at four times ``size`` over work at ``size`` (after one run of each, so imports and caches
    built on first use are not counted)."""
    run(size), run(4 * size)
    return work(lambda: run(4 * size)) / work(lambda: run(size))


def test_the_work_of_reading_a_note_grows_linearly():
    """Before the fix: 11 times the work for a note four times as long (medspaCy set each match as an
    entity anew, and ConText paired every modifier with every modifier and target)."""
    assert growth(lambda n: assess(note(n), as_of=AS_OF), 30) < LINEAR


def test_the_work_of_reading_a_bundle_grows_linearly():
    """Before the fix: about 10 times the work for four times the Conditions (each resource was checked
    against every fact's span to see whether it was used)."""
    bundles = {n: conditions_bundle(n) for n in (250, 1000)}
    assert growth(lambda n: assess(case_from_bundle(bundles[n])), 250) < LINEAR


def test_a_bundle_of_2000_conditions_is_answered_and_each_condition_counts():
    bundle = conditions_bundle(2000)
    assessment = assess(case_from_bundle(bundle))
    case = assessment.case
    assert [s.code for s in assessment.services] == ["63030"]
    assert assessment.determination in {"medically_necessary", "insufficient_information"}
    # every coded Condition's facts quote its own line; every worded one was read, none left aside
    quoted = {case.part_of(e).reference for f in case.findings for e in f.evidence if case.part_of(e)}
    assert {f"Condition/c{i}" for i in range(0, 2000, 2)} <= quoted
    assert not [r for r in case.ignored if r.resource_type == "Condition" and r.reason != _READ_NOTHING_USED]
    assert len(case.parts) > 2000


_READ_NOTHING_USED = "read; nothing in it bears on the criteria"


def _marks(pipe, text: str) -> list[tuple]:
    """Each entity with its label and its modifiers, their spans and scopes: all that ConText decides."""
    doc = pipe(text)
    return [
        (e.start, e.end, e.label_, [(m.category, m.modifier_span, m.scope_span) for m in e._.modifiers])
        for e in doc.ents
    ]


def test_our_target_matcher_and_context_mark_what_medspacys_marked(kb, monkeypatch):
    """The linear components give exactly medspaCy's entities and modifiers, on every case text and on
    long notes."""
    texts = [*_texts(), note(60), note(200)]
    fast = nlp.build(kb)
    monkeypatch.setattr(pipes, "TargetMatcher", medspacy.target_matcher.TargetMatcher)
    monkeypatch.setattr(pipes, "ConText", medspacy.context.ConText)
    slow = nlp.build(kb)
    assert [_marks(fast, t) for t in texts] == [_marks(slow, t) for t in texts]


@pytest.mark.parametrize(
    "text",
    [
        "No fever.\n\nno\nImaging: disc extrusion at L4-5, no stenosis.",  # a modifier before a heading
        "Denies leg pain. History of L5-S1 discectomy. No weakness, but numbness of the left foot.",
    ],
)
def test_modifiers_at_sentence_edges_agree_with_medspacy(kb, monkeypatch, text):
    fast = nlp.build(kb)
    monkeypatch.setattr(pipes, "ConText", medspacy.context.ConText)
    slow = nlp.build(kb)
    assert _marks(fast, text) == _marks(slow, text)


def test_a_bundle_over_the_entry_limit_is_refused_before_it_is_parsed():
    bundle = conditions_bundle(0)
    bundle["entry"] += [
        {"resource": {"resourceType": "Basic", "id": f"b{i}", "code": {"text": "note"}}}
        for i in range(record.MAX_ENTRIES)
    ]
    with pytest.raises(InputError, match=f"entries; the limit is {record.MAX_ENTRIES:,}"):
        case_from_bundle(bundle)


def test_a_record_whose_words_are_over_the_limit_is_refused_before_it_is_read():
    bundle = conditions_bundle(0)
    long = "Severe left leg pain below the knee. " * (record.MAX_RECORD_CHARS // 37 + 1)
    bundle["entry"][1]["resource"]["content"][0]["attachment"]["data"] = base64.b64encode(long.encode()).decode()
    with pytest.raises(InputError, match=f"the limit is {record.MAX_RECORD_CHARS:,}"):
        case_from_bundle(bundle)


def test_pas_submit_answers_an_oversized_record_with_a_400_operation_outcome(tmp_path):
    claim = pas_request(conditions_bundle(record.MAX_ENTRIES), claim_id="too-big")
    res = make_client(tmp_path).post("/fhir/Claim/$submit", json=claim)
    assert res.status_code == 400
    assert res.json()["resourceType"] == "OperationOutcome"
    assert "limit" in res.json()["issue"][0]["diagnostics"]
