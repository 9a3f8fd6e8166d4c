"""Numbers, spinal levels, durations and grades as clinicians write them.

These readers work on raw text and return character offsets, so every value can be traced back to
the words that state it. They know nothing about concepts; ``attributes`` decides which value
belongs to which finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WORD_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "several": 3,
    "a few": 3,
    "few": 3,
    "couple": 2,
    "a couple of": 2,
    "both": 2,
    "once": 1,
    "twice": 2,
}
_NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True)) + ")"

WEEKS_PER_UNIT = {"d": 1 / 7, "w": 1.0, "m": 52 / 12, "y": 52.0}


def number(word: str) -> float | None:
    """``"6"`` -> 6.0, ``"six"`` -> 6.0, ``"forty-one"`` -> 41.0, anything else -> None."""
    word = word.strip().lower()
    try:
        return float(word)
    except ValueError:
        pass
    if word in WORD_NUMBERS:
        return float(WORD_NUMBERS[word])
    tens, _, unit = word.replace(" ", "-").partition("-")
    if WORD_NUMBERS.get(tens, 0) >= 20 and WORD_NUMBERS.get(tens, 0) % 10 == 0 and 1 <= WORD_NUMBERS.get(unit, 0) <= 9:
        return float(WORD_NUMBERS[tens] + WORD_NUMBERS[unit])
    return None


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Duration(Match):
    weeks: float


_UNIT = r"(?P<unit>days?|d|weeks?|wks?|wk|w|months?|mos?|mo|mths?|years?|yrs?|yr|y)"
DURATION_RE = re.compile(
    r"(?:\b(?:x|×|for)\s*)?(?<![\d/])(?<![A-WYZa-wyz])(?P<n>"
    + _NUM
    + r"(?:\s*(?:-|to|–)\s*\d+)?)(?P<half>\s+and\s+a\s+half)?\s*(?:\+\s*)?(?:-|\s)?"
    + _UNIT
    + r"(?P<half2>\s+and\s+a\s+half)?"  # "two and a half weeks", "a month and a half"
    + r"(?![\w/])(?![- ]old\b)",  # "34-year-old" is an age, not a duration
    re.IGNORECASE,
)


def durations(text: str) -> list[Duration]:
    """Durations such as "10 weeks", "x6wks", "3-4 months" (lower bound), "two years", and spans of
    dates ("03/2025-06/2025", "January through April", "from 2 Jan to 14 Mar 2025" in months)."""
    out = []
    for m in DURATION_RE.finditer(text):
        first = re.split(r"\s*(?:-|to|–)\s*", m.group("n"))[0]
        n = number(first)
        unit = m.group("unit").lower()[0]
        if n is None or unit not in WEEKS_PER_UNIT:
            continue
        if unit == "d" and m.group("unit").lower() == "d" and not re.match(r"\d", first):
            continue
        n += 0.5 if m.group("half") or m.group("half2") else 0
        out.append(Duration(m.start(), m.end(), m.group(0), round(n * WEEKS_PER_UNIT[unit], 2)))
    taken = [(d.start, d.end) for d in out]
    for m in DATE_SPAN_RE.finditer(text):
        months = _days_between(m) / (365.25 / 12) if m.group("d1") and m.group("d2") else _months_between(m)
        # "x 7 wks (June-July 2025)" says one course twice: the span in brackets only restates it
        restated = any(0 <= m.start() - b <= 3 and "(" in text[b : m.start()] for _, b in taken)
        if months and months > 0 and not restated and not any(a < m.end() and m.start() < b for a, b in taken):
            out.append(Duration(m.start(), m.end(), m.group(0), round(months * WEEKS_PER_UNIT["m"], 2)))
    return sorted(out, key=lambda d: d.start)


_MONTH_NAME = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"


def _date(i: int) -> str:
    """A month with its year ("03/2025", "03/10/2025", "March 2025", "Mar", "2 March 2025")."""
    return (
        rf"(?:(?P<m{i}>\d{{1,2}})/(?:(?P<d{i}>\d{{1,2}})/)?(?P<y{i}>\d{{4}})"
        rf"|(?:\d{{1,2}}\s+)?(?P<n{i}>{_MONTH_NAME})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?(?:\s+(?P<z{i}>\d{{4}}))?)"
    )


DATE_SPAN_RE = re.compile(rf"\b(?:from\s+)?{_date(1)}\s*(?:-|–|to|through|thru|until)\s*{_date(2)}\b", re.IGNORECASE)


def _days_between(m: re.Match[str]) -> float:
    """Days from one full date to the other ("03/03/2025-04/21/2025": 49), read month first; 0 if invalid."""
    first = _date_of(m.group("y1"), m.group("m1"), m.group("d1"))
    last = _date_of(m.group("y2"), m.group("m2"), m.group("d2"))
    return float((last - first).days) if first and last else 0.0


def _months_between(m: re.Match[str]) -> int | None:
    """Whole months from the first date of a span to the second (the same year when it is left out)."""

    def month_year(i: int) -> tuple[int, int | None] | None:
        if m.group(f"m{i}"):
            month = int(m.group(f"m{i}"))
            return (month, int(m.group(f"y{i}"))) if 1 <= month <= 12 else None
        return _month_number(m.group(f"n{i}")), (int(m.group(f"z{i}")) if m.group(f"z{i}") else None)

    a, b = month_year(1), month_year(2)
    if a is None or b is None:
        return None
    (m1, y1), (m2, y2) = a, b
    y2 = y2 if y2 is not None else y1
    y1 = y1 if y1 is not None else y2
    if y1 is None:  # "January through April": the same year, or across New Year ("November to February")
        return (m2 - m1) % 12
    return (y2 - y1) * 12 + (m2 - m1)


# --- spinal levels ---------------------------------------------------------------------------

VERTEBRAE = [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)] + ["S1"]
_INDEX = {v: i for i, v in enumerate(VERTEBRAE)}

LEVEL_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<r1>[CTLS])\s?(?P<n1>\d{1,2})"
    r"(?:(?P<sep>\s*(?:-|–|/|to|through|thru|on)\s*)(?P<r2>[CTLS])?\s?(?P<n2>\d{1,2})"
    r"|\s*(?:-|–|to)\s*(?P<pelvis>pelvis|ilium|sacrum))?(?![0-9])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LevelMention(Match):
    segments: tuple[str, ...]
    vertebra: str | None = None


def _vertebra(region: str, n: str) -> str | None:
    v = f"{region.upper()}{int(n)}"
    return v if v in _INDEX else None


COMPACT_RE = re.compile(r"(?<![A-Za-z0-9])([CL])([1-7])(S?)(\d)(?![A-Za-z0-9])", re.IGNORECASE)


def _compact(text: str) -> tuple[str, ...]:
    """ "L45" or "L5S1": two adjacent vertebrae written without a separator."""
    m = COMPACT_RE.fullmatch(text)
    if not m:
        return ()
    upper, lower = _vertebra(m[1], m[2]), _vertebra(m[3] or m[1], m[4])
    segs = segments_between(upper, lower) if upper and lower else ()
    return segs if len(segs) == 1 else ()


def segments_between(upper: str, lower: str) -> tuple[str, ...]:
    """Motion segments from vertebra ``upper`` down to ``lower``: L3, S1 -> L3-L4, L4-L5, L5-S1."""
    if upper not in _INDEX or lower not in _INDEX:
        return ()
    a, b = _INDEX[upper], _INDEX[lower]
    if b <= a:
        return ()
    return tuple(f"{VERTEBRAE[i]}-{VERTEBRAE[i + 1]}" for i in range(a, b))


def next_vertebra(v: str) -> str:
    """The vertebra below ``v`` (L5 -> S1); ``v`` itself at the bottom."""
    i = _INDEX.get(v)
    return VERTEBRAE[i + 1] if i is not None and i + 1 < len(VERTEBRAE) else v


def levels(text: str) -> list[LevelMention]:
    """Every level mention: segments (L4-5, L4/L5, L45, L4 on L5, ranges L3-S1) or single vertebrae."""
    out = []
    taken: list[tuple[int, int]] = []
    for m in COMPACT_RE.finditer(text):
        segs = _compact(m.group(0))
        if segs:
            out.append(LevelMention(m.start(), m.end(), m.group(0), segs))
            taken.append((m.start(), m.end()))
    for m in LEVEL_RE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        upper = _vertebra(m.group("r1"), m.group("n1"))
        if upper is None:
            continue
        if m.group("pelvis"):
            segs = segments_between(upper, "S1")
        elif m.group("n2"):
            region = m.group("r2") or m.group("r1")
            lower = _vertebra(region, m.group("n2"))
            if lower is None:
                continue
            segs = segments_between(upper, lower)
            if not segs:
                continue
        else:
            out.append(LevelMention(m.start(), m.end(), m.group(0), (), upper))
            continue
        out.append(LevelMention(m.start(), m.end(), m.group(0), segs))
    return sorted(out, key=lambda lm: lm.start)


# --- grades and measures -----------------------------------------------------------------------

GRADE_RE = re.compile(r"(?<![\d/])(?P<g>[0-5])\s*(?P<mod>[+-])?\s*/\s*5(?!\d)")


def grades(text: str) -> list[tuple[Match, float]]:
    """MRC motor grades: "4/5" -> 4.0, "4-/5" -> 3.67, "3+/5" -> 3.33."""
    out = []
    for m in GRADE_RE.finditer(text):
        g = float(m.group("g")) + {"+": 1 / 3, "-": -1 / 3, None: 0}[m.group("mod")]
        out.append((Match(m.start(), m.end(), m.group(0)), round(g, 2)))
    return out


PERCENT_RE = re.compile(r"(?P<n>\d{1,3})\s*(?:%|percent)")


def percents(text: str) -> list[float]:
    return [float(m.group("n")) for m in PERCENT_RE.finditer(text)]


def count_before(text: str) -> int | None:
    """The count written just before a noun: "two ESIs" -> 2 (``text`` ends where the noun starts)."""
    m = re.search(r"\b(?P<n>" + _NUM + r")\s+(?:\w+\s+){0,3}$", text, re.IGNORECASE)
    if not m:
        return None
    n = number(m.group("n"))
    return int(n) if n is not None and n == int(n) and n < 50 else None


# --- dates -----------------------------------------------------------------------------------

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_NOTE_DATE = re.compile(
    r"\b(?:date(?:\s+of\s+(?:service|visit|note))?|DOS|visit\s+date|seen\s+on)\s*[:#-]?\s*"
    r"(?:(?P<iso>(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2}))|(?P<us>(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4}|\d{2}))"
    r"|(?P<long>(?P<mname>[A-Za-z]{3,9})\.?\s+(?P<d3>\d{1,2}),?\s+(?P<y3>\d{4})))",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\d/-])(?:in\s+|\()?((?:19[89]|20[0-4])\d)\)?(?![\d/-])")


def _month_number(name: str) -> int | None:
    """ "Mar", "march" -> 3."""
    return next((i + 1 for i, month in enumerate(_MONTHS) if month.startswith(name.lower()[:3])), None)


def _date_of(year: str | int, month: str | int | None, day: str | int) -> date | None:
    """A calendar date, or None for one that does not exist (13/45/2025)."""
    try:
        return date(int(year), int(month), int(day)) if month else None
    except ValueError:
        return None


def note_date(text: str) -> date | None:
    """The date a note states for itself ("Date of service: 03/14/2025"), the anchor for "in 2019"."""
    m = _NOTE_DATE.search(text)
    if not m:
        return None
    if m.group("iso"):
        return _date_of(m.group("y1"), m.group("m1"), m.group("d1"))
    if m.group("us"):
        year = int(m.group("y2"))
        return _date_of(year + 2000 if year < 100 else year, m.group("m2"), m.group("d2"))
    return _date_of(m.group("y3"), _month_number(m.group("mname")), m.group("d3"))


FULL_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")  # month first: 03/14/2025


def full_date(m: re.Match[str]) -> date | None:
    return _date_of(m.group(3), m.group(1), m.group(2))


def _full_dates(text: str) -> list[date]:
    return [d for m in FULL_DATE.finditer(text) if (d := full_date(m))]


def latest_date(text: str) -> date | None:
    """The latest full date a note writes ("seen in clinic 03/31/2025"): when it states no date of its
    own, the nearest thing to the day it was written."""
    dates = _full_dates(text)
    return max(dates) if dates else None


def months_since_date(text: str, as_of: date | None) -> float | None:
    """Months from the first full date in ``text`` ("microdiscectomy 01/14/2025") to ``as_of``."""
    dates = _full_dates(text)
    if not dates or as_of is None or dates[0] > as_of:
        return None
    return round((as_of - dates[0]).days / (365.25 / 12), 1)


def months_since_year(text: str, as_of: date | None) -> float | None:
    """The fewest months since an event dated only by its year ("microdiscectomy 2019") as of a date."""
    m = _YEAR.search(text)
    if not m or as_of is None or int(m.group(1)) >= as_of.year:
        return None
    return float((as_of.year - int(m.group(1)) - 1) * 12 + as_of.month - 1)


_SINCE = re.compile(
    r"\bsince\s+(?:(?:early|mid|late)\s+)?(?:(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
    r"(?:\s+(?P<y1>(?:19|20)\d\d))?|(?P<y2>(?:19|20)\d\d))\b",
    re.IGNORECASE,
)


def since_weeks(text: str, as_of: date | None) -> float | None:
    """Weeks from "since March" / "since May 2025" / "since 2023" to ``as_of``, counted in whole months
    (a month without a year is the latest such month not after ``as_of``; a bare year counts from its
    December, so the figure is never more than the note supports)."""
    m = _SINCE.search(text)
    if not m or as_of is None:
        return None
    if m.group("month"):
        month = next(i + 1 for i, name in enumerate(_MONTHS) if name.startswith(m.group("month").lower()[:3]))
        year = int(m.group("y1")) if m.group("y1") else (as_of.year if month <= as_of.month else as_of.year - 1)
        months = (as_of.year - year) * 12 + as_of.month - month
    else:
        months = (as_of.year - int(m.group("y2"))) * 12 + as_of.month - 12
    return round(months * 52 / 12, 2) if months >= 0 else None
