"""Time against record size (security issue 17, finding 3): notes of 0.5 to 100 KB and FHIR Bundles of
100 to 5,000 coded entries, each through the path the service takes.

    python bench/size.py [--repeat 3] [--notes 0.5,1,10,25,50,100] [--entries 100,500,1000,2000,5000]
                         [--paths note,bundle,conditions,crd,pas] [--budget 60]

Notes are built from clinical paragraphs varied by date, level, side and numbers, so no sentence is
one repeated string; a size is in thousands of characters (the text limit, ``inputs.MAX_CHARS``, is
100,000 characters). Bundles hold a Patient, a Coverage, one short note, one order and ``n`` entries
cycling through coded and worded Conditions, Observations, therapy sessions and medication requests.
A size whose first run takes over ``--budget`` seconds is not repeated, and larger sizes of that path
are skipped. A record over the limits of :mod:`indicated.fhir.record` (``MAX_ENTRIES``,
``MAX_RECORD_CHARS``) is refused with an InputError, and the refusal is timed. The figures go in the
issue notes; no test depends on them.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

AS_OF = date(2026, 3, 9)
CPT = "http://www.ama-assn.org/go/cpt"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
PATIENT = {"reference": "Patient/p"}

LEVELS = ["L3-L4", "L4-L5", "L5-S1", "L2-L3", "T12-L1"]
SIDES = ["left", "right"]
PARAGRAPHS = [
    "Clinic visit {day}. {age}-year-old with {side} leg pain radiating below the knee for {weeks} weeks, "
    "worse with sitting. Numbness over the {side} dorsal foot. Straight leg raise positive on the {side} at "
    "{angle} degrees.",
    "Exam {day}: {side} extensor hallucis longus {grade}/5, ankle dorsiflexion {grade}/5, reflexes 1+ and "
    "symmetric at the knees. Gait antalgic. No saddle anesthesia, no bowel or bladder change.",
    "MRI lumbar spine {day}: {level} {kind} with {severity} {side} lateral recess stenosis contacting the "
    "traversing nerve root. No fracture. Mild facet arthropathy at the adjacent level.",
    "Physical therapy from {day} for {weeks} weeks, twice weekly, with a home exercise program; little "
    "change in leg pain. Naproxen 500 mg twice daily and gabapentin 300 mg at night, partial relief.",
    "Epidural steroid injection at {level} on {day} gave {relief}% relief for two weeks, then the pain "
    "returned. Activity modification and time off work tried.",
    "Follow-up {day}: pain {pain}/10, walking limited to {blocks} blocks, sleep disturbed. Declines further "
    "injections. Nonsmoker. BMI {bmi}.",
]
PLAN = "Plan: {level} microdiscectomy (CPT 63030), outpatient, discussed risks and benefits."


def note(kchars: float) -> str:
    """A note of about ``kchars`` thousand characters: varied paragraphs, then one plan line."""
    target = int(kchars * 1000)
    parts: list[str] = []
    size, i = 0, 0
    while True:
        day = AS_OF - timedelta(days=7 * (400 - i))
        fields = {
            "day": day.isoformat(),
            "age": 40 + i % 30,
            "side": SIDES[(i // 6) % 2],
            "weeks": 6 + i % 20,
            "angle": 30 + i % 40,
            "grade": 3 + i % 2,
            "level": LEVELS[i % len(LEVELS)],
            "kind": ["disc extrusion", "disc protrusion", "disc herniation"][i % 3],
            "severity": ["mild", "moderate", "severe"][i % 3],
            "relief": 20 + i % 60,
            "pain": 4 + i % 6,
            "blocks": 1 + i % 8,
            "bmi": 22 + i % 12,
        }
        paragraph = PARAGRAPHS[i % len(PARAGRAPHS)].format(**fields)
        plan = PLAN.format(level=LEVELS[2])
        if parts and size + len(paragraph) + len(plan) + 4 > target:
            break
        parts.append(paragraph)
        size += len(paragraph) + 2
        i += 1
    return "\n\n".join([*parts, plan])


CODED = ["M51.16", "M54.17", "M48.062", "M51.36", "M43.16", "E11.9"]
WORDED = [
    "Lumbar radiculopathy, {side} {level}",
    "Spinal stenosis at {level} with neurogenic claudication",
    "Degenerative disc disease {level}",
    "Chronic low back pain since {day}",
    "Numbness of the {side} foot",
    "Unsteady gait noted on {day}",
]
OBSERVATIONS = [("39156-5", 24.0), ("4548-4", 6.1), ("8302-2", 175.0)]


def condition(i: int, day: str, *, worded: bool) -> dict:
    """A Condition: an ICD-10-CM code the value sets list, or a code they do not with its own words."""
    if worded:
        words = WORDED[(i // 5) % len(WORDED)].format(side=SIDES[i % 2], level=LEVELS[i % len(LEVELS)], day=day)
        coding = {"system": ICD, "code": "R69", "display": words}
    else:
        coding = {"system": ICD, "code": CODED[(i // 5) % len(CODED)]}
    return {
        "resourceType": "Condition",
        "id": f"c{i}",
        "subject": PATIENT,
        "code": {"coding": [coding]},
        "clinicalStatus": {"coding": [{"code": "active" if i % 7 else "resolved"}]},
        "onsetDateTime": day,
    }


def entries(n: int, *, conditions: bool = False) -> list[dict]:
    """``n`` entries cycling through kinds, each with its own id and date; only Conditions (half coded,
    half worded) with ``conditions``."""
    out: list[dict] = []
    for i in range(n):
        day = (AS_OF - timedelta(days=3 * (n - i))).isoformat()
        if conditions:
            out.append(condition(i, day, worded=i % 2 == 1))
            continue
        kind = i % 5
        if kind in (0, 1):
            out.append(condition(i, day, worded=kind == 1))
        elif kind == 2:
            code, value = OBSERVATIONS[(i // 5) % len(OBSERVATIONS)]
            out.append(
                {
                    "resourceType": "Observation",
                    "id": f"o{i}",
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": code, "display": f"Measurement {code}"}]},
                    "effectiveDateTime": day,
                    "valueQuantity": {"value": value + i % 5, "unit": "1"},
                }
            )
        elif kind == 3:
            out.append(
                {
                    "resourceType": "Procedure",
                    "id": f"p{i}",
                    "status": "completed",
                    "subject": PATIENT,
                    "code": {"coding": [{"system": CPT, "code": "97110"}]},
                    "performedPeriod": {"start": day},
                }
            )
        else:
            out.append(
                {
                    "resourceType": "MedicationRequest",
                    "id": f"m{i}",
                    "status": "completed",
                    "intent": "order",
                    "subject": PATIENT,
                    "authoredOn": day,
                    "medicationCodeableConcept": {"text": ["naproxen 500 mg", "gabapentin 300 mg"][i % 2]},
                }
            )
    return out


def bundle(n: int, *, conditions: bool = False) -> dict:
    """A record Bundle: Patient, Coverage, a short note, ``n`` coded entries and a microdiscectomy order."""
    text = note(1.0)
    resources = [
        {"resourceType": "Patient", "id": "p", "gender": "female", "birthDate": "1980-05-01"},
        {
            "resourceType": "Coverage",
            "id": "cov-1",
            "status": "active",
            "beneficiary": PATIENT,
            "payor": [{"display": "Example Health Plan"}],
        },
        {
            "resourceType": "DocumentReference",
            "id": "note-1",
            "status": "current",
            "subject": PATIENT,
            "description": "Clinic note",
            "content": [
                {"attachment": {"contentType": "text/plain", "data": base64.b64encode(text.encode()).decode()}}
            ],
        },
        *entries(n, conditions=conditions),
        {
            "resourceType": "ServiceRequest",
            "id": "order-1",
            "status": "draft",
            "intent": "original-order",
            "subject": PATIENT,
            "authoredOn": AS_OF.isoformat(),
            "code": {"coding": [{"system": CPT, "code": "63030"}]},
        },
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def run_note(kchars: float) -> Callable[[], object]:
    from indicated.inputs import parse_case
    from indicated.pipeline import assess

    text = note(kchars)
    return lambda: assess(parse_case(text), as_of=AS_OF)


def run_bundle(n: int) -> Callable[[], object]:
    from indicated.fhir.record import case_from_bundle
    from indicated.pipeline import assess

    data = bundle(n)
    return lambda: assess(case_from_bundle(data))


def run_conditions(n: int) -> Callable[[], object]:
    from indicated.fhir.record import case_from_bundle
    from indicated.pipeline import assess

    data = bundle(n, conditions=True)
    return lambda: assess(case_from_bundle(data))


def run_crd(n: int) -> Callable[[], object]:
    from indicated.fhir.crd import respond
    from indicated.fhir.samples import crd_request

    data = bundle(n)
    request = crd_request(data)
    request["prefetch"]["conditions"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": e["resource"]}
            for e in data["entry"]
            if e["resource"]["resourceType"] not in ("Patient", "Coverage", "DocumentReference", "ServiceRequest")
        ],
    }
    return lambda: respond("indicated-order-sign", request, link=lambda aid: f"https://example.org/{aid}")


def run_pas(n: int) -> Callable[[], object]:
    from indicated.fhir.samples import pas_request
    from indicated.service.pas import submit
    from indicated.service.prior_auths import PriorAuths

    request = pas_request(bundle(n), claim_id="bench")
    return lambda: submit(request, store=PriorAuths())


PATHS: dict[str, tuple[Callable[[float], Callable[[], object]], str]] = {
    "note": (run_note, "KB"),
    "bundle": (run_bundle, "entries"),
    "conditions": (run_conditions, "entries"),
    "crd": (run_crd, "entries"),
    "pas": (run_pas, "entries"),
}


def measure(make: Callable[[], object], repeat: int, budget: float) -> tuple[float, float, int, str]:
    """(p50 seconds, max seconds, runs, outcome); one run only when the first is over ``budget``. A
    record refused with an InputError (over a size limit) is timed too: refusing must be quick."""
    from indicated.errors import InputError

    times, outcome = [], "answered"
    for _ in range(repeat):
        t = time.perf_counter()
        try:
            make()
        except InputError:
            outcome = "refused"
        times.append(time.perf_counter() - t)
        if times[0] > budget:
            break
    return statistics.median(times), max(times), len(times), outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--notes", default="0.5,1,10,25,50,100")
    parser.add_argument("--entries", default="100,500,1000,2000,5000")
    parser.add_argument("--paths", default="note,bundle,conditions,crd,pas")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds; slower sizes are run once")
    args = parser.parse_args()

    from indicated.pipeline import assess

    assess(note(0.5), as_of=AS_OF)  # build the engine once, outside the timings
    print(f"{'path':<10} {'size':>12} {'chars':>9} {'p50 s':>8} {'max s':>8} {'runs':>4} {'ms/unit':>9}  outcome")
    for path in args.paths.split(","):
        build, unit = PATHS[path]
        sizes = [float(s) for s in (args.notes if path == "note" else args.entries).split(",")]
        for size in sizes:
            chars = len(note(size)) if path == "note" else size
            p50, worst, runs, outcome = measure(build(size if path == "note" else int(size)), args.repeat, args.budget)
            print(
                f"{path:<10} {size:>8g} {unit:<3} {chars:>9g} {p50:>8.3f} {worst:>8.3f} {runs:>4} "
                f"{1000 * p50 / size:>9.2f}  {outcome}"
            )
            if p50 > args.budget:
                print(f"{path:<10} larger sizes skipped: over the {args.budget:g} s budget")
                break


if __name__ == "__main__":
    main()
