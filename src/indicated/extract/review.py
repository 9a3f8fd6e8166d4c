"""Whether a record asks for a procedure or reviews one the patient already had, and which procedure
mentions are the ones under review (DESIGN.md, "Requests, performed procedures and scope").

A record reviews a performed procedure when it is an operative report or discharge summary, when it
asks about the past ("Was the L4-5 laminectomy ... medically indicated?", "retrospective review"), or
when every procedure its question names is one the patient underwent ("... who underwent a
laminectomy and fusion?"). A procedure tied to an earlier time ("prior", "in 2019", "two years ago")
is an earlier operation, not the one under review, unless nothing else is named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from indicated.extract.nlp import text_of
from indicated.extract.record import Layout
from indicated.kb.loader import Knowledge
from indicated.models import ReviewKind

# an operation tied to a time or place of its own: "... fusion in July 2023", "... 2 years ago", "... at another
# institution"
_EARLIER_TIME = r"ago|(?:in|on)\s+(?:\w+\s+)?(?:19|20)\d\d|last\s+(?:spring|summer|fall|autumn|winter|year|month)"
WHEN = re.compile(
    rf"^[^.;]{{0,40}}?\b(?:{_EARLIER_TIME}|(?:19|20)\d\d|\d{{1,2}}/(?:\d{{1,2}}/)?\d{{2,4}}|"
    r"at\s+(?:another|an\s+outside|outside|a\s+different)\s+(?:institution|hospital|facility|center)|elsewhere)\b",
    re.IGNORECASE,
)


# "had an L5-S1 TLIF (22630, 22840) in February 2024", "pain after a laminectomy and fusion (63047, 22612) in
# 2022": an operation named after a past cue and followed by a time of its own is an earlier one, even in a
# sentence that asks for something else; the codes in brackets after it are skipped
_EARLIER_CUE = re.compile(
    r"\b(?:s/p|status\s+post|h/o|hx|history\s+of|prior|previous|previously|underwent|had|has\s+had|after|following|since)\b"
    r"[^.;?]{0,120}$",
    re.IGNORECASE,
)
_CODES_IN_BRACKETS = re.compile(
    r"\s*\(\s*\d{5}(?:\s*(?:,|/|&|\band\b)\s*\d{5})*\s*\)|^(?:\s*(?:,|/|&|\band\b)\s*\d{5}\b)*\s*\)"
)


# "... with pedicle screws in 2022 (22630, 22632, 22842 at that time)": the codes bracketed after the time
_TIME_THEN_CODES = re.compile(rf"\b(?:{_EARLIER_TIME})\s*\((?:\s*CPT:?)?(?:\s*\d{{5}}\s*,)*\s*$", re.IGNORECASE)


def tied_to_earlier_time(before: str, after: str) -> bool:
    """Whether words (a procedure, or its code) told with ``before`` and ``after`` in their sentence name an
    earlier operation: a past cue before them and a time of its own after them (or, for bracketed codes,
    right before them)."""
    if not _EARLIER_CUE.search(before):
        return False
    return bool(WHEN.match(_CODES_IN_BRACKETS.sub("", after)) or _TIME_THEN_CODES.search(before))


@dataclass(frozen=True)
class Review:
    kind: ReviewKind = "prospective"
    # the procedure mentions (spaCy spans) under review; empty for a prospective request
    mentions: list = field(default_factory=list)

    @property
    def performed(self) -> bool:
        return self.kind == "performed"

    def reviews(self, ent) -> bool:
        return any(e.start_char == ent.start_char for e in self.mentions)


def review_of(doc, kb: Knowledge, lay: Layout, candidates: list, asks: Callable[[str], bool]) -> Review:
    """Decide the review and the mentions under it, from the candidate procedure mentions (those not
    negated, not family history and not in a past-history section); ``asks`` tells a sentence that
    asks for something."""
    found = kb.record_cues
    earlier = found.earlier
    text = text_of(doc)
    listed = [e for e in candidates if lay.role_at(e.start_char) == "procedure"]
    if lay.operative_report:
        # an operative report's earlier operations are its history, never what it reports
        tied = _tied(candidates, earlier, text)
        return Review("performed", listed or [e for e in candidates if e not in tied])
    # a follow-up note headed by what was done: "Procedure: L4-5 TLIF, performed 12/03/2024"
    others_asked = any(asks(e.sent.text) for e in candidates if e not in listed)
    done = all(found.done.search(e.sent.text) or WHEN.match(text[e.end_char : e.sent.end_char]) for e in listed)
    if listed and done and not others_asked:
        return Review("performed", listed)
    # a post-operative visit that asks for nothing new reviews the operation it follows
    if lay.follow_up and candidates and not any(asks(e.sent.text) for e in candidates):
        return Review("performed", _not_earlier(candidates, earlier, text))
    asking = [e for e in candidates if asks(e.sent.text)]
    about_past = any(rx.search(text) for rx in found.anywhere) or any(
        rx.search(s.text) for s in doc.sents if asks(s.text) for rx in found.questions
    )
    if about_past and (asking or candidates):
        return Review("performed", _not_earlier(asking or candidates, earlier, text))
    if asking and all(_done(e, found.done, text) for e in asking):
        return Review("performed", _not_earlier(asking, earlier, text))
    return Review()


def _done(ent, done: re.Pattern[str], text: str) -> bool:
    """Whether the question ties this procedure to the past before naming it ("who underwent a
    laminectomy, fusion and bone marrow aspiration")."""
    return bool(done.search(text, ent.sent.start_char, ent.start_char))


def _not_earlier(mentions: list, earlier: re.Pattern[str], text: str) -> list:
    """The mentions not tied to an earlier time; all of them when every one is."""
    tied = _tied(mentions, earlier, text)
    return [e for e in mentions if e not in tied] or mentions


def earlier_operations(kb: Knowledge, mentions: list, text: str) -> list:
    """The mentions tied to an earlier time ("prior L4-5 laminectomy", "microdiscectomy in 2019", "two
    years ago", "at another institution"): in a review, any other past mention tells the operation under
    review again ("she returns six weeks after her microdiscectomy")."""
    return _tied(mentions, kb.record_cues.earlier, text)


def _tied(mentions: list, earlier: re.Pattern[str], text: str) -> list:
    return [
        e
        for e in mentions
        if earlier.search(text[max(e.sent.start_char, e.start_char - 40) : e.start_char])
        or WHEN.match(text[e.end_char : e.sent.end_char])
    ]
