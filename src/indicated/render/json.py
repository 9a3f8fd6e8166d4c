"""The JSON output contract of DESIGN.md (stable: tests and external checks read it)."""

from __future__ import annotations

from indicated.models import Assessment


def to_json(assessment: Assessment, *, indent: int | None = 2, **_: object) -> str:
    """The case text stays out: it is the input, and health information the caller already holds."""
    return assessment.model_dump_json(indent=indent, exclude={"case": {"text"}})
