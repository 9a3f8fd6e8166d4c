"""Follow-ups (issue 16): facts added to a case with `indicated assess --add` or the web page's follow-up
box, the case assessed again, and the new article opening with what changed; topic questions answered
from the evidence library with the case's procedure as context."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import SHARED_CASES, load_cases
from indicated.cli import app
from indicated.fhir.samples import record_bundle
from indicated.models import Assessment, Case, CriterionResult, Determination, ServiceResult
from indicated.pipeline import assess
from indicated.render import followup
from indicated.service import create_app, db, repo
from indicated.service.settings import Settings

DEV = dict(load_cases(SHARED_CASES))
SCIATICA = DEV["d04_discectomy_sciatica_only"]["text"]  # insufficient: no imaging, no conservative care
PT = "8 weeks of PT failed"
MRI = "MRI shows an L5-S1 disc extrusion compressing the left S1 nerve root"
# what those two facts document, and what was already documented (radicular pain) or stays as it was
MOVED = {
    "discectomy-indicated",
    "imaging-correlation",
    "herniation-on-imaging",
    "root-compression",
    "conservative-care-or-red-flag",
    "failed-conservative-care",
}
PASSWORD = "a long enough password"
runner = CliRunner()


@pytest.fixture
def case_file(tmp_path):
    path = tmp_path / "case.txt"
    path.write_text(SCIATICA)
    return path


def run(*args: str):
    return runner.invoke(app, ["assess", *args])


def moved_by_hand(before: Assessment, after: Assessment) -> set[str]:
    """The criteria whose status differs, found without the code under test."""
    was = {c.id: c.status for s in before.services for c in s.criteria}
    return {c.id for s in after.services for c in s.criteria if was.get(c.id) != c.status}


def test_add_moves_an_insufficient_case_to_necessary_and_names_the_criteria(case_file):
    assert assess(SCIATICA).determination == Determination.INSUFFICIENT_INFORMATION
    res = run(str(case_file), "--add", PT, "--add", MRI)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("# ") and lines[2] == "## What changed"  # the article opens with it
    head, _, rest = res.output.partition("## Criteria")
    assert "from **insufficient information** to **medically necessary**" in head
    assert (
        "**63030 (Lumbar laminotomy with discectomy, one interspace)**: insufficient information → medically necessary"
        in head
    )
    listed = set(re.findall(r"^  - `([a-z0-9-]+)` not documented → \*\*met\*\*", head, re.MULTILINE))
    assert listed == MOVED
    assert "`radicular-symptoms`" not in head and "`red-flag`" not in head  # met before, and not_met still
    assert "**Medically necessary.**" in head and "63030 — Lumbar laminotomy" in rest


def test_the_json_carries_changes_that_match_the_two_assessments(case_file):
    res = run(str(case_file), "--add", f"{PT}; {MRI}", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["determination"] == "medically_necessary"
    changes = out["changes"]
    assert (changes["before"], changes["after"], changes["facts_added"]) == (
        "insufficient_information",
        "medically_necessary",
        True,
    )
    (service,) = changes["services"]
    assert (service["code"], service["before"], service["after"]) == (
        "63030",
        "insufficient_information",
        "medically_necessary",
    )
    expected = moved_by_hand(assess(SCIATICA), assess(followup.with_paragraph(SCIATICA, [PT, MRI])))
    assert {c["id"] for c in service["criteria"]} == expected == MOVED
    assert {(c["before"], c["after"]) for c in service["criteria"]} == {("unknown", "met")}
    assert "text" not in out["case"]  # the record stays out of the JSON, follow-up or not
    stored = Assessment.model_validate_json(res.output)  # the output reads back as an Assessment
    assert stored.changes is not None and stored.changes.after == Determination.MEDICALLY_NECESSARY


def test_an_addition_that_changes_nothing_says_so(case_file):
    res = run(str(case_file), "--add", "She works as a teacher.")
    assert res.exit_code == 0, res.output
    head = res.output.partition("## Criteria")[0]
    assert (
        "Nothing changed: the facts added moved no criterion, and the determination stays **insufficient information**."
        in head
    )
    assert "→" not in head
    out = json.loads(run(str(case_file), "--add", "She works as a teacher.", "-f", "json").output)
    assert out["changes"]["services"] == [] and out["changes"]["setting"] is None
    assert out["changes"]["before"] == out["changes"]["after"] == "insufficient_information"


def test_an_addition_can_move_a_case_the_other_way(case_file):
    """Facts that fail a criterion move it to not met, and the diff says so."""
    out = json.loads(
        run(str(case_file), "--add", "Symptoms began 2 weeks ago; no conservative care yet.", "-f", "json").output
    )
    criteria = {c["id"]: (c["before"], c["after"]) for s in out["changes"]["services"] for c in s["criteria"]}
    assert criteria["failed-conservative-care"] == ("unknown", "not_met")
    assert all(before != after for before, after in criteria.values())
    assert out["changes"]["after"] == out["determination"] == "not_medically_necessary"


def test_articles_without_a_follow_up_have_no_changes_and_stored_json_still_loads(case_file):
    plain = json.loads(run(str(case_file), "-f", "json").output)
    assert "changes" not in plain  # the output contract is unchanged for every other article
    golden = (Path(__file__).parent / "golden" / "d04_discectomy_sciatica_only.json").read_text()
    assert Assessment.model_validate_json(golden).changes is None
    assert "What changed" not in run(str(case_file)).output


def test_html_and_patient_articles_open_with_what_changed_and_escape_the_facts(case_file):
    hostile = '<script>alert("x")</script> MRI shows an L5-S1 disc extrusion compressing the left S1 nerve root'
    page = run(str(case_file), "--add", PT, "--add", hostile, "-f", "html").output
    assert "<script>alert" not in page and "&lt;script&gt;" in page  # the record shows it, escaped
    assert page.index('<section id="what-changed">') < page.index("<h2>Criteria</h2>")
    assert page.index("</h1>") < page.index('<section id="what-changed">')
    assert "<code>root-compression</code> not documented → <strong>met</strong>" in page
    patient = run(str(case_file), "--add", f"{PT}. {MRI}", "-a", "patient").output
    assert patient.splitlines()[2] == "## What changed"
    assert patient.index("## What changed") < patient.index("## The short answer")
    assert "Non-surgical treatment has been tried for at least 6 weeks" in patient  # the plain wording


def test_a_json_case_and_a_fhir_bundle_take_the_facts(tmp_path):
    json_case = tmp_path / "case.json"
    json_case.write_text(json.dumps({"text": SCIATICA, "age": 47}))
    out = json.loads(run(str(json_case), "--add", PT, "--add", MRI, "-f", "json").output)
    assert out["changes"]["after"] == "medically_necessary" and out["case"]["age"] == 47  # given fields kept
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(record_bundle(SCIATICA, ["63030"])))
    out = json.loads(run(str(bundle), "--add", PT, "--add", MRI, "-f", "json").output)
    assert out["changes"]["before"] == "insufficient_information" and out["determination"] == "medically_necessary"
    assert [p["title"] for p in out["case"]["parts"]][-1] == "Follow-up"  # one more note in the record
    with_findings = tmp_path / "findings.json"
    with_findings.write_text(json.dumps({"text": SCIATICA, "findings": []}))
    res = run(str(with_findings), "--add", PT)
    assert res.exit_code == 2 and "lists its findings" in res.output


def test_a_question_goes_to_ask_with_the_procedure_as_context(case_file, monkeypatch):
    from indicated.engine import Engine

    asked = []
    real = Engine.ask

    def spy(self, question):
        asked.append(question)
        return real(self, question)

    monkeypatch.setattr(Engine, "ask", spy)
    out = json.loads(run(str(case_file), "--add", "Is 6 weeks enough?", "-f", "json").output)
    assert asked == [
        "Is 6 weeks enough? (Lumbar discectomy for disc herniation with radiculopathy (primary and revision))"
    ]
    changes = out["changes"]
    assert changes["facts_added"] is False and changes["services"] == []
    (answer,) = changes["answers"]
    assert answer["question"] == "Is 6 weeks enough?" and answer["answered"] and answer["sentences"]
    text = run(str(case_file), "--add", f"{PT}. Is 6 weeks enough?").output
    head = text.partition("## Criteria")[0]
    assert "### Your follow-up questions" in head and "**Is 6 weeks enough?**" in head
    assert "`failed-conservative-care` not documented → **met**" in head  # the fact counted


def test_empty_follow_ups_are_refused(case_file):
    for empty in ("", "  ", "?"):
        res = run(str(case_file), "--add", empty)
        assert res.exit_code == 2 and "the follow-up is empty" in res.output


def test_split_and_paragraph():
    assert followup.split(["8 weeks of PT failed; MRI shows L5 root compression", "Is 6 weeks enough? She is 47."]) == (
        ["8 weeks of PT failed; MRI shows L5 root compression", "She is 47."],
        ["Is 6 weeks enough?"],
    )
    assert followup.with_paragraph("Note.\n", ["one", "two."]) == "Note.\n\none. two."
    assert followup.with_paragraph("", ["one"]) == "one."


def _service(code: str, determination: Determination, *criteria: tuple[str, str]) -> ServiceResult:
    return ServiceResult(
        code=code,
        determination=determination,
        criteria=[CriterionResult(id=i, status=s, statement=f"{i} holds.") for i, s in criteria],
    )


def test_diff_names_services_requested_or_dropped_by_the_facts():
    nn, mn = Determination.NOT_MEDICALLY_NECESSARY, Determination.MEDICALLY_NECESSARY
    before = Assessment(determination=mn, case=Case(), services=[_service("1", mn, ("a", "met"))])
    after = Assessment(
        determination=Determination.PARTIALLY_MEDICALLY_NECESSARY,
        case=Case(),
        services=[_service("1", mn, ("a", "met")), _service("2", nn, ("b", "not_met"))],
    )
    changes = followup.diff(before, after)
    (added,) = changes.services
    assert (added.code, added.before, added.after) == ("2", None, nn)
    assert [(c.id, c.before, c.after) for c in added.criteria] == [("b", None, "not_met")]
    back = followup.diff(after, before)
    assert [(s.code, s.before, s.after) for s in back.services] == [("2", nn, None)]
    text = "\n".join(followup.what_changed(back))
    assert "no longer requested (was not medically necessary)" in text and "`b` not met → **not judged**" in text


# ---- the web page ---------------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path) -> TestClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.db'}", max_body=200_000)
    client = TestClient(create_app(settings, warm=False), raise_server_exceptions=False)
    with db.sessions(db.engine_for(settings.database_url))() as s:
        repo.add_reviewer(s, username="rev", password=PASSWORD)
    return client


def _paste(client: TestClient, case: str) -> str:
    page = client.post("/ui/assess", data={"case": case, "policy_set": "clinical"})
    assert page.status_code == 200, page.text[:300]
    return page.url.path.rsplit("/", 1)[-1]


def _sign_in(client: TestClient) -> None:
    ok = client.post("/ui/login", data={"username": "rev", "password": PASSWORD, "next": "/"})
    assert ok.status_code == 200


def _total(client: TestClient) -> int:
    return client.get("/assessments").json()["total"]


def test_the_web_box_refuses_anyone_not_signed_in(client):
    _sign_in(client)
    aid = _paste(client, SCIATICA)
    client.cookies.clear()
    page = client.get(f"/ui/assessments/{aid}")
    assert page.url.path == "/ui/login" and 'name="facts"' not in page.text  # the case is not shown either
    res = client.post(f"/ui/assessments/{aid}/followup", data={"facts": f"{PT}. {MRI}."}, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"].startswith("/ui/login")
    client.cookies.set("indicated_session", "forged")
    res = client.post(f"/ui/assessments/{aid}/followup", data={"facts": f"{PT}."}, follow_redirects=False)
    assert res.status_code == 303
    _sign_in(client)
    assert _total(client) == 1 and client.get(f"/assessments/{aid}").json()["audit"] == []


def test_the_web_box_reassesses_stores_a_linked_article_and_audits_it(client, caplog):
    _sign_in(client)
    aid = _paste(client, SCIATICA)
    assert 'name="facts"' in client.get(f"/ui/assessments/{aid}").text
    marker = "Zebulon-Quattrocchi"
    with caplog.at_level(logging.DEBUG):
        page = client.post(
            f"/ui/assessments/{aid}/followup", data={"facts": f"{PT}. {MRI}. Seen by {marker} <b>today</b>."}
        )
    assert page.status_code == 200 and marker not in caplog.text  # case text never in the logs
    new = page.url.path.rsplit("/", 1)[-1]
    assert new != aid and _total(client) == 2
    article = page.text.split('<article id="article">')[1]
    assert article.index("</h1>") < article.index('<section id="what-changed">') < article.index("<h2>Criteria</h2>")
    changed = article.split('<section id="what-changed">')[1].split("</section>")[0]
    assert "<strong>insufficient information</strong> to <strong>medically necessary</strong>" in changed
    assert set(re.findall(r"<code>([a-z0-9-]+)</code> not documented → <strong>met</strong>", changed)) == MOVED
    assert "<b>today</b>" not in page.text and "&lt;b&gt;today&lt;/b&gt;" in page.text  # escaped in the record
    assert f'href="/ui/assessments/{aid}"' in page.text.split('id="follows"')[1][:200]
    old = client.get(f"/ui/assessments/{aid}")
    assert f'href="/ui/assessments/{new}"' in old.text.split('id="follow-ups"')[1][:300]
    stored = client.get(f"/assessments/{new}").json()
    assert stored["assessment"]["determination"] == "medically_necessary" and stored["state"] == "submitted"
    assert stored["assessment"]["changes"]["follows"] == aid
    assert client.get(f"/assessments/{aid}").json()["assessment"]["determination"] == "insufficient_information"
    audits = client.get(f"/assessments/{aid}").json()["audit"] + stored["audit"]
    assert [(e["reviewer"], e["from"], e["to"]) for e in audits] == [("rev", "submitted", "submitted")] * 2
    assert new in audits[0]["why"] and aid in audits[1]["why"]
    assert all(marker not in e["why"] and "PT" not in e["why"] for e in audits)  # the facts stay out


def test_the_web_box_answers_a_question_without_storing_anything(client):
    _sign_in(client)
    aid = _paste(client, SCIATICA)
    page = client.post(f"/ui/assessments/{aid}/followup", data={"facts": "Is 6 weeks enough?"})
    assert page.status_code == 200 and _total(client) == 1
    answers = page.text.split('id="follow-up-answers"')[1]
    assert "<strong>Is 6 weeks enough?</strong>" in answers and "<li>" in answers
    assert client.get(f"/assessments/{aid}").json()["audit"] == []
    empty = client.post(f"/ui/assessments/{aid}/followup", data={"facts": "   "})
    assert empty.status_code == 422 and "Write the facts to add" in empty.text and _total(client) == 1


def test_the_web_box_takes_a_json_case_and_refuses_a_coded_record(client):
    _sign_in(client)
    aid = _paste(client, json.dumps({"text": SCIATICA, "age": 47}))
    page = client.post(f"/ui/assessments/{aid}/followup", data={"facts": f"{PT}. {MRI}."})
    new = page.url.path.rsplit("/", 1)[-1]
    stored = client.get(f"/assessments/{new}").json()
    assert stored["source"] == "json" and stored["assessment"]["case"]["age"] == 47
    assert stored["assessment"]["changes"]["after"] == "medically_necessary"
    fhir = client.post("/assessments", json=record_bundle(SCIATICA, ["63030"])).json()["id"]
    before = _total(client)
    refused = client.post(f"/ui/assessments/{fhir}/followup", data={"facts": f"{PT}."})
    assert refused.status_code == 422 and "coded record" in refused.text and _total(client) == before
