"""Numbers, grades, percents and counts as clinicians write them ("six", "4+/5", "80 percent").

These readers work on raw text and return character offsets, so every value can be traced back to
the words that state it. They know nothing about concepts; ``attributes`` decides which value
belongs to which finding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
NUM = r"(?:\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True)) + ")"


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
    m = re.search(r"\b(?P<n>" + NUM + r")\s+(?:\w+\s+){0,3}$", text, re.IGNORECASE)
    if not m:
        return None
    n = number(m.group("n"))
    return int(n) if n is not None and n == int(n) and n < 50 else None
