"""The determination article for patients: the same answer in short sentences and everyday words.

It uses each criterion's ``plain`` wording and each component's plain question, names procedures by
what they do, explains the few terms it cannot avoid (billing codes, spine levels), and keeps the
numbered sources so a patient can show them to a doctor. It aims at a reading grade of 8 or below.
The everyday names of procedures and the glossary come with the Assessment, as the engine knew them
when it judged the request.
"""

from __future__ import annotations

import re
from datetime import date

from indicated.models import Assessment, CriterionResult, ServiceResult
from indicated.reasons import checklist, excluded, turning_points
from indicated.render.parts import Citations, footer, reference_line
from indicated.wording import WORDING

__all__ = ["to_patient_markdown"]

MARK = {"met": "Yes", "not_met": "No", "unknown": "Not in your records"}
# a rule that something must not be true, and your records show it is: say the fact, not "No: you do not ..."
STANDS_IN_THE_WAY = "This stands in the way"
CHANGED_FACT = "The answer could change if this were no longer true"
TAKEN_AS_TRUE = "Your records do not mention this, so we took it as true."
DISCLAIMER = (
    "This is not a final decision. It is not medical advice. It checks your records against rules "
    "that health plans and doctors publish. If a rule is not met, a doctor looks at the request. "
    "No one is turned down by this tool alone. Talk with your doctor about your care."
)


def to_patient_markdown(assessment: Assessment, *, today: date | None = None, **_: object) -> str:
    """The article for patients; other options (a ``kb`` from older callers) are ignored."""
    a = assessment
    cite = Citations(a.references)
    out = [f"# {_title(a)}", "", "## The short answer", ""]
    if a.review == "performed":
        out += ["This looks back at care you already had, using what your records said before it.", ""]
    if implied := [s for s in a.services if s.implied]:
        out += [
            f"Your question did not name an operation, so we checked {_name(implied[0])}, the usual one for what your records show.",
            "",
        ]
    out += [WORDING[a.determination].short_answer, ""]
    out += ["## What we checked", ""]
    for s in a.services:
        if s.criteria:
            out += [f"### {_name(s).capitalize()} (code {s.code})", "", *_checked(s.criteria, cite), ""]
    if not any(s.criteria for s in a.services):
        out += ["We found nothing in our rules to check for this request.", ""]
    if a.components:
        out += ["## The parts of your care", ""]
        for comp in a.components:
            out += [f"- **{comp.plain_question}** {comp.plain_answer}"]
        out += [""]
    out += ["## What could change the answer", "", *(f"- {c}" for c in _changes(a)), ""]
    out += ["## Final answer", ""]
    out += [
        f"{i}. {_name(s).capitalize()} (code {s.code}): {WORDING[s.determination].plain_final}."
        for i, s in enumerate(a.services, 1)
    ]
    if not a.services:
        out += ["1. We could not find what care was asked for."]
    out += [""]
    glossary = _glossary("\n".join(out), a.glossary)
    out += ["## Sources", "", *([reference_line(r) for r in cite.references()] or ["None."]), ""]
    if a.related_questions:
        out += ["## Questions people also ask", "", *(f"- {q}" for q in a.related_questions), ""]
    out += glossary
    out += ["## Please note", "", DISCLAIMER, "", footer(a, today), ""]
    return "\n".join(out)


def _title(a: Assessment) -> str:
    primary = next((s for s in a.services if not s.serves), None)
    if primary is None:
        return "Your request: no care could be found in it"
    where = f" at {a.level_term} {', '.join(primary.levels)}" if primary.levels else ""
    side = f", {primary.side} side" if primary.side else ""
    return f"Your request: {_name(primary)}{where}{side}"


def _name(s: ServiceResult) -> str:
    return s.plain_description or s.description or "care"


def _checked(criteria: list[CriterionResult], cite: Citations) -> list[str]:
    """The rules that decided the answer, in the reader's own terms: what stands in the way and what is
    missing first, then what is met, each met rule through the way it was met ("there are danger
    signs"), not every way it could have been. A rule against something (smoking) that the records show
    is said as the fact ("You smoke or use nicotine now"), never as "No: you do not smoke"."""
    lines = []
    for c in checklist(criteria):
        found = excluded(c, criteria)
        if found is not None:
            line = f"- **{STANDS_IN_THE_WAY}:** {found.plain or found.statement}"
        else:
            line = f"- **{MARK[c.status]}:** {c.plain or c.statement}"
            if c.assumed and c.status == "met":
                line += f" {TAKEN_AS_TRUE}"
        lines.append(f"{line} {cite.cite(c.citations)}".rstrip())
    return lines


def _changes(a: Assessment) -> list[str]:
    out: dict[str, None] = {}
    for s in a.services:
        for c in turning_points(s.determination, s.criteria):
            if (found := excluded(c, s.criteria)) is not None:
                out[f"{CHANGED_FACT}: {_lower(found.plain or found.statement)}"] = None
            else:
                out[f"{WORDING[s.determination].plain_change}: {_lower(c.plain or c.statement)}"] = None
    return list(out) or ["Nothing we found in your records would change it."]


def _glossary(text: str, glossary: dict[str, str]) -> list[str]:
    """Plain meanings of the terms the article could not avoid, only those its own text uses (``text``
    is the article before its sources, whose titles are not the reader's words)."""
    used = [
        (term, meaning)
        for term, meaning in glossary.items()
        if re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", text, re.IGNORECASE)
    ]
    if not used:
        return []
    return ["## Words used here", "", *(f"- **{t}**: {m}" for t, m in used), ""]


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
