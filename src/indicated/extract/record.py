"""The layout of a record: its sections, what each means for the case, and whether the record is an
operative report or discharge summary (which reviews a procedure already performed).

Headings come from medspaCy's sectionizer with the rules of ``knowledge/record.yaml``. The sectionizer
runs a section to the next heading it knows, so a line that opens with any other heading ("HPI:",
"MEDICATIONS:") ends a section too, and a past-history, family or allergy list ends at a blank line.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from indicated.extract.nlp import text_of
from indicated.kb.loader import Knowledge

# a line that opens with a heading of its own: "Social history:", "HPI:", "ASSESSMENT AND PLAN:"
_ANY_HEADING = re.compile(r"^[ \t]*[A-Z][A-Za-z0-9()/&'.,# -]{1,40}:", re.MULTILINE)
_LISTS = {"history", "family", "allergy"}
_LIST_LENGTH = 600  # characters: a procedure list longer than this is a narrative of technique
_PLAIN = re.compile(r"\([^)]*\)|\b\d[\d/.-]*\b")  # what a heading may add: "(05/06/2024)", "#2"


@dataclass(frozen=True)
class Layout:
    """Character ranges of the record's parts that carry a role, in order."""

    parts: list[tuple[int, int, str]] = field(default_factory=list)
    # an operative report or discharge summary: the record reviews a procedure already performed
    operative_report: bool = False
    # consent and risk talk, from its cue to the end of the sentence: nothing named there is a fact
    consent: list[tuple[int, int]] = field(default_factory=list)
    # a post-operative visit note
    follow_up: bool = False

    def in_consent(self, char: int) -> bool:
        return any(a <= char < b for a, b in self.consent)

    def role_at(self, char: int) -> str | None:
        i = bisect_right([p[0] for p in self.parts], char) - 1
        if i >= 0 and self.parts[i][0] <= char < self.parts[i][1]:
            return self.parts[i][2]
        return None

    def has(self, role: str) -> bool:
        return any(r == role for _, _, r in self.parts)


def layout(doc, kb: Knowledge) -> Layout:
    """Read the record's sections once per document (findings and services both ask)."""
    if "layout" in doc.user_data:
        return doc.user_data["layout"]
    text = text_of(doc)
    groups = {f"{i}": g for i, g in enumerate(kb.record.sections)}
    breaks = [m.start() for m in _ANY_HEADING.finditer(text)]
    parts, performed = [], False
    for section in doc._.sections:
        group = groups.get(section.category or "")
        if group is None:
            continue
        performed = performed or group.performed
        start = doc[section.title_span[0]].idx
        body = doc[section.body_span[0]].idx if section.body_span[1] > section.body_span[0] else len(text)
        end = min([b for b in breaks if b > start] + [len(text)])
        if group.role in _LISTS and (blank := text.find("\n\n", body, end)) >= 0:
            end = blank
        parts.append((start, end, group.role))
    # a heading the sectionizer's phrases cannot match for the words added to it: "PROCEDURES (05/06/2024):"
    starts = {p[0] for p in parts}
    known = {h: g for g in kb.record.sections for h in g.headings}
    for m in _ANY_HEADING.finditer(text):
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        group = known.get(_PLAIN.sub("", m.group(0)).strip(" \t:").lower())
        if group is None or start in starts:
            continue
        performed = performed or group.performed
        end = min([b for b in breaks if b > start] + [len(text)])
        if group.role in _LISTS and (blank := text.find("\n\n", m.end(), end)) >= 0:
            end = blank
        parts.append((start, end, group.role))
    parts.sort()
    # "PROCEDURE:" heads the list of what was done, or, in some reports, the whole narrative of how it was
    # done: a long one is technique
    parts = [(a, b, "technique" if role == "procedure" and b - a > _LIST_LENGTH else role) for a, b, role in parts]
    cues = kb.record_cues
    performed = performed or any(rx.search(text) for rx in cues.titles)
    follow_up = any(rx.search(text) for rx in cues.follow_up)
    doc.user_data["layout"] = out = Layout(parts, performed, _consent(doc, kb), follow_up)
    return out


def _consent(doc, kb: Knowledge) -> list[tuple[int, int]]:
    text = text_of(doc)
    found = [(m.start(), m.end()) for rx in kb.record_cues.consent for m in rx.finditer(text)]
    out = []
    for start, end in sorted(found):
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is not None:
            out.append((start, span.sent.end_char))
    return out
