"""The determination article for patients: the same answer in short sentences and everyday words.

It uses each criterion's ``plain`` wording and each component's plain question, names procedures by
what they do, explains the few terms it cannot avoid (billing codes, spine levels), and keeps the
numbered sources so a patient can show them to a doctor. It aims at a reading grade of 8 or below.
"""

from __future__ import annotations

import re
from datetime import date

from indicated.engine import Engine
from indicated.explain.reasons import met_through, turning_points
from indicated.kb.loader import Knowledge
from indicated.models import Assessment, CriterionResult, Determination, ServiceResult
from indicated.render.markdown import cites, footer, reference_line

__all__ = ["to_patient_markdown"]

D = Determination
SHORT_ANSWER = {
    D.MEDICALLY_NECESSARY: "Yes. Your records show that this care meets the rules for being medically needed.",
    D.PARTIALLY_MEDICALLY_NECESSARY: "In part. Some of what was asked for meets the rules. Some of it does not yet.",
    D.NOT_MEDICALLY_NECESSARY: (
        "Not yet. Your records do not meet the rules for this care. This is not a final no. A doctor will look at the request."
    ),
    D.INSUFFICIENT_INFORMATION: "We cannot tell yet. Some facts that the rules ask for are not in your records.",
    D.NO_APPLICABLE_POLICY: "We cannot answer this one. Our rules do not cover what was asked for.",
}
MARK = {"met": "Yes", "not_met": "No", "unknown": "Not in your records"}
FINAL = {
    D.MEDICALLY_NECESSARY: "meets the rules",
    D.NOT_MEDICALLY_NECESSARY: "does not meet the rules yet; a doctor will review it",
    D.INSUFFICIENT_INFORMATION: "we need more facts to decide",
    D.NO_APPLICABLE_POLICY: "our rules do not cover it",
    D.PARTIALLY_MEDICALLY_NECESSARY: "meets the rules in part",
}
CHANGE = {
    D.INSUFFICIENT_INFORMATION: "Your records do not show this yet",
    D.NOT_MEDICALLY_NECESSARY: "This rule is not met now",
    D.MEDICALLY_NECESSARY: "The answer could change if this were true",
}
DISCLAIMER = (
    "This is not a final decision. It is not medical advice. It checks your records against rules "
    "that health plans and doctors publish. If a rule is not met, a doctor looks at the request. "
    "No one is turned down by this tool alone. Talk with your doctor about your care."
)


def to_patient_markdown(assessment: Assessment, *, kb: Knowledge | None = None, today: date | None = None) -> str:
    kb = kb or Engine.bundled().knowledge
    a = assessment
    out = [f"# {_title(a, kb)}", "", "## The short answer", ""]
    if a.review == "performed":
        out += ["This looks back at care you already had, using what your records said before it.", ""]
    out += [SHORT_ANSWER[a.determination], ""]
    out += ["## What we checked", ""]
    for s in a.services:
        if s.criteria:
            out += [f"### {_name(s, kb).capitalize()} (code {s.code})", "", *_checked(s.criteria), ""]
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
        f"{i}. {_name(s, kb).capitalize()} (code {s.code}): {FINAL[s.determination]}."
        for i, s in enumerate(a.services, 1)
    ]
    if not a.services:
        out += ["1. We could not find what care was asked for."]
    out += [""]
    out += ["## Sources", "", *([reference_line(r) for r in a.references] or ["None."]), ""]
    if a.related_questions:
        out += ["## Questions people also ask", "", *(f"- {q}" for q in a.related_questions), ""]
    out += _glossary("\n".join(out), kb)
    out += ["## Please note", "", DISCLAIMER, "", footer(a, today), ""]
    return "\n".join(out)


def _title(a: Assessment, kb: Knowledge) -> str:
    primary = next((s for s in a.services if not s.serves), None)
    if primary is None:
        return "Your request: no care could be found in it"
    where = f" at spine level {', '.join(primary.levels)}" if primary.levels else ""
    side = f", {primary.side} side" if primary.side else ""
    return f"Your request: {_name(primary, kb)}{where}{side}"


def _name(s: ServiceResult, kb: Knowledge) -> str:
    code = kb.codes.get(s.code)
    return kb.components.families.get(code.family, s.description) if code else (s.description or "care")


def _checked(criteria: list[CriterionResult]) -> list[str]:
    """The first level of the tree: what a patient can follow without the branches under it. A rule
    met one of two ways says which ("there are danger signs"), not both ("therapy, unless danger signs")."""
    shown = [met_through(c, criteria, steps=1) if c.status == "met" else c for c in criteria if c.depth == 1]
    return [f"- **{MARK[c.status]}:** {c.plain or c.statement} {cites(c.citations)}".rstrip() for c in shown]


def _changes(a: Assessment) -> list[str]:
    out = {
        f"{CHANGE[s.determination]}: {_lower(c.plain or c.statement)}": None
        for s in a.services
        for c in turning_points(s.determination, s.criteria)
    }
    return list(out) or ["Nothing we found in your records would change it."]


def _glossary(text: str, kb: Knowledge) -> list[str]:
    """Plain meanings of the terms the article could not avoid, only those it actually uses."""
    used = [
        (term, meaning)
        for term, meaning in kb.components.glossary.items()
        if re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", text, re.IGNORECASE)
    ]
    if not used:
        return []
    return ["## Words used here", "", *(f"- **{t}**: {m}" for t, m in used), ""]


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text
