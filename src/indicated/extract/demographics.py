"""Age and sex as notes write them: "38-year-old woman", "55F", "45 y/o male", "age 61", "Mr. R., 60,"."""

from __future__ import annotations

import re
from datetime import date

from indicated.extract.dates import FULL_DATE, full_date
from indicated.extract.numbers import number

_DOB = re.compile(r"\b(?:DOB|date of birth|born)\s*:?\s*" + FULL_DATE.pattern, re.IGNORECASE)

_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
# "Forty-one-year-old", "sixty two year old"
AGE_WORDS_RE = re.compile(
    rf"\b(?P<w>{_TENS}(?:[- ]{_UNITS})?|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)[- ]years?[- ]old\b",
    re.IGNORECASE,
)
# what patients and families write: "I'm 38", "she is 66", "he's 41", "My dad is 63", "Frank is 74"
AGE_SAID_RE = re.compile(
    r"\b(?:I'm|I am|he's|he is|she's|she is|(?:[Mm]y\s+)?(?:dad|mom|father|mother|husband|wife|son|daughter)\s+is|"
    r"[A-Z][a-z]+\s+is|just\s+turned|turned)\s+(?P<n>[1-9]\d)\b(?!\s*(?:%|percent|mm|cm|kg|lbs?|pounds|degrees?|weeks?|months?|days?|hours?|minutes?|feet|ft|/))",
)
AGE_RE = re.compile(
    r"\b(?P<a>\d{1,3})\s*(?:-|\s)?(?:years?|yrs?|yo|y/o|y\.o\.)(?:[- ]old)?(?:\s+(?P<sx2>[MF])\b)?\b"
    r"|\b(?P<b>\d{1,3})\s*(?P<sx>[MF])\b"
    r"|\b(?:age|aged)\s*:?\s*(?P<c>\d{1,3})\b"
    r"|\b(?:Mr|Mrs|Ms|Miss)\.?\s+[A-Z][\w.-]*,\s*(?P<d>\d{1,3})\s*,",  # "Mr. R., 60, who has"
    re.IGNORECASE,
)
FEMALE_RE = re.compile(r"\b(?:woman|female|lady|girl|she|her|mrs|ms)\b", re.IGNORECASE)
MALE_RE = re.compile(r"\b(?:man|male|gentleman|boy|he|his|him|mr)\b", re.IGNORECASE)


def _age_from_birth_date(text: str, written: date | None) -> int | None:
    """ "DOB 03/14/1964" in a note written 06/02/2025: 61."""
    m = _DOB.search(text)
    born = full_date(m) if m else None
    if born is None or written is None or written <= born:
        return None
    return written.year - born.year - ((written.month, written.day) < (born.month, born.day))


def age_and_sex(text: str, written: date | None = None) -> tuple[int | None, str | None]:
    """``written``: the day the note was written, for an age read from a date of birth."""
    age: int | None = None
    sex: str | None = None
    for m in AGE_RE.finditer(text):
        if m.group("b") and not m.group(0)[-1].isupper():
            continue  # "55f" without capital is too ambiguous
        if m.group("a") and re.match(r"\s*(?:ago|of|since|history)\b", text[m.end() : m.end() + 10], re.IGNORECASE):
            continue  # "2 years ago", "10 years of pain": a duration, not an age
        if m.group("a") and not re.search(r"y/?o|y\.o\.|old", m.group(0), re.IGNORECASE):
            continue
        n = int(m.group("a") or m.group("b") or m.group("c") or m.group("d"))
        if 0 < n < 120:
            age = n
            letter = m.group("sx") or m.group("sx2")
            if letter:
                sex = "female" if letter.upper() == "F" else "male"
            break
    if age is None and (w := AGE_WORDS_RE.search(text)):
        age = int(number(w.group("w")) or 0) or None
    if age is None and (said := AGE_SAID_RE.search(text)):
        age = int(said.group("n"))
    if age is None:
        age = _age_from_birth_date(text, written)
    if sex is None:
        f, mm = len(FEMALE_RE.findall(text)), len(MALE_RE.findall(text))
        if f != mm:
            sex = "female" if f > mm else "male"
    return age, sex
