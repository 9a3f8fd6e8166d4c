"""Reading a case from bytes: plain text or a JSON case, with one clear error for bad input.

A FHIR R4 Bundle (``"resourceType": "Bundle"``) is read by :mod:`indicated.fhir.record`.
A JSON case is an object with ``text`` (read like any note) and/or structured fields of the Case
model (``age``, ``sex``, ``services``, ``findings``, ``setting``, ...); structured fields override
what extraction found, so a system that already knows the CPT codes can say so exactly.
"""

from __future__ import annotations

import json
import math

from pydantic import ValidationError

from indicated.errors import InputError, first_problem
from indicated.models import Case

MAX_CHARS = 100_000  # a long operative note is ~10k characters; beyond this it is not one case


def decode(raw: bytes, *, source: str = "input") -> str:
    if b"\x00" in raw:
        raise InputError(f"{source}: looks like a binary file, expected text or a JSON case")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    return text


def check_text(text: str, *, source: str = "input") -> str:
    if not text.strip():
        raise InputError(f"{source}: the case is empty")
    if len(text) > MAX_CHARS:
        raise InputError(f"{source}: the case has {len(text):,} characters; the limit is {MAX_CHARS:,}")
    return text


def looks_like_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def load_json(text: str, *, source: str = "input", malformed: str = "malformed JSON") -> object:
    """``json.loads``, with every way hostile JSON fails as an InputError rather than an internal
    error: malformed, nested deeper than Python's recursion allows (RecursionError), an integer of
    more digits than Python converts (ValueError, 4,300 by default), and a lone
    surrogate escape (``"\\ud800"``: json accepts it, but it is no character and fails on the first
    encode). ``NaN``, ``Infinity`` and a number too large for a float (``1e999``) are refused: JSON
    has no such values, Python's parser takes them, and a model field would keep ``nan`` or write it
    out as null, which silently changes a case (issue 17.10)."""

    try:
        data = json.loads(text, parse_constant=_not_finite, parse_float=_finite)
    except _NotFinite as exc:
        raise InputError(f"{source}: {exc} in the JSON is not a finite number (JSON has no NaN or Infinity)") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: {malformed} at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise InputError(f"{source}: the JSON is nested too deeply") from exc
    except ValueError as exc:  # int(): more digits than sys.get_int_max_str_digits()
        raise InputError(f"{source}: a number in the JSON has too many digits") from exc
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(exc.object[exc.start])
        raise InputError(f"{source}: the JSON has a lone surrogate \\u{code:04x}, which is no character") from exc
    except RecursionError as exc:
        raise InputError(f"{source}: the JSON is nested too deeply") from exc
    return data


class _NotFinite(Exception):
    """NaN, Infinity or an overflowing float met while parsing JSON (the message is its spelling)."""


def _not_finite(spelling: str) -> float:
    raise _NotFinite(spelling)


def _finite(spelling: str) -> float:
    value = float(spelling)
    if not math.isfinite(value):
        raise _NotFinite(spelling)
    return value


def parse_case(text: str, *, source: str = "input") -> str | Case:
    """Text -> the text itself; a JSON object -> a Case (extracting from its ``text`` if present)."""
    check_text(text, source=source)
    if not looks_like_json(text):
        return text
    return case_from_dict(load_json(text, source=source, malformed="malformed JSON case"), source=source)


def case_from_dict(data: object, *, source: str = "input") -> Case:
    if not isinstance(data, dict):
        raise InputError(f"{source}: a JSON case must be an object")
    if "resourceType" in data:
        from indicated.fhir.record import case_from_bundle

        if data["resourceType"] != "Bundle":
            raise InputError(f"{source}: a FHIR input must be a Bundle, not a {data['resourceType']}")
        return case_from_bundle(data, source=source)
    structured = {k: v for k, v in data.items() if k not in {"text", "id"}}
    note = data.get("text", "")
    if not isinstance(note, str):
        raise InputError(f"{source}: 'text' must be a string")
    try:
        given = Case.model_validate({**structured, "text": note})
    except ValidationError as exc:
        where, msg = first_problem(exc)
        raise InputError(f"{source}: invalid JSON case at {where or '(top level)'}: {msg}") from exc
    if not note.strip():
        return given
    check_text(note, source=source)
    from indicated.engine import Engine

    merged = Engine.bundled().extract(note).model_dump() | given.model_dump(include=set(structured))
    return Case.model_validate(merged)


__all__ = ["MAX_CHARS", "InputError", "case_from_dict", "check_text", "decode", "parse_case"]
