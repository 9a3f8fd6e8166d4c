"""The evidence library, the related-question bank and `indicated ask`: retrieval quality is measured
on labelled sets written for the project, and every answer sentence is a cited library statement."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from conftest import edit_yaml
from indicated.cli import app
from indicated.engine import Engine
from indicated.errors import KnowledgeError
from indicated.kb.loader import load

DATA = Path(__file__).parent / "data"
ASK = yaml.safe_load((DATA / "ask_queries.yaml").read_text())


def test_library_size_and_record_shape(kb):
    assert len(kb.sources) >= 60
    assert len(kb.questions) >= 150
    kinds = {s.kind for s in kb.sources.values()}
    assert {"guideline", "payer_policy", "coverage_determination", "study"} <= kinds
    for src in kb.sources.values():
        assert src.title and src.issuer
        for key in src.identifiers:
            assert key in ("pmid", "doi", "url")
    assert sum(len(s.statements) for s in kb.sources.values()) >= 150


def test_bank_questions_are_distinct_and_cover_the_library(kb):
    texts = [q.text.strip().lower() for q in kb.questions.values()]
    assert len(set(texts)) == len(texts)
    cited = {ref for q in kb.questions.values() for ref in q.sources}
    assert len(cited) >= 0.9 * len(kb.sources)


# (set, recall@5 floor, hit@5 floor): issue 5 asks recall@5 >= 0.9 on a labelled set; tuning measured
# 0.931 / 0.989 and heldout 0.944 / 0.955 when last measured. `fresh` (0.846 / 0.984) labels two questions
# a query on average, from the bank's texts alone, and holds a floor near its measured level.
RETRIEVAL_FLOORS = [
    ("related_queries.yaml", 0.9, 0.95),
    ("related_queries_heldout.yaml", 0.9, 0.93),
    ("related_queries_fresh.yaml", 0.8, 0.95),
]


@pytest.mark.parametrize(("name", "recall_floor", "hit_floor"), RETRIEVAL_FLOORS)
def test_related_question_retrieval_on_the_labelled_sets(kb, name, recall_floor, hit_floor):
    queries = yaml.safe_load((DATA / name).read_text())["queries"]
    assert len(queries) >= 40
    recalls, hits = [], []
    for q in queries:
        top = {h.id for h in Engine.of(kb).library.suggest(q["query"], k=5)}
        assert set(q["relevant"]) <= set(kb.questions), q
        found = set(q["relevant"]) & top
        recalls.append(len(found) / len(q["relevant"]))
        hits.append(bool(found))
    assert statistics.mean(recalls) >= recall_floor, statistics.mean(recalls)
    assert statistics.mean(hits) >= hit_floor, statistics.mean(hits)


def test_suggestions_cover_the_sides_of_a_query_that_relevance_alone_crowds_out(kb):
    """A case with three sides (the slip, the therapy so far, smoking): ranked by relevance alone the
    smoking questions fill the list; the suggestions keep one about the slip's own criteria too."""
    query = "TLIF L4-5 grade I DS, 3 mo PT, smoker"
    lib = Engine.of(kb).library
    relevance = [h.id for h in lib.questions(query, k=5)]
    suggested = [h.id for h in lib.suggest(query, k=5)]
    smoking = {qid for qid, q in kb.questions.items() if "smok" in q.text.lower() or "nicotine" in q.text.lower()}
    assert len(suggested) == 5 and len(set(suggested)) == 5
    assert suggested[0] == relevance[0]  # the best match stays first
    assert len(set(suggested) - smoking) > len(set(relevance) - smoking)


def test_an_assessment_gets_related_questions_about_its_own_procedure(kb):
    from indicated.pipeline import assess

    a = assess("Requesting L4-L5 TLIF (22633) for grade 1 degenerative spondylolisthesis with claudication.", kb=kb)
    assert 1 <= len(a.related_questions) <= 5
    assert all(q in {x.text for x in kb.questions.values()} for q in a.related_questions)
    assert any("fusion" in q.lower() or "spondylolisthesis" in q.lower() for q in a.related_questions)


@pytest.mark.parametrize(
    ("text", "region"),
    [
        (
            "Is a C5-C7 posterior cervical laminectomy and fusion medically necessary for myelopathy with mJOA 12?",
            "cervical",
        ),
        (
            "Is a right C6-7 posterior foraminotomy medically necessary for C7 radiculopathy after 8 weeks of PT?",
            "cervical",
        ),
        ("Is an L4-5 laminectomy and fusion medically necessary for stenosis with a grade 1 slip?", "lumbar"),
        ("Is an L5-S1 microdiscectomy medically necessary for S1 radiculopathy after 8 weeks of PT?", "lumbar"),
    ],
)
def test_related_questions_stay_in_the_region_of_the_request(kb, text, region):
    from indicated.pipeline import assess

    a = assess(text, kb=kb)
    by_text = {q.text: q for q in kb.questions.values()}
    assert a.related_questions
    assert all(not by_text[q].regions or region in by_text[q].regions for q in a.related_questions)


def test_a_question_in_an_unknown_region_is_rejected(copy):
    edit_yaml(copy, "questions.yaml", lambda d: d["questions"][0].update(regions=["elbow"]))
    with pytest.raises(KnowledgeError, match=r"questions.yaml: questions.+regions: unknown region 'elbow'"):
        load(copy)


def test_ask_answers_from_the_right_records_with_every_sentence_cited(kb):
    """Every answer is the library's own cited statements; on the labelled set at least 85% of the
    answers cite a record a reviewer would expect (22 of 24 when written)."""
    statements = {st.text for _, st in kb.statements.values()}
    right = 0
    for item in ASK["answerable"]:
        answer = Engine.of(kb).ask(item["question"])
        assert answer.answered, item["question"]
        numbers = {r.n for r in answer.references}
        for sentence in answer.sentences:
            assert sentence.text in statements  # extractive: the library's words, never generated
            assert sentence.citations and set(sentence.citations) <= numbers
        right += bool({r.id for r in answer.references} & set(item["any_of"]))
    assert right >= 0.85 * len(ASK["answerable"]), right


@pytest.mark.parametrize("question", ASK["not_in_library"])
def test_ask_says_plainly_when_the_library_does_not_hold_the_answer(kb, question):
    answer = Engine.of(kb).ask(question)
    assert not answer.answered and not answer.sentences and not answer.references
    assert "does not hold" in answer.note


def test_ask_cli_markdown_json_and_empty_question():
    runner = CliRunner()
    md = runner.invoke(app, ["ask", "When is fusion indicated for recurrent disc herniation?"])
    assert md.exit_code == 0 and "## References" in md.output and "[1]" in md.output
    js = runner.invoke(app, ["ask", "Is cataract surgery covered?", "--format", "json"])
    assert js.exit_code == 0 and json.loads(js.output)["answered"] is False
    empty = runner.invoke(app, ["ask", "   "])
    assert empty.exit_code == 2 and "empty" in empty.output


def test_question_citing_an_unknown_record_is_rejected(copy):
    root = copy
    edit_yaml(root, "questions.yaml", lambda d: d["questions"][0].update(sources=["no-such-record"]))
    with pytest.raises(KnowledgeError, match=r"questions.yaml: questions\..*no-such-record"):
        load(root)


def test_component_quoting_an_unknown_statement_is_rejected(copy):
    root = copy
    edit_yaml(root, "components.yaml", lambda d: d["components"][0].update(evidence=["nope.nothing"]))
    with pytest.raises(KnowledgeError, match=r"unknown statement 'nope\.nothing'"):
        load(root)
    edit_yaml(
        root, "components.yaml", lambda d: d["components"][0].update(evidence=[]) or d["families"].pop("discectomy")
    )
    with pytest.raises(KnowledgeError, match="no plain name for discectomy"):
        load(root)
