"""Attributes of a mention read from the words around it: side, levels, value, duration, response.

Each reader looks only inside the mention's sentence, so a value can never leak from one
statement to another.
"""

from __future__ import annotations

import re

from indicated.extract import dates as dt
from indicated.extract import levels as lv
from indicated.extract import numbers as nums

SIDE_RE = re.compile(
    r"\b(?P<w>bilateral(?:ly)?|bilat|both legs|both lower extremities|left|right|BLE|LLE|RLE|L(?=\s+(?:leg|L\d|S1|EHL))|R(?=\s+(?:leg|L\d|S1|EHL)))\b",
)
_SIDES = {
    "bilateral": "bilateral",
    "bilaterally": "bilateral",
    "bilat": "bilateral",
    "both legs": "bilateral",
    "both lower extremities": "bilateral",
    "ble": "bilateral",
    "left": "left",
    "lle": "left",
    "l": "left",
    "right": "right",
    "rle": "right",
    "r": "right",
}

FAILED_RE = re.compile(
    r"\b(?:fail\w*|no (?:lasting |significant |meaningful |sustained )?(?:relief|benefit|improvement)|without (?:lasting |significant )?"
    r"(?:relief|benefit|improvement)|did not (?:help|improve)|unsuccessful|refractory|ineffective|persistent|despite|"
    r"(?:has|have|had|did)\s+not\s+(?:respond\w*|improv\w*|help\w*)|failed\s+to\s+(?:respond|improve)|unresponsive)\b",
    re.IGNORECASE,
)
TEMPORARY_RE = re.compile(
    r"\b(?:temporary|transient|short[- ]lived|brief|weeks? of relief|days? of relief)\b", re.IGNORECASE
)
PARTIAL_RE = re.compile(r"\bpartial(?:ly)?\b", re.IGNORECASE)


def side(text: str, start: int, end: int, lo: int, hi: int) -> str | None:
    """The laterality word nearest the mention at [start, end) within [lo, hi)."""
    best: tuple[int, str] | None = None
    for m in SIDE_RE.finditer(text, max(lo, start - 60), min(hi, end + 30)):
        dist = start - m.end() if m.end() <= start else m.start() - end
        if m.start() >= start and m.end() <= end:
            dist = -1
        if best is None or dist < best[0]:
            best = (dist, _SIDES[m.group("w").lower()])
    return best[1] if best else None


_JOINED = re.compile(r"\s*(?:,|&|/|\band\b|,\s*and\b)\s*")
# what may stand between a level and the procedure word it belongs to: "an L4-5 decompressive laminectomy"
_NEXT_ONES = re.compile(r"(?:\s+(?!(?:with|and|or|for|to|at|of)\b)[A-Za-z-]+){0,2}\s*$|\s*$")


def segments_near(
    text: str,
    start: int,
    end: int,
    lo: int,
    hi: int,
    stop: int | None = None,
    *,
    compact: bool = False,
    limit: int | None = None,
) -> list[str]:
    """The segments a mention is about, read within its clause (a ';' or ':' ends a clause).

    Preference: a level inside the mention, then one written just before it ("L3-4 protrusion"),
    then every level after it up to ``stop``, where the next procedure word begins ("stenosis at L3-4
    and L4-5"), then the nearest before. ``limit`` ends the search without owning the levels before it.
    """
    clause_lo = max([lo] + [i + 1 for i in (text.rfind(";", lo, start), text.rfind(":", lo, start)) if i >= 0])
    ends = [i for i in (text.find(";", end, hi), text.find(":", end, hi)) if i >= 0]
    clause_hi = min([hi, stop or hi, limit or hi, *ends])
    mentions = [m for m in lv.levels(text[clause_lo:clause_hi]) if m.segments]
    at = [(clause_lo + m.start, clause_lo + m.end, m.segments) for m in mentions]
    inside = [s for a, _, segs in at if start <= a < end for s in segs]
    if inside:
        return list(dict.fromkeys(inside))
    before = [(a, b, segs) for a, b, segs in at if b <= start]
    # "L3-4 protrusion", "L3-L4 and L4-L5 laminectomy", but not "instrumentation L4-S1 (22850), extension of
    # fusion to L3-4"
    if before and start - before[-1][1] <= 30 and not re.search(r"[,;)\n]", text[before[-1][1] : start]):
        run = [before[-1]]
        for prev in reversed(before[:-1]):
            if not _JOINED.fullmatch(text[prev[1] : run[0][0]]):
                break
            run.insert(0, prev)
        return list(dict.fromkeys(s for _, _, segs in run for s in segs))
    # a level written just before the next procedure word is that procedure's ("... fusion and an L4-5
    # laminectomy"), not this one's
    later = [(a, b, segs) for a, b, segs in at if a >= end and not (stop and _NEXT_ONES.match(text[b:stop]))]
    if compact:
        # a procedure's levels follow it closely and run together: "laminectomy at L3-4 and L4-5", not
        # every level a long question names after it ("... normal discs at L3-4 and L5-S1")
        kept, last = [], end
        for a, b, segs in later:
            if a - last > (40 if not kept else 12):
                break
            kept.append((a, b, segs))
            last = b
        later = kept
    after = [s for _, _, segs in later for s in segs]
    if after:
        return list(dict.fromkeys(after))
    if before:
        return list(before[-1][2])
    return _line_label(text, start)


# an imaging report line that starts with its level: "L4-5: postsurgical changes; severe foraminal stenosis"
_LINE_LEVEL = re.compile(r"[ \t]*(?:[-•*]\s*)?(?P<level>[LTS]\d{1,2}\s*[-/]\s*[LTS]?\d{1,2})\s*:")


def _line_label(text: str, start: int) -> list[str]:
    """The level a report line is labelled with, for a finding whose clause names none."""
    line = text.rfind("\n", 0, start) + 1
    m = _LINE_LEVEL.match(text, line)
    if not m or m.end() > start:
        return []
    return [s for lv in lv.levels(m.group("level")) for s in lv.segments]


def response(sentence: str) -> str | None:
    if TEMPORARY_RE.search(sentence):
        return "temporary"
    if PARTIAL_RE.search(sentence):
        return "partial"
    if FAILED_RE.search(sentence):
        return "failed"
    return None


_GAP_AFTER = re.compile(
    r"^[\s,:(-]*(?:\d+(?:\.\d+)?\s*(?:mg|mcg|g)\b\s*(?:(?:PO|po|orally)\s*)?(?:daily|BID|TID|QID|QHS|PRN|q\d+h)?\s*)?"  # a dose: "ibuprofen 600 mg TID x2 wks"
    # a frequency: "PT 2x/wk x 7 wks", "PT twice weekly from January through March"
    r"(?:(?:(?:\d+\s*x|once|twice|(?:two|three|\d+)\s+times)\s*(?:/|a|per)?\s*)?(?:wk|week|weekly|w)\b\s*)?"
    r"(?:since\s+[\w/.-]+\s*\(?\s*)?"  # "conservative care since 02/2024 (about 11 months)"
    r"(?:(?:was\s+|were\s+)?(?:started|begun|began|initiated|ongoing|tried|used|completed)\s*)?"
    r"(?:for|x|×|over|lasting|trial of|times|of|at least|approximately|about|~)?\s*"
    r"(?:over|more than|nearly|almost|about|approximately|at least|roughly)?\s*(?:the\s+)?(?:past|last)?\s*$",
    re.IGNORECASE,
)
_GAP_SYMPTOM = re.compile(r"^\s*(?:of|with|history of)?\s*(?:[\w/-]+\s+){0,4}$", re.IGNORECASE)


# "failed PT, NSAIDs, chiro x7mos", "physical therapy and meds for about 10 weeks": a duration that closes a
# short list belongs to each item in it
_LIST_GAP = re.compile(
    # each word matched whole (possessive), so a gap that fails fails at once instead of trying every split
    r"^(?:\s*(?:,|\+|/|&|\band\b)\s*(?:(?!(?:for|x|over)\b)[A-Za-z][\w'/-]*+\s*+){1,4}){1,4}?\s*(?P<by>(?:for|x|over)\s+(?:about|around|approximately|nearly|almost|~)?\s*)?$",
    re.IGNORECASE,
)
_LIST_DURATION = re.compile(r"^(?:x|×|for\b|over\b)", re.IGNORECASE)


def duration_after(text: str, end: int, hi: int, window: int = 25) -> dt.Duration | None:
    """A duration written right after a mention ("PT x 6 wks", "PT for 8 weeks") or closing the
    list it opens ("PT, NSAIDs, chiro x7mos")."""
    for d in dt.durations(text[end : min(hi, end + window + 20)]):
        if _GAP_AFTER.match(text[end : end + d.start]):
            return d
    tail = text[end : min(hi, end + 120)]
    for d in dt.durations(tail):
        gap = _LIST_GAP.match(tail[: d.start])
        if gap and (gap.group("by") or _LIST_DURATION.match(d.text)):
            return d
    return None


# "ESI x2 with about one week of relief each": how long a treatment helped, not how long it was given
_RELIEF_AFTER = re.compile(r"\s*(?:of\s+)?(?:\w+\s+)?(?:relief|improvement|benefit)\b", re.IGNORECASE)


def duration_before(
    text: str, start: int, lo: int, blockers: list[tuple[int, int]], max_gap: int = 140
) -> dt.Duration | None:
    """The nearest duration before a mention, unless a blocking mention stands between them; a spell of
    relief is not one."""
    found = [
        d
        for d in dt.durations(text[lo:start])
        if start - (lo + d.end) <= max_gap and not _RELIEF_AFTER.match(text, lo + d.end)
    ]
    if not found:
        return None
    d = found[-1]
    d_end = lo + d.end
    if any(d_end <= b0 < start for b0, _ in blockers):
        return None
    return d


def symptom_duration(text: str, start: int, end: int, lo: int, hi: int) -> float | None:
    """Weeks a symptom has lasted: "3 months of left leg pain", "leg pain for 10 months", "x 6 wks"."""
    before = dt.durations(text[lo:start])
    if before and _GAP_SYMPTOM.match(text[lo + before[-1].end : start]):
        return before[-1].weeks
    after = duration_after(text, end, hi, window=30)
    if after:
        return after.weeks
    # the onset told as a time ago in the same clause: "hurt my back lifting my toddler about three weeks ago"
    tail = text[end : min(hi, end + 70)]
    for d in dt.durations(tail):
        if _AGO.match(tail, d.end) and not _CLAUSE_END.search(tail, 0, d.start):
            return d.weeks
    return None


_AGO = re.compile(r"\s+(?:ago|earlier|before\s+(?:that|this|the\s+visit))\b", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;!?]")


_BLOCK_COUNT = re.compile(
    r"\b(?:(?P<three>three|3)|(?P<two>two|2|both|second|dual|comparative|confirmatory)|(?P<one>one|single|a|an|1))\b(?!\s*/)",
    re.IGNORECASE,
)


_TIMES_AFTER = re.compile(r"^\s*(?:x|×)\s*(\d)\b|^\s*:\s*(two|three|both|2|3)\b", re.IGNORECASE)
# "block #1 (01/2025) 80-90% relief; block #2 (03/2025) 75-80% relief": a second block named after the first
_SECOND_BLOCK = re.compile(
    r"#\s*2\b|\bblock\s+(?:no\.?\s*)?2\b|\b(?:second|2nd)\s+(?:\w+\s+){0,3}?(?:block|injection)s?\b", re.IGNORECASE
)


def block_count(window: str, after: str = "") -> int | None:
    """How many blocks the words just before a block mention count, the nearest count word winning,
    or a multiplier right after it ("diagnostic blocks x2")."""
    times = _TIMES_AFTER.match(after)
    if times:
        return int(nums.number(times.group(1) or times.group(2)) or 0) or None
    second = _SECOND_BLOCK.search(after[:160])
    if second and not re.search(r"\b(?:no|not|without|never)\b(?:\s+\w+){0,2}\s*$", after[: second.start()]):
        return 2
    counts = list(_BLOCK_COUNT.finditer(window[-60:]))
    if not counts:
        return None
    m = counts[-1]
    return 3 if m.group("three") else 2 if m.group("two") else 1


_LEVEL_COUNT = re.compile(
    r"\b(?P<n>\d|one|two|three|four|five|six|single)[- ]?(?:level|segment)s?\b(?:\s+[\w-]+){0,3}\s*$"
    r"|^\s*(?:at|of|over|across|spanning)\s+(?P<m>\d|two|three|four|five|six)\s+(?:levels|segments|interspaces)\b",
    re.IGNORECASE,
)


def level_count(text: str, start: int, end: int, lo: int, hi: int) -> int | None:
    """How many levels the words give a procedure without naming them: "a two-level laminectomy",
    "2-level TDA", "fusion at three levels"."""
    before = _LEVEL_COUNT.search(text[max(lo, start - 40) : start])
    m = (before if before and before.group("n") else None) or _LEVEL_COUNT.match(text[end : min(hi, end + 30)])
    word = m and (m.group("n") or m.group("m"))
    n = nums.number(word) if word else None
    return int(n) if n else None


_VERTEBRAE = re.compile(
    r"(?P<pre>[LTSC]\d{1,2})\s+$"  # "T12 balloon kyphoplasty"
)
_VERTEBRAE_AFTER = re.compile(
    r"^\s+(?:of|at)\s+(?:the\s+)?(?P<list>[LTSC]\d{1,2}(?:\s*(?:,|and|,\s*and)\s*[LTSC]?\d{1,2})*)\b"
)


def vertebrae_near(text: str, start: int, end: int) -> list[str]:
    """Single vertebrae a procedure word names ("T12 kyphoplasty", "laminectomy of L2, L3 and L4"), for a
    word whose levels are not written as segments."""
    after = _VERTEBRAE_AFTER.match(text[end : end + 60])
    if after:
        return [v for m in lv.levels(after.group("list")) if (v := m.vertebra)]
    before = _VERTEBRAE.search(text[max(0, start - 12) : start])
    return [v for m in lv.levels(before.group("pre")) if (v := m.vertebra)] if before else []
