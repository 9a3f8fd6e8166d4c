"""Silence, performed procedures, region and revisions (DESIGN.md principle 4 and "Requests, performed
procedures and scope"): each test states a case in its own words and checks one rule."""

from __future__ import annotations

import pytest

from indicated.engine import Engine
from indicated.models import Determination
from indicated.pipeline import assess

D = Determination

extract = Engine.bundled().extract


def services(text: str) -> dict[str, str]:
    return {s.code: s.determination.value for s in assess(text).services}


def codes(text: str) -> list[str]:
    return [s.code for s in extract(text).services]


# --- silence is not failure -------------------------------------------------------------------


def test_a_bare_fusion_request_is_undecided_not_denied():
    a = assess("Prior authorization: L3-4 posterolateral fusion (22612).")
    assert a.determination == D.INSUFFICIENT_INFORMATION
    fusion = next(s for s in a.services if s.code == "22612")
    structural = next(c for c in fusion.criteria if c.id == "structural-indication")
    assert structural.status == "unknown"


def test_a_described_report_that_names_no_slip_fails_the_structural_indication():
    a = assess(
        "Request L4-5 instrumented fusion (22612, 22840) for a 61-year-old with neurogenic claudication after "
        "4 months of failed physical therapy. MRI shows severe central stenosis at L4-5. Nonsmoker."
    )
    fusion = next(s for s in a.services if s.code == "22612")
    assert fusion.determination == D.NOT_MEDICALLY_NECESSARY
    lesion = next(c for c in fusion.criteria if c.id == "structural-lesion-other")
    # the words of the report are the evidence that it names no slip
    assert lesion.status == "not_met" and any("MRI" in e.text or "stenosis" in e.text for e in lesion.evidence)


def test_a_diagnosis_on_the_problem_list_is_no_imaging_report():
    # "lumbar stenosis" on a problem list names no report, so the report's silence about a slip is unknown,
    # not absent; the same words from a named MRI are a report that names stenosis and nothing else
    text = (
        "Request L4-5 posterolateral fusion (22612) for a 64-year-old with neurogenic claudication for 8 months "
        "despite 12 weeks of PT. Problem list: lumbar spinal stenosis, hypertension."
    )
    assert services(text)["22612"] == "insufficient_information"
    assert services(text.replace("Problem list: lumbar spinal stenosis", "MRI: severe L4-5 stenosis"))["22612"] == (
        "not_medically_necessary"
    )


def test_an_unmentioned_contraindication_is_taken_as_absent_and_says_so():
    a = assess(
        "L4-5 TLIF (22630) for grade 2 isthmic spondylolisthesis with L5 radiculopathy after 5 months of "
        "failed physical therapy and two epidural injections."
    )
    nicotine = next(c for c in a.services[0].criteria if c.id == "no-active-nicotine")
    assert nicotine.status == "met" and nicotine.assumed and not nicotine.evidence


def test_a_documented_contraindication_is_not_assumed():
    a = assess("L4-5 TLIF (22630) for grade 2 isthmic spondylolisthesis; she smokes a pack a day.")
    nicotine = next(c for c in a.services[0].criteria if c.id == "no-active-nicotine")
    assert nicotine.status == "not_met" and not nicotine.assumed


def test_a_secondary_finding_denied_does_not_fail_the_symptoms():
    # "strength 5/5" says nothing of leg pain: the radicular symptoms are undocumented, not absent
    a = assess("L5-S1 extrusion compressing the S1 root on MRI. Strength 5/5. Request L5-S1 microdiscectomy 63030.")
    symptoms = next(c for c in a.services[0].criteria if c.id == "radicular-symptoms")
    assert symptoms.status == "unknown"


def test_add_ons_follow_their_primary_and_do_not_vote():
    a = assess(
        "Request: L5-S1 microdiscectomy (63030) for 3 months of S1 radicular pain with an L5-S1 extrusion "
        "compressing the S1 root, after 8 weeks of failed physical therapy; bone marrow aspiration (20939)."
    )
    by = {s.code: s for s in a.services}
    assert by["63030"].determination == D.MEDICALLY_NECESSARY
    assert by["20939"].add_on and by["20939"].determination == D.INSUFFICIENT_INFORMATION
    assert a.determination == D.MEDICALLY_NECESSARY


def test_a_setting_that_follows_an_unapprovable_procedure_does_not_vote():
    a = assess(
        "Request L4-5 microdiscectomy (63030) with a 2-night inpatient stay for 2 weeks of axial back pain "
        "only, no leg pain, and an L4-5 bulge without root compression."
    )
    assert a.setting is not None and a.setting.follows_procedure
    assert a.setting.determination == D.NOT_MEDICALLY_NECESSARY
    assert a.determination == D.NOT_MEDICALLY_NECESSARY


# --- procedures the patient already had -------------------------------------------------------


def test_a_question_about_what_the_patient_underwent_reviews_it_as_performed():
    a = assess(
        "Is further treatment indicated for a 58-year-old with back and leg pain from a recurrent L4-5 disc "
        "herniation who underwent a laminectomy, fusion and bone marrow aspiration with navigation?"
    )
    assert a.review == "performed"
    got = {s.code for s in a.services}
    assert {"22612", "20939", "61783"} <= got and got & {"63042", "63047"}
    assert not any(s.determination == D.NO_APPLICABLE_POLICY for s in a.services)
    # the operation under review is not an earlier operation
    assert not [f for f in a.case.findings if f.concept == "prior_spine_surgery"]


@pytest.mark.parametrize(
    "text",
    [
        "Is a spinal cord stimulator trial (63650) indicated for persistent leg pain 2 years after an L4-S1 fusion?",
        "Is an L3-4 laminectomy indicated for adjacent segment stenosis eighteen months following L4-5 TLIF?",
    ],
)
def test_a_time_since_an_operation_makes_it_the_past_in_a_question(text):
    a = assess(text)
    assert not {s.code for s in a.services} & {"22612", "22614", "22630", "22633"}
    assert [f for f in a.case.findings if f.concept == "prior_spine_surgery"]


def test_a_request_that_mentions_an_earlier_operation_stays_prospective():
    a = assess(
        "Is a redo L5-S1 microdiscectomy medically necessary for a woman who had an L5-S1 microdiscectomy two "
        "years ago and now has a recurrent L5-S1 extrusion compressing the S1 root?"
    )
    assert a.review == "prospective"
    assert [s.code for s in a.services] == ["63042"]
    assert [f.concept for f in a.case.findings if f.concept == "prior_spine_surgery"]


def test_an_operative_note_reports_its_findings_and_ignores_its_consent_talk():
    text = (
        "OPERATIVE REPORT\n"
        "PREOPERATIVE DIAGNOSIS: Right L4-5 disc extrusion with right L5 radiculopathy.\n"
        "PROCEDURE: Right L4-5 microdiscectomy (63030).\n"
        "INDICATIONS: 51-year-old woman with 4 months of right L5 leg pain, EHL 4/5, and an L4-5 extrusion "
        "compressing the L5 root on MRI, after 9 weeks of failed physical therapy and gabapentin. The risks "
        "discussed included infection, bleeding, numbness, paralysis and loss of bladder control.\n"
        "DESCRIPTION OF PROCEDURE: A needle localized the L3-L4 level first and was moved down one level.\n"
        "FINDINGS: A large sequestered fragment under the L5 root.\n"
    )
    a = assess(text)
    assert a.review == "performed" and a.determination == D.MEDICALLY_NECESSARY
    present = {f.concept for f in a.case.findings if f.status == "present" and not f.hypothetical}
    assert "bowel_bladder_dysfunction" not in present
    operative = [f for f in a.case.findings if f.operative]
    assert operative and all(f.concept == "disc_herniation" for f in operative)
    assert a.case.levels == ["L4-L5"]  # the level the needle found first is technique, not pathology


def test_a_retrospective_question_reviews_the_coded_procedure():
    a = assess(
        "Retrospective review: was the L5-S1 microdiscectomy (63030) done on 02/03/2026 medically necessary? "
        "Before it she had 10 weeks of S1 radicular pain, a positive straight leg raise and an L5-S1 extrusion "
        "compressing the S1 root, after 7 weeks of failed physical therapy."
    )
    assert a.review == "performed" and a.determination == D.MEDICALLY_NECESSARY


# --- region -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "region"),
    [
        ("Is a T9-T10 microdiscectomy medically necessary?", "63055", "thoracic"),
        ("Is a C5-6 posterior laminotomy and discectomy medically necessary?", "63020", "cervical"),
        ("Request: C7-T1 cervicothoracic laminectomy.", "63045", "cervical"),
        ("Is a posterior cervical laminectomy and fusion C3-C6 medically necessary?", "22600", "cervical"),
        ("Request: left sacroiliac (SI) joint fusion.", "27279", "sacroiliac"),
        ("Is T12 balloon kyphoplasty medically necessary?", "22513", "thoracic"),
    ],
)
def test_a_procedure_word_takes_the_region_of_its_levels_or_words(text, code, region):
    a = assess(text)
    service = next(s for s in a.services if s.code == code)
    assert service.region == region
    assert not {"63030", "63047", "22612"} & {s.code for s in a.services}


def test_an_add_on_is_done_where_its_primary_is():
    a = assess("Request: C4-C6 posterior cervical laminectomy and fusion (63045, 63048, 22600, 22614, 22840).")
    assert {s.code: s.region for s in a.services} == dict.fromkeys(
        ["63045", "63048", "22600", "22614", "22840"], "cervical"
    )
    lumbar = assess("Request: L4-S1 posterior fusion with pedicle screws (22612, 22614, 22840).")
    assert {s.region for s in lumbar.services} == {"lumbar"}


def test_a_procedure_outside_the_library_names_its_region():
    a = assess("Is a right total knee arthroplasty medically necessary for end-stage osteoarthritis?")
    assert a.determination == D.NO_APPLICABLE_POLICY
    assert "non-spine procedures" in a.services[0].reasons[0]


def test_codes_and_levels_pair_as_written():
    case = extract("Request 63030 L5-S1 and 22612 L4-5.")
    assert {s.code: s.levels for s in case.services} == {"63030": ["L5-S1"], "22612": ["L4-L5"]}


# --- revisions, deformity and levels ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is a redo left L4-5 microdiscectomy medically necessary?", ["63042"]),
        ("Request: L5-S1 discectomy for a recurrent L5-S1 herniation.", ["63042"]),
        ("s/p L4-5 microdiscectomy 2021. Request: L4-5 microdiscectomy.", ["63042"]),
        # a repeat laminectomy for stenosis stays a decompression
        ("Request: revision L3-4 laminectomy for recurrent stenosis after a 2018 L3-4 laminectomy.", ["63047"]),
        ("Request: posterior spinal fusion L2 to S1 for adult degenerative scoliosis.", ["22800"]),
        ("Request: posterior fusion T4-L2 for a 55 degree thoracolumbar scoliosis.", ["22802"]),
        ("Is a two-level laminectomy medically necessary?", ["63047", "63048"]),
        # the extra level belongs to the code the words take in their region
        ("Request: C5-C7 laminectomy.", ["63045", "63048"]),
        ("Is a T10-T12 thoracic discectomy medically necessary?", ["63055", "63057"]),
        ("Plan: laminectomy of L2, L3 and L4.", ["63047", "63048"]),
        ("Options discussed: L4-5 ALIF or L4-5 total disc replacement. We request the disc replacement.", ["22857"]),
        # an add-on said outright beside a primary asked as a question chooses nothing: both are asked for
        ("Would an L4-5 TLIF be considered medically necessary, with pedicle screw fixation?", ["22630", "22840"]),
        # "the fusion" asked about is the fusion named before the question
        (
            "The surgeon wants a 2 level fusion from the front (ALIF L4-S1). Is the fusion medically necessary?",
            ["22558", "22585"],
        ),
        # a bare fusion in the neck is an ACDF; with a laminectomy in its sentence it is posterior
        ("Is a fusion at C5-6 medically necessary?", ["22551"]),
        ("Request: C3-C6 laminectomy and fusion.", ["63045", "63048", "22600", "22614"]),
        # a bare word takes the region of the operation the request names
        ("Request: right SI joint fusion. The minimally invasive fusion uses triangular titanium implants.", ["27279"]),
        # a contrast ends what was denied
        ("He doesn't need a fusion, just a laminectomy at L4-5. Is the laminectomy medically necessary?", ["63047"]),
    ],
)
def test_procedures_are_coded_as_a_coder_would(text, expected):
    assert codes(text) == expected


def test_a_two_level_disc_replacement_is_excluded():
    a = assess("Is a 2-level total disc replacement medically necessary for discogenic back pain?")
    tda = next(s for s in a.services if s.code == "22857")
    assert next(c for c in tda.criteria if c.id == "single-level").status == "not_met"


# --- the three questions of the founding articles, in our own words ------------------------------


def test_a_repeat_microdiscectomy_question_gets_a_substantive_answer():
    a = assess(
        "Is a revision right L4-L5 microdiscectomy (63042) medically necessary for a patient with a residual or "
        "recurrent right paracentral L4-5 extrusion with a fragment in the lateral recess, right leg weakness, "
        "numbness and pain she cannot manage?"
    )
    assert [s.code for s in a.services] == ["63042"]
    assert a.determination == D.INSUFFICIENT_INFORMATION  # imaging and care to document, nothing failed


def test_a_revision_fusion_and_laminectomy_question_is_never_denied_on_silence():
    a = assess(
        "Is a revision of the L4-L5 fusion and laminectomy medically indicated for a man with back pain, leg "
        "numbness and weakness, a dragging foot and falls after an earlier L4-L5 fusion and laminectomy?"
    )
    assert {s.code for s in a.services} >= {"22612"}
    assert all(s.determination != D.NOT_MEDICALLY_NECESSARY for s in a.services)
    assert all(s.determination != D.NO_APPLICABLE_POLICY for s in a.services)


# --- a habit described in the past ---------------------------------------------------------


@pytest.mark.parametrize(
    ("smoking", "expected"),
    [
        ("Former smoker, 1 ppd for 20 years, quit in 2019.", D.MEDICALLY_NECESSARY),
        ("Tobacco: 1 ppd x 20 yrs, quit 14 months ago.", D.MEDICALLY_NECESSARY),
        ("Smokes 1 ppd, not interested in quitting.", D.NOT_MEDICALLY_NECESSARY),
    ],
)
def test_the_pack_years_of_a_former_smoker_do_not_deny_a_fusion(smoking, expected):
    a = assess(
        "Is an L4-5 TLIF (22633) medically necessary? 58F with grade 1 degenerative spondylolisthesis at L4-5 "
        "with 5 mm of motion on flexion-extension films, severe stenosis and neurogenic claudication after 6 "
        f"months of failed PT and NSAIDs. {smoking}"
    )
    assert a.services[0].code == "22633" and a.services[0].determination == expected


@pytest.mark.parametrize(
    "text",
    [
        "Insurance denied my L5-S1 microdiscectomy. Was the denial right?",
        "Peer-to-peer for a denied L5-S1 microdiscectomy.",
        "The L5-S1 microdiscectomy was denied by the plan; we appeal.",
    ],
)
def test_a_payers_denial_names_the_procedure_under_review(text):
    assert [s.code for s in assess(text).services] == ["63030"]


# --- care belongs to the region it was given for ------------------------------------------------

TANDEM = (
    "Requested: L4-5 laminectomy (63047) and C5-6 ACDF (22551). 70M with neurogenic claudication from severe L4-5 "
    "stenosis and right C6 radiculopathy with biceps 4/5 from a right C5-6 disc herniation compressing the C6 root. "
)


def care_status(text: str, code: str) -> str:
    service = next(s for s in assess(text).services if s.code == code)
    return next(c.status for c in service.criteria if c.id == "failed-conservative-care")


def test_care_given_for_the_low_back_does_not_count_for_a_neck_operation():
    text = TANDEM + "Lumbar: failed 4 months of PT and 2 ESIs."
    assert care_status(text, "63047") == "met"
    assert care_status(text, "22551") != "met"
    both = text + " Neck: 10 weeks of PT and a cervical ESI without relief."
    assert care_status(both, "22551") == "met"


@pytest.mark.parametrize(
    "care",
    [
        "She did 8 weeks of physical therapy for the neck and 2 injections in her neck.",
        "Failed 10 weeks of PT to the cervical spine.",
    ],
)
def test_care_named_for_a_region_after_it_counts_only_there(care):
    assert care_status(TANDEM + care, "22551") == "met"
    assert care_status(TANDEM + care, "63047") != "met"


def test_care_the_words_do_not_place_counts_for_every_operation():
    text = TANDEM + "He has failed 4 months of physical therapy and NSAIDs."
    assert care_status(text, "63047") == care_status(text, "22551") == "met"


# --- each level of a multi-level request -----------------------------------------------------------------

TWO_LEVEL_ACDF = (
    "Request: C5-C6 and C6-C7 ACDF (22551, 22552). Right C6 radiculopathy for 4 months, biceps 4/5, after 8 weeks "
    "of failed PT and a transforaminal injection. MRI: right C5-6 disc herniation compressing the right C6 root. "
)


def test_an_extra_level_the_record_says_fails_is_judged_at_that_level():
    a = assess(TWO_LEVEL_ACDF + "At C6-C7 a minimal disc bulge, foramina patent, no nerve root compression.")
    # a level the record leaves unsaid goes with its primary
    assert services(TWO_LEVEL_ACDF) == {"22551": "medically_necessary", "22552": "medically_necessary"}
    got = {s.code: s.determination for s in a.services}
    assert got == {"22551": D.MEDICALLY_NECESSARY, "22552": D.NOT_MEDICALLY_NECESSARY}
    assert a.determination == D.PARTIALLY_MEDICALLY_NECESSARY  # the level judged on its own votes


# --- a repeat said by reference ---------------------------------------------------------------------------


def test_a_plan_to_redo_an_earlier_discectomy_by_reference_asks_for_its_revision():
    text = (
        "I had an L5-S1 microdiscectomy on the right in March. By June the pain was back down my right leg and "
        "the new MRI shows the same disc out again. Dr. Okafor is planning to go back in and redo it."
    )
    (service,) = assess(text).services
    assert (service.code, service.levels, service.side) == ("63042", ["L5-S1"], "right")


@pytest.mark.parametrize(
    "text",
    [
        "I had an L5-S1 microdiscectomy in March and I hope I never have to redo it.",
        "I had an L5-S1 microdiscectomy in March. He wants to go back in and do an L5-S1 fusion instead.",
    ],
)
def test_a_repeat_said_without_a_plan_or_beside_a_named_operation_is_not_a_revision(text):
    assert "63042" not in [s.code for s in assess(text).services]


def test_a_procedure_compared_with_the_one_requested_is_weighed_not_asked():
    text = (
        "Subject: artificial disc vs fusion\n\nHello, I'm 51 and my left hand is weak from a C6-7 herniation on "
        "the C7 nerve. My surgeon prefers putting an artificial disc in at C6-7, and the clinic is submitting the "
        "disc replacement (22856) today."
    )
    assert [s.code for s in assess(text).services] == ["22856"]
