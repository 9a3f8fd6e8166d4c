"""Durations and dates as clinicians write them ("x6wks", "3-4 months", "since March", "03/2025-06/2025").

These readers work on raw text and return character offsets, so every value can be traced back to
the words that state it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from indicated.extract.numbers import NUM, Match, number

WEEKS_PER_UNIT = {"d": 1 / 7, "w": 1.0, "m": 52 / 12, "y": 52.0}


@dataclass(frozen=True)
class Duration(Match):
    weeks: float
    # the calendar span a dated course covers ("12/2024 - 03/2025": Dec 1 to Mar 1), None for "x6wks"
    first: date | None = None
    last: date | None = None


_UNIT = r"(?P<unit>days?|d|weeks?|wks?|wk|w|months?|mos?|mo|mths?|years?|yrs?|yr|y)"
DURATION_RE = re.compile(
    r"(?:\b(?:x|×|for)\s*)?(?<![\d/])(?<![A-WYZa-wyz])(?P<n>"
    + NUM
    + r"(?:\s*(?:-|to|–)\s*\d+)?)(?P<half>\s+and\s+a\s+half)?\s*(?:\+\s*)?(?:-|\s)?"
    + _UNIT
    + r"(?P<half2>\s+and\s+a\s+half)?"  # "two and a half weeks", "a month and a half"
    + r"(?![\w/])(?![- ]old\b)",  # "34-year-old" is an age, not a duration
    re.IGNORECASE,
)


def durations(text: str, as_of: date | None = None) -> list[Duration]:
    """Durations such as "10 weeks", "x6wks", "3-4 months" (lower bound), "two years", and spans of
    dates ("03/2025-06/2025", "January through April", "from 2 Jan to 14 Mar 2025" in months). ``as_of``
    places a span written without a year on the calendar: its latest occurrence not after that date."""
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
            weeks = round(months * WEEKS_PER_UNIT["m"], 2)
            out.append(Duration(m.start(), m.end(), m.group(0), weeks, *_calendar_span(m, as_of)))
            taken.append((m.start(), m.end()))
    for m in DAY_SPAN_RE.finditer(text):  # "PT 7/1 - 8/26/2025": the year written once, on the last date
        course = _day_course(m, int(m.group("y2")))
        if course and not any(a < m.end() and m.start() < b for a, b in taken):
            out.append(Duration(m.start(), m.end(), m.group(0), _weeks(course), *course))
            taken.append((m.start(), m.end()))
    for m in YEARLESS_DAY_SPAN_RE.finditer(text):
        if any(len(m.group(f"m{i}") + m.group(f"d{i}")) < 3 for i in (1, 2)):
            continue
        # the last date is the latest such day not after ``as_of`` (any leap year when there is none, which
        # is enough to count the weeks between)
        year = as_of.year if as_of else 2024
        last = _date_of(year, m.group("m2"), m.group("d2"))
        course = _day_course(m, year - 1 if last and as_of and last > as_of else year)
        if course and not any(a < m.end() and m.start() < b for a, b in taken):
            out.append(Duration(m.start(), m.end(), m.group(0), _weeks(course), *(course if as_of else (None, None))))
    return sorted(out, key=lambda d: d.start)


def _day_course(m: re.Match[str], year: int) -> tuple[date, date] | None:
    """The days from ``m1/d1`` to ``m2/d2``, the last in ``year`` and the first before it (across New Year
    when its month comes later)."""
    last = _date_of(year, m.group("m2"), m.group("d2"))
    first = _date_of(year, m.group("m1"), m.group("d1"))
    if first and last and first > last:
        first = _date_of(year - 1, m.group("m1"), m.group("d1"))
    return (first, last) if first and last and first < last else None


def _weeks(course: tuple[date, date]) -> float:
    return round((course[1] - course[0]).days / 7, 2)


_MONTH_NAME = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"


def _date(i: int) -> str:
    """A month with its year ("03/2025", "03/10/2025", "March 2025", "Mar", "2 March 2025")."""
    return (
        rf"(?:(?P<m{i}>\d{{1,2}})/(?:(?P<d{i}>\d{{1,2}})/)?(?P<y{i}>\d{{4}})"
        rf"|(?:\d{{1,2}}\s+)?(?P<n{i}>{_MONTH_NAME})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?(?:\s+(?P<z{i}>\d{{4}}))?)"
    )


# a yearless first date only with a dated second one: "4/5-5/5" alone is a strength grade, not April to May
DAY_SPAN_RE = re.compile(
    r"(?<![\d/])(?P<m1>\d{1,2})/(?P<d1>\d{1,2})\s*(?:-|–|to|through|thru|until)\s*"
    r"(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4})\b"
)
# "PT 2x/wk 04/01-05/27": both dates without a year; each has three digits at least, so a range of
# strength grades ("4/5-5/5") is not read as one
YEARLESS_DAY_SPAN_RE = re.compile(
    r"(?<![\d/])(?P<m1>\d{1,2})/(?P<d1>\d{1,2})\s*(?:-|–|to|through|thru|until)\s*(?P<m2>\d{1,2})/(?P<d2>\d{1,2})(?![\d/])"
)
DATE_SPAN_RE = re.compile(rf"\b(?:from\s+)?{_date(1)}\s*(?:-|–|to|through|thru|until)\s*{_date(2)}\b", re.IGNORECASE)


def _days_between(m: re.Match[str]) -> float:
    """Days from one full date to the other ("03/03/2025-04/21/2025": 49), read month first; 0 if invalid."""
    first = _date_of(m.group("y1"), m.group("m1"), m.group("d1"))
    last = _date_of(m.group("y2"), m.group("m2"), m.group("d2"))
    return float((last - first).days) if first and last else 0.0


def _calendar_span(m: re.Match[str], as_of: date | None = None) -> tuple[date | None, date | None]:
    """The dates a span of dates covers (a month alone stands for its first day), when a year is written
    or ``as_of`` supplies the latest one that puts the span's end before it."""

    def day(i: int, year: str | int | None) -> date | None:
        month = m.group(f"m{i}") or (_month_number(m.group(f"n{i}")) if m.group(f"n{i}") else None)
        return _date_of(year, month, m.group(f"d{i}") or 1) if year else None

    y1, y2 = (m.group(f"y{i}") or m.group(f"z{i}") for i in (1, 2))
    if not (y1 or y2) and as_of is not None:
        end = day(2, as_of.year)
        y2 = as_of.year - 1 if end is None or end > as_of else as_of.year
    last = day(2, y2 or y1)
    first = day(1, y1 or y2)
    if first and last and first > last and not (y1 and y2):  # "November to February 2025": across New Year
        first, last = (day(1, int(y2) - 1), last) if y2 else (first, day(2, int(y1) + 1))
    return (first, last) if first and last and first < last else (None, None)


# a date on its own: "04/10/2025", "06/2025", "(April and June)"; a month named alone must be capitalized
# ("the ESI may help" names no month), and "May" needs its year
_POINT = re.compile(
    r"(?<![\d/])(?:(?P<m>\d{1,2})/(?:(?P<d>\d{1,2})/)?(?P<y>\d{4})(?![\d/])"
    r"|\b(?P<n>(?i:may)(?=\s+\d{4})|Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?(?:\s+(?P<z>\d{4})\b)?)"
)


def dates_in(text: str, as_of: date | None = None) -> list[tuple[int, date]]:
    """The calendar dates ``text`` names one by one, with where each starts (a month stands for its first
    day); a month without a year is its latest occurrence not after ``as_of``, and is left out without one."""
    out = []
    for m in _POINT.finditer(text):
        month = int(m.group("m")) if m.group("m") else _month_number(m.group("n"))
        year = m.group("y") or m.group("z")
        if not year and as_of is not None:
            year = as_of.year if month and month <= as_of.month else as_of.year - 1
        if year and (found := _date_of(year, month, m.group("d") or 1)):
            out.append((m.start(), found))
    return out


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
    if y1 is None or y2 is None:  # "January through April 2025": the same year, or across New Year
        return (m2 - m1) % 12  # ("November to February 2025")
    return (y2 - y1) * 12 + (m2 - m1)


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
    r"\b(?:since|(?:began|begun|started|onset)(?:\s+(?:on|in))?)\s+(?:(?:early|mid|late)\s+)?(?:(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
    r"(?:\s+(?P<y1>(?:19|20)\d\d))?|(?P<fm>\d{1,2})/(?P<fd>\d{1,2})/(?P<fy>(?:19|20)\d\d)"
    r"|(?P<mm>0?[1-9]|1[0-2])/(?P<y3>(?:19|20)\d\d)|(?P<y2>(?:19|20)\d\d))\b",
    re.IGNORECASE,
)


def since_weeks(text: str, as_of: date | None) -> float | None:
    """Weeks from "since March" / "since May 2025" / "since 06/2025" / "since 02/06/2025" / "since 2023" (or
    "began on 01/22/2026", "started in May") to ``as_of``, counted in whole months
    (a month without a year is the latest such month not after ``as_of``; a bare year counts from its
    December, so the figure is never more than the note supports)."""
    m = _SINCE.search(text)
    if not m or as_of is None:
        return None
    if m.group("fm"):  # "since 02/06/2025": to the day
        start = _date_of(m.group("fy"), m.group("fm"), m.group("fd"))
        return round((as_of - start).days / 7, 2) if start and start <= as_of else None
    if m.group("mm"):  # "since 06/2025"
        months = (as_of.year - int(m.group("y3"))) * 12 + as_of.month - int(m.group("mm"))
    elif m.group("month"):
        month = next(i + 1 for i, name in enumerate(_MONTHS) if name.startswith(m.group("month").lower()[:3]))
        year = int(m.group("y1")) if m.group("y1") else (as_of.year if month <= as_of.month else as_of.year - 1)
        months = (as_of.year - year) * 12 + as_of.month - month
    else:
        months = (as_of.year - int(m.group("y2"))) * 12 + as_of.month - 12
    return round(months * 52 / 12, 2) if months >= 0 else None
