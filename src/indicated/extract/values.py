"""Values as the vocabulary asks for them: each concept's ``read.value`` names one reader here (a muscle
grade, a morphology, a severity, a slip, motion, a curve, a number after its key, positive tests, relief),
so no concept is named in code."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

from indicated.extract import numbers as nums
from indicated.kb.schema import Reading


class Measure(NamedTuple):
    """What a reader found: the words as the article shows them, the number a policy compares, and the
    number's unit where the record writes one ("6 mm", "14 degrees", "80%")."""

    text: str | None = None
    number: float | None = None
    unit: str | None = None


NOTHING = Measure()
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
    r"(?:\+\s*)?(-?\s*\d+(?:\.\d+)?)"  # "SVA +7.5 cm": a plus sign is the positive direction, not a word
)


# "A1c was 9.2 last year, now 6.8": a later value in the same clause replaces the earlier one
_LATER = re.compile(
    r"(?:(?!\.\s)[^;\n]){0,40}?\b(?:now|currently|most\s+recently|latest|improved\s+to|down\s+to|up\s+to|"
    r"rose\s+to|fell\s+to|rechecked\s+at|repeat(?:ed)?(?:\s+\w+)?\s+(?:was|is|at|of))\s*(?:is|at|of|was|:)?\s*"
    r"(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)


@lru_cache(maxsize=64)
def _keyed_number(key: str) -> Callable[[str, str], Measure]:
    rx = re.compile(key + _AFTER_KEY, re.IGNORECASE)

    def read(mention: str, window: str) -> Measure:
        # read on past the mention's end where the key goes on ("mJOA 15 -> 13", a table's later column)
        at = window.find(mention)
        here = rx.match(window, at) if at >= 0 else None
        for text, m in ((window, here), (mention, rx.search(mention)), (window, rx.search(window))):
            if m:
                value = (_LATER.match(text, m.end()) or m).group(1).replace(" ", "")
                return Measure(value, float(value))
        return NOTHING

    return read


def _grade(mention: str, window: str) -> Measure:
    found = nums.grades(mention) or nums.grades(window)
    if not found:
        return NOTHING
    weakest = min(found, key=lambda g: g[1])
    return Measure(weakest[0].text.replace(" ", ""), weakest[1])


def _morphology(mention: str, window: str) -> Measure:
    for name, rx in _HERNIATION:
        if re.search(rx, mention, re.IGNORECASE):
            return Measure(name)
    for name, rx in _HERNIATION:
        if re.search(rx, window, re.IGNORECASE):
            return Measure(name)
    return NOTHING


def _severity(mention: str, window: str) -> Measure:
    """Severity is written just before the word: "severe central canal stenosis"."""
    idx = window.find(mention)
    before = window[:idx] if idx >= 0 else window
    found = list(_SEVERITY.finditer(mention)) or list(_SEVERITY.finditer(before[-40:]))
    word = found[-1].group(1).lower() if found else None
    return Measure(_SEVERITY_WORD.get(word, word))


def _slip(mention: str, window: str) -> Measure:
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
    return Measure(" ".join(parts) or None, grade)


def _motion(mention: str, window: str) -> Measure:
    m = _MM.search(mention) or _MM.search(window)
    if m:
        return Measure(f"{m.group(1)} mm", float(m.group(1)), "mm")
    return _degrees(mention, window)


def _degrees(mention: str, window: str) -> Measure:
    d = _DEG.search(mention) or _DEG.search(window)
    degrees = d and (d.group(1) or d.group(2))
    return Measure(f"{degrees} degrees", float(degrees), "degrees") if degrees else NOTHING


_NOW = re.compile(
    r"^[^.;]{0,40}?\b(?:today|now|currently|current|latest|most recent|this (?:month|week|year))\b", re.IGNORECASE
)


# "progressed from 36 degrees to 54 degrees": the curve it grew to is today's
_NOW_BEFORE = re.compile(r"\b(?:now|currently|today|to|reaching|reached)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _curve(mention: str, window: str) -> Measure:
    """A curve's degrees: the first written, unless another is said to be today's ("35 degrees in
    January and 48 degrees on standing films today")."""
    text = mention if _DEG.search(mention) else window
    found = list(_DEG.finditer(text))
    if not found:
        return NOTHING
    d = next(
        (
            d
            for d in found
            if d is not found[0] and (_NOW.match(text[d.end() :]) or _NOW_BEFORE.search(text[: d.start()]))
        ),
        found[0],
    )
    degrees = float(d.group(1) or d.group(2))
    return Measure(f"{degrees:g} degrees", degrees, "degrees")


_TESTS = r"thigh thrust|compression|distraction|FABER|Patrick(?:'s)?|Gaenslen(?:'s)?|sacral thrust"
_TEST_SIGN = re.compile(
    rf"({_TESTS})(?:\s+(?:test|sign|maneuver))?\s*(?:\(?\s*(\+|-|positive|negative|neg|pos)\b|(\+|-)\B)", re.IGNORECASE
)


_NEGATIVE_LIST = re.compile(
    rf"(?:{_TESTS})(?:\s+(?:test|sign|maneuver)s?)?(?:\s*(?:,|and|or)\s*(?:{_TESTS})(?:\s+(?:test|sign|maneuver)s?)?)*"
    r"\s+(?:were|was|are|is)\s+(?:all\s+)?(?:negative|neg|normal|non-?provocative|painless)",
    re.IGNORECASE,
)


def _provocative(mention: str, window: str) -> Measure:
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
    return Measure(f"{int(n)} positive" if n is not None else None, n)


def _block(mention: str, window: str) -> Measure:
    pct = nums.percents(window)
    if not pct:
        return NOTHING
    return Measure(", ".join(f"{int(p)}%" for p in pct), min(pct), "%")


# the readers a vocabulary's `read.value` chooses from, by kind
VALUE_READERS: dict[str, Callable[[str, str], Measure]] = {
    "grade": _grade,
    "morphology": _morphology,
    "severity": _severity,
    "slip": _slip,
    "motion": _motion,
    "curve": _curve,
    "positive_tests": _provocative,
    "relief": _block,
}


def read(reading: Reading, mention: str, window: str) -> Measure:
    """The value and number the concept's reading finds in the words of a mention and around it."""
    if reading.value == "number" and reading.key:
        return _keyed_number(reading.key)(mention, window)
    reader = VALUE_READERS.get(reading.value or "")
    return reader(mention, window) if reader else NOTHING
