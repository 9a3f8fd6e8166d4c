"""Attributes of a mention read from the words around it: side, levels, value, duration, response.

Each reader looks only inside the mention's sentence, so a value can never leak from one
statement to another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from indicated.extract import dates as dt
from indicated.extract import levels as lv
from indicated.extract import numbers as nums
from indicated.kb.schema import Reading

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
    r"(?:\d+\s*x\s*/?\s*(?:wk|week|w)\b\s*)?"  # a frequency: "PT 2x/wk x 7 wks"
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


def duration_before(
    text: str, start: int, lo: int, blockers: list[tuple[int, int]], max_gap: int = 140
) -> dt.Duration | None:
    """The nearest duration before a mention, unless a blocking mention stands between them."""
    found = [d for d in dt.durations(text[lo:start]) if start - (lo + d.end) <= max_gap]
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
    return after.weeks if after else None


# --- values ---------------------------------------------------------------------------------

Value = tuple[str | None, float | None]
_SEVERITY = re.compile(
    r"\b(mild(?:ly)?|mild[- ]to[- ]moderate|moderate(?:ly)?|moderate[- ]to[- ]severe|severe(?:ly)?|critical|marked|significant|high[- ]grade|sev|mod)\b",
    re.IGNORECASE,
)
# shorthand severities spelled out, so that a policy asking for "severe" reads "sev central LSS"
_SEVERITY_WORD = {"sev": "severe", "mod": "moderate"}
_HERNIATION = [
    ("sequestration", r"sequest|free fragment|migrated fragment"),
    ("extrusion", r"extru"),
    ("protrusion", r"protru"),
]
_SLIP_GRADE = re.compile(
    r"\bgrade\s*(?P<g>IV|III|II|I|[1-4])\b|\b(?P<g2>IV|III|II|I|[1-4])\s*(?:°\s*)?(?:degenerative\s+|isthmic\s+)?(?:spondylolisthesis|anterolisthesis|listhesis|slip)",
    re.IGNORECASE,
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_MM = re.compile(r"(\d+(?:\.\d+)?)\s*(?:mm|millimet)", re.IGNORECASE)
_DEG = re.compile(
    r"(\d+(?:\.\d+)?)\s*-?\s*(?:degrees?|deg\b|°)|\bCobb(?:\s+angle)?(?:\s+(?:of|is|was|measures?))?\s*:?\s*(\d+)",
    re.IGNORECASE,
)
# "HbA1c (two weeks ago) was 9.1%": a short bracket may stand between the name and its value
_AFTER_KEY = (
    r"\s*(?:\([^)\n]{0,30}\)\s*)?(?:of|is|was|:|=)?\s*(?:(?:about|approximately|approx\.?|around|roughly|~|measur\w*|now)\s*)*"
    r"(-?\s*\d+(?:\.\d+)?)"
)


# "A1c was 9.2 last year, now 6.8": a later value in the same clause replaces the earlier one
_LATER = re.compile(
    r"(?:(?!\.\s)[^;\n]){0,40}?\b(?:now|currently|most\s+recently|latest|improved\s+to|down\s+to|up\s+to|"
    r"rose\s+to|fell\s+to|rechecked\s+at|repeat(?:ed)?(?:\s+\w+)?\s+(?:was|is|at|of))\s*(?:is|at|of|was|:)?\s*"
    r"(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _keyed_number(key: str) -> Callable[[str, str], Value]:
    rx = re.compile(key + _AFTER_KEY, re.IGNORECASE)

    def read(mention: str, window: str) -> Value:
        for text in (mention, window):
            if m := rx.search(text):
                value = (_LATER.match(text, m.end()) or m).group(1).replace(" ", "")
                return value, float(value)
        return None, None

    return read


def _grade(mention: str, window: str) -> Value:
    found = nums.grades(mention) or nums.grades(window)
    if not found:
        return None, None
    weakest = min(found, key=lambda g: g[1])
    return weakest[0].text.replace(" ", ""), weakest[1]


def _morphology(mention: str, window: str) -> Value:
    for name, rx in _HERNIATION:
        if re.search(rx, mention, re.IGNORECASE):
            return name, None
    for name, rx in _HERNIATION:
        if re.search(rx, window, re.IGNORECASE):
            return name, None
    return None, None


def _severity(mention: str, window: str) -> Value:
    """Severity is written just before the word: "severe central canal stenosis"."""
    idx = window.find(mention)
    before = window[:idx] if idx >= 0 else window
    found = list(_SEVERITY.finditer(mention)) or list(_SEVERITY.finditer(before[-40:]))
    word = found[-1].group(1).lower() if found else None
    return _SEVERITY_WORD.get(word, word), None


def _slip(mention: str, window: str) -> Value:
    m = _SLIP_GRADE.search(mention + " " + window)
    kind = re.search(r"\b(degenerative|isthmic|spondylolytic|lytic|pars)\b", mention + " " + window, re.IGNORECASE)
    parts = []
    grade = None
    if m:
        g = (m.group("g") or m.group("g2")).lower()
        grade = float(_ROMAN.get(g, g))
        parts.append(f"grade {int(grade)}")
    pct = nums.percents(window)
    if pct:
        parts.append(f"{int(pct[0])}% slip")
    mm = _MM.search(window)
    if mm:
        parts.append(f"{mm.group(1)} mm")
    if kind:
        parts.append(
            "isthmic" if kind.group(1).lower() in {"isthmic", "spondylolytic", "lytic", "pars"} else "degenerative"
        )
    return (" ".join(parts) or None), grade


def _motion(mention: str, window: str) -> Value:
    m = _MM.search(mention) or _MM.search(window)
    if m:
        return f"{m.group(1)} mm", float(m.group(1))
    return _degrees(mention, window)


def _degrees(mention: str, window: str) -> Value:
    d = _DEG.search(mention) or _DEG.search(window)
    degrees = d and (d.group(1) or d.group(2))
    return (f"{degrees} degrees", float(degrees)) if degrees else (None, None)


_NOW = re.compile(
    r"^[^.;]{0,40}?\b(?:today|now|currently|current|latest|most recent|this (?:month|week|year))\b", re.IGNORECASE
)


# "progressed from 36 degrees to 54 degrees": the curve it grew to is today's
_NOW_BEFORE = re.compile(r"\b(?:now|currently|today|to|reaching|reached)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _curve(mention: str, window: str) -> Value:
    """A curve's degrees: the first written, unless another is said to be today's ("35 degrees in
    January and 48 degrees on standing films today")."""
    text = mention if _DEG.search(mention) else window
    found = list(_DEG.finditer(text))
    if not found:
        return None, None
    d = next(
        (
            d
            for d in found
            if d is not found[0] and (_NOW.match(text[d.end() :]) or _NOW_BEFORE.search(text[: d.start()]))
        ),
        found[0],
    )
    degrees = float(d.group(1) or d.group(2))
    return f"{degrees:g} degrees", degrees


_TESTS = r"thigh thrust|compression|distraction|FABER|Patrick(?:'s)?|Gaenslen(?:'s)?|sacral thrust"
_TEST_SIGN = re.compile(
    rf"({_TESTS})(?:\s+(?:test|sign|maneuver))?\s*(?:\(?\s*(\+|-|positive|negative|neg|pos)\b|(\+|-)\B)", re.IGNORECASE
)


_NEGATIVE_LIST = re.compile(
    rf"(?:{_TESTS})(?:\s+(?:test|sign|maneuver)s?)?(?:\s*(?:,|and|or)\s*(?:{_TESTS})(?:\s+(?:test|sign|maneuver)s?)?)*"
    r"\s+(?:were|was|are|is)\s+(?:all\s+)?(?:negative|neg|normal|non-?provocative|painless)",
    re.IGNORECASE,
)


def _provocative(mention: str, window: str) -> Value:
    """Tests positive: "3 of 5 provocative tests", "(2/5)", or the named tests marked + / positive."""
    m = re.search(
        r"\b(\w+)\s*(?:of|out of|/)\s*(\w+)\b(?:\s+\w+){0,4}?\s+(?:provocative|provocation|tests?|maneuvers)",
        window,
        re.IGNORECASE,
    )
    m = m or re.search(r"\(([0-6])\s*/\s*[3-6]\)|\b([0-6])\s*/\s*[3-6]\s*(?:positive|\+)", window, re.IGNORECASE)
    m = m or re.search(  # "4 of them brought my pain back"
        r"\b([0-6]|three|four|five|six)\s+of\s+(?:them|those|these|the\s+tests)\s+(?:brought|reproduced|caused|recreated|set\s+off|were\s+positive)",
        window,
        re.IGNORECASE,
    )
    m = m or re.search(  # "4 out of 5 were positive"
        r"\b([0-6])\s+(?:out\s+)?of\s+(?:[3-6]|three|four|five|six)\s+(?:\w+\s+){0,2}?(?:were|was|are|came\s+back)\s+positive",
        window,
        re.IGNORECASE,
    )
    m = m or re.search(
        r"\b(\w+)\s+(?:positive\s+)?(?:SI joint\s+)?(?:provocative|provocation)\s+(?:tests?|maneuvers)",
        window,
        re.IGNORECASE,
    )
    n = nums.number(next(g for g in m.groups() if g)) if m else None
    if n is None:
        named = {x.lower() for x in re.findall(_TESTS, window, re.IGNORECASE)}
        negative = {t.lower() for t, a, b in _TEST_SIGN.findall(window) if (a or b).lower() in {"-", "negative", "neg"}}
        # "(distraction, compression and Gaenslen were negative)": a list said negative together
        for group in _NEGATIVE_LIST.finditer(window):
            negative |= {x.lower() for x in re.findall(_TESTS, group.group(0), re.IGNORECASE)}
        n = float(len(named - negative)) if named else None
    return (f"{int(n)} positive" if n is not None else None), n


def _block(mention: str, window: str) -> Value:
    pct = nums.percents(window)
    if not pct:
        return None, None
    return ", ".join(f"{int(p)}%" for p in pct), min(pct)


# the readers a vocabulary's `read.value` chooses from, by kind
VALUE_READERS: dict[str, Callable[[str, str], Value]] = {
    "grade": _grade,
    "morphology": _morphology,
    "severity": _severity,
    "slip": _slip,
    "motion": _motion,
    "curve": _curve,
    "positive_tests": _provocative,
    "relief": _block,
}


def value(read: Reading, mention: str, window: str) -> Value:
    """The value and number the concept's reading finds in the words of a mention and around it."""
    if read.value == "number" and read.key:
        return _keyed_number(read.key)(mention, window)
    reader = VALUE_READERS.get(read.value or "")
    return reader(mention, window) if reader else (None, None)


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
