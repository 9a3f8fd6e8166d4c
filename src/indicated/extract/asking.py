"""What a sentence asks for, and what it only weighs: request wording ("requested", "plan", "is ...
medically necessary", "?") that is not denied ("is not requested"), and options talked over
("Options discussed: fusion or disc replacement", "discussion of repeat discectomy versus fusion")."""

from __future__ import annotations

import re

__all__ = ["REQUEST_CUE", "asks", "weighed"]

REQUEST_CUE = re.compile(
    r"\b(?:request\w*|plan\w*|propos\w*|schedul\w*|recommend\w*|candidate for|authori[sz]\w*|"
    r"medically necessary|medical necessity|indicated|to undergo|would like|wishes to|seeking|seeks|"
    r"consider\w*|offered|booked|pending|surgery:|procedure:|order\w*)\b|\?",
    re.IGNORECASE,
)
_DENIED = re.compile(r"\b(?:not|no|never)\s+(?:\w+\s+)?$|n't\s+(?:\w+\s+)?$", re.IGNORECASE)


def asks(sentence: str) -> bool:
    """Whether a sentence asks for something: request wording that is not denied ("is not requested")."""
    return any(not _DENIED.search(sentence[max(0, m.start() - 15) : m.start()]) for m in REQUEST_CUE.finditer(sentence))


_OPTIONS = re.compile(
    r"\b(?:options?|alternatives?|choices)\b[^.;]{0,20}?(?:\b(?:discussed|include[sd]?|including|incl|such\s+as|are|were|reviewed|considered)\b|:)",
    re.IGNORECASE,
)


_VERSUS = re.compile(r"\s*(?:versus|vs\.?|or)\b", re.IGNORECASE)
_ONLY_VERSUS = re.compile(r"\s*(?:versus|vs\.?)(?=\s)", re.IGNORECASE)
_AFTER_VERSUS = re.compile(r"\b(?:versus|vs\.?)\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)
_TALKED = re.compile(r"\b(?:discussion\s+of|discussed|talked\s+about|considered|weighed)\b", re.IGNORECASE)


def weighed(ent, text: str) -> bool:
    """A procedure or treatment named as one of the options talked over ("Options discussed: ..., L5-S1
    ALIF, or ...", "discussion of repeat discectomy versus fusion versus further conservative care")."""
    lo = ent.sent.start_char
    if _OPTIONS.search(text, lo, ent.start_char):
        return True
    if _ONLY_VERSUS.match(text, ent.end_char) or _AFTER_VERSUS.search(text[lo : ent.start_char]):
        return True  # "Subject: artificial disc vs fusion": a comparison is weighed however it is introduced
    if not _TALKED.search(text, lo, ent.start_char):
        return False
    return bool(_VERSUS.match(text, ent.end_char) or _AFTER_VERSUS.search(text[lo : ent.start_char]))
