"""Words a regular expression cannot match without, found from its parse, so a lexicon pattern whose
words a note never uses is skipped instead of scanned (the lexicon's ~140 patterns were a third of an
assessment, and most of them have nothing to find in most notes).

Each needle set is sound: every match of the pattern contains one of its needles. Sets are taken only
from parts the pattern cannot skip (a literal run, or a choice whose every branch starts with one),
never from optional parts, lookarounds or character classes, and a note must hold one needle of every
set. A pattern with no such part gets no needles and is always scanned.
"""

from __future__ import annotations

import re

try:  # the parser of the standard library's re, public as sre_parse until Python 3.11
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Pythons
    import sre_parse  # type: ignore[no-redef]

_LITERAL = sre_parse.LITERAL
_BRANCH = sre_parse.BRANCH
_SUBPATTERN = sre_parse.SUBPATTERN
_MIN_NEEDLE = 2


def needles(pattern: str, flags: int = re.IGNORECASE) -> tuple[frozenset[str], ...]:
    """Sets of lower-case substrings: every match of ``pattern`` contains one of each set."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:  # pragma: no cover - the knowledge loader compiles every pattern first
        return ()
    return tuple(_required(list(parsed)))


def can_match(sets: tuple[frozenset[str], ...], lower: str) -> bool:
    """Whether a lower-cased text holds a needle of every set (no sets: it may match anything)."""
    return all(any(w in lower for w in words) for words in sets)


def _required(items: list) -> list[frozenset[str]]:
    """The needle sets of the parts of a sequence that a match cannot skip."""
    options: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is _LITERAL:
            run.append(chr(av))
            continue
        if len(run) >= _MIN_NEEDLE:
            options.append(frozenset({"".join(run).lower()}))
        run = []
        if op is _BRANCH:
            starts = [_prefix(list(alt)) for alt in av[1]]
            if all(s and len(s) >= _MIN_NEEDLE for s in starts):
                options.append(frozenset(s.lower() for s in starts))
        elif op is _SUBPATTERN:
            options += _required(list(av[-1]))
    return options


def _prefix(items: list) -> str:
    """The literal text a sequence must start with ("" when it may start otherwise)."""
    out = []
    for op, av in items:
        if op is _LITERAL:
            out.append(chr(av))
        elif op is _SUBPATTERN and not out:
            return _prefix(list(av[-1]))
        else:
            break
    return "".join(out)
