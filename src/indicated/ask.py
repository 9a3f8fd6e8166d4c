"""ask: a topic question -> an extractive answer from the evidence library, every sentence cited.

Nothing is generated: the answer is the library's own statements that best match the question, each
followed by its reference number. When the best statements do not cover what the question is about
(most of its rarer words are missing from them) the answer says plainly that the library does not hold
it, rather than quoting something near but beside the point.
"""

from __future__ import annotations

from indicated.errors import InputError
from indicated.kb.loader import Knowledge
from indicated.models import Answer, Cited
from indicated.search import Library

__all__ = ["answer"]

MAX_SENTENCES = 4
PER_SOURCE = 2
KEEP = 0.6  # keep statements scoring at least this share of the best one
MIN_COVERAGE = 0.5
NEAR = 0.85
RELATED = 5
NOT_HELD = (
    "The evidence library does not hold an answer to this question. It covers the medical necessity of "
    "{covers}; rephrase with the procedure or the condition, or see the related questions."
)


def answer(question: str, kb: Knowledge, lib: Library) -> Answer:
    """The library's statements that answer ``question`` (an engine's :meth:`~indicated.engine.Engine.ask`)."""
    question = " ".join(question.split())
    if not question:
        raise InputError("the question is empty")
    nearest = lib.questions(question, k=RELATED + 1)
    # the records of the bank questions nearly as close as the best one: a question worded like a
    # patient's matches the bank better than the library's technical statements
    prefer = [ref for h in nearest[:3] if h.score >= NEAR * nearest[0].score for ref in kb.questions[h.id].sources]
    hits = lib.statements(question, k=24, prefer=prefer)
    chosen: list[str] = []
    per_source: dict[str, int] = {}
    for h in hits:
        source = kb.statements[h.id][0].id
        if h.score < KEEP * hits[0].score or len(chosen) == MAX_SENTENCES or per_source.get(source, 0) == PER_SOURCE:
            continue
        chosen.append(h.id)
        per_source[source] = per_source.get(source, 0) + 1
    # related questions as the article chooses them: near the question and covering its several sides
    related = [
        kb.questions[h.id].text
        for h in lib.suggest(question, k=RELATED + 1)
        if kb.questions[h.id].text.lower() != question.lower()
    ]
    held = [_statement_doc(kb, sid) for sid in chosen] + ([_question_text(kb, nearest[0].id)] if nearest else [])
    if not chosen or lib.uncovered_families(question) or lib.coverage(question, held) < MIN_COVERAGE:
        return Answer(
            question=question,
            answered=False,
            note=NOT_HELD.format(covers=kb.scope.covers),
            related_questions=related[:RELATED] if chosen else [],
        )
    numbers: dict[str, int] = {}
    sentences = []
    for sid in chosen:
        source, statement = kb.statements[sid]
        sentences.append(Cited(text=statement.text, citations=[numbers.setdefault(source.id, len(numbers) + 1)]))
    return Answer(
        question=question,
        answered=True,
        sentences=sentences,
        references=[kb.reference(ref, n) for ref, n in numbers.items()],
        related_questions=related[:RELATED],
    )


def _statement_doc(kb: Knowledge, sid: str) -> str:
    source, statement = kb.statements[sid]
    return f"{statement.text} {source.title}"


def _question_text(kb: Knowledge, qid: str) -> str:
    q = kb.questions[qid]
    return " ".join([q.text, *q.also])
