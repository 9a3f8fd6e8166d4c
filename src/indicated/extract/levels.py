"""Levels as clinicians write them ("L4-5", "L4-S1", "L45", "T10 to T12"), as motion segments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from indicated.extract.numbers import Match

# --- spinal levels ---------------------------------------------------------------------------

VERTEBRAE = [f"C{i}" for i in range(1, 8)] + [f"T{i}" for i in range(1, 13)] + [f"L{i}" for i in range(1, 6)] + ["S1"]
_INDEX = {v: i for i, v in enumerate(VERTEBRAE)}


def vertebra_index(vertebra: str) -> int:
    """Where a vertebra lies from the top (C1 is 0); an unknown name sorts last."""
    return _INDEX.get(vertebra, len(VERTEBRAE))


LEVEL_RE = re.compile(
    r"(?<![A-Za-z0-9])(?P<r1>[CTLS])\s?(?P<n1>\d{1,2})"
    r"(?:(?P<sep>\s*(?:-|–|/|(?:down\s+)?(?:to|through|thru)|on)\s*)(?P<r2>[CTLS])?\s?(?P<n2>\d{1,2})"
    r"|\s*(?:-|–|(?:down\s+)?to)\s*(?:the\s+)?(?P<pelvis>pelvis|ilium|sacrum))?(?![0-9])",
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
