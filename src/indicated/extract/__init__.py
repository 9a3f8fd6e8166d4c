"""extract: text -> Case. Facts keep the character spans that state them."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from indicated.extract.dates import latest_date, note_date
from indicated.extract.demographics import age_and_sex
from indicated.extract.findings import findings, mark_assertions
from indicated.extract.record import layout
from indicated.extract.services import requested_services, requested_setting
from indicated.extract.summary import case_levels, summarize
from indicated.models import Case

if TYPE_CHECKING:  # pragma: no cover
    from indicated.engine import Engine

__all__ = ["extract"]


def extract(text: str, *, engine: Engine, as_of: date | None = None) -> Case:
    """Read one case text into a Case (deterministic: same text and date, same Case) with the
    engine's knowledge and the pipeline built from it.

    Dates written only as a year are counted from the note's own date, else from ``as_of``.
    """
    kb = engine.knowledge
    doc = engine.nlp(unwrap(text))
    mark_assertions(doc)
    lay = layout(doc, kb)
    written = note_date(text) or latest_date(text)  # the note's own date, else the latest it writes
    services, review = requested_services(doc, kb, lay)
    facts = findings(doc, kb, written or as_of, lay, review)
    age, sex = age_and_sex(text, written)
    case = Case(
        text=text,
        age=age,
        sex=sex,
        review=review.kind,
        levels=case_levels(text, services, lay),
        findings=facts,
        services=services,
        setting=requested_setting(doc, lay),
    )
    return summarize(_respan(case, text), kb)


_WRAPPED = re.compile(
    r"(?<=[^\n])\r?\n(?=[ \t]*[^\s•*\-])(?![ \t]*[A-Z][A-Za-z /&-]{1,30}:)(?![ \t]*[LTSC]\d{1,2}\s*[-/]\s*[LTSC]?\d{1,2}\s*:)"
    r"(?![ \t]*(?:\d{5}|\d{1,2}[.)])\s)"  # a line of a code table ("22612  Posterolateral ...") or a numbered list
)


def unwrap(text: str) -> str:
    """Join hard-wrapped lines ("physical\\ntherapy") so phrases match, keeping every offset.

    Blank lines, bullets, "Heading:" lines, numbered items, code-table lines and a report's level lines
    ("L4-5: ...") still start a new statement.
    """
    return _WRAPPED.sub(lambda m: " " * len(m.group(0)), text)


def _respan(case: Case, text: str) -> Case:
    """Evidence quotes the record exactly as written, line breaks included."""
    spans = [e for f in case.findings for e in f.evidence] + [e for s in case.services for e in s.evidence]
    spans += case.setting.evidence if case.setting else []
    for span in spans:
        span.text = text[span.start : span.end]
    return case
