"""Where in the spine words place a procedure or a treatment: by their levels, else the region words
beside them ("C5-6 discectomy", "fusion of the sacroiliac joint", "Lumbar: 4 months of PT")."""

from __future__ import annotations

import re

from indicated.extract import levels as lv
from indicated.kb.loader import Knowledge


def region_of_segments(kb: Knowledge, segments: list[str]) -> str | None:
    """The region motion segments lie in: any cervical vertebra makes it cervical (C7-T1), any lumbar
    or sacral one lumbar (a T10-L2 span), else the region of their letters (T10-T11 is thoracic)."""
    letters = letters_of(segments)
    for region in kb.procedures.spanning_order:
        if letters & set(kb.regions[region].letters):
            return region
    return None


def letters_of(segments: list[str]) -> set[str]:
    return {seg[:1] for s in segments for seg in s.split("-")}


_OF_REGION = re.compile(
    r"\s+(?:of|at|in|on)\s+(?:the\s+|his\s+|her\s+|my\s+)?(?:(?:left|right|bilateral|upper|lower|mid)\s+)?",
    re.IGNORECASE,
)


def _named_after(kb: Knowledge, joint: re.Pattern[str], text: str, end: int) -> str | None:
    """The region a region word names right after ``end``, joined by ``joint`` ("of the", "for her left")."""
    m = joint.match(text, end)
    if m:
        for rid, rx in kb.region_words.items():
            if rx.match(text, m.end()):
                return rid
    return None


def place(kb: Knowledge, text: str, start: int, end: int, lo: int, levels: list[str]) -> str | None:
    """Where a procedure word is done: the region its levels lie in, else the region named right after
    it ("fusion of the sacroiliac joint"), else the nearest region word before it in its clause
    ("posterior cervical decompression and fusion"); None when nothing says."""
    if levels:
        return region_of_segments(kb, levels)
    if after := _named_after(kb, _OF_REGION, text, end):
        return after
    clause = max(lo, text.rfind(";", lo, start) + 1, text.rfind(":", lo, start) + 1)
    nearest = max(
        ((m.end(), rid) for rid, rx in kb.region_words.items() for m in rx.finditer(text, clause, start)),
        default=None,
    )
    return nearest[1] if nearest else None


_FOR_REGION = re.compile(
    r"\s+(?:for|to|of|at|in|on|into)\s+(?:the\s+|his\s+|her\s+|my\s+|your\s+)?(?:(?:left|right|upper|lower|mid)\s+)?",
    re.IGNORECASE,
)
_BESIDE = 30  # characters around a treatment word that may say where it was given ("a lumbar ", "at L4-5")


def place_care(kb: Knowledge, text: str, start: int, end: int, lo: int) -> str | None:
    """Where a treatment was given, only when words right beside it say so: a region word or levels just
    before ("lumbar ESIs", "C6-7 interlaminar injection") or levels just after ("ESI at L4-5"), or a
    heading that is a region word alone ("Lumbar: 4 months of PT"). A sentence that names several levels
    leaves the care unplaced, so it counts for every operation asked for."""
    before = text[max(lo, start - _BESIDE) : start]
    cut = max(before.rfind(","), before.rfind(";"), before.rfind(":"))
    before = before[cut + 1 :]
    words = [(m.end(), rid) for rid, rx in kb.region_words.items() for m in rx.finditer(before)]
    segments = [seg for m in lv.levels(before) for seg in m.segments]
    segments += [seg for m in lv.levels(text[end : end + 12]) for seg in m.segments]
    if segments:
        return region_of_segments(kb, segments)
    if words:
        return max(words)[1]
    if after := _named_after(kb, _FOR_REGION, text, end):  # "8 weeks of PT for the neck", "injections in my low back"
        return after
    heading = text[lo : max(lo, text.find(":", lo, start))].strip()
    for rid, rx in kb.region_words.items():
        if heading and rx.fullmatch(heading):
            return rid
    return None
