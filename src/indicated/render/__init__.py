"""render: Assessment -> json | markdown (html and fhir come with later issues)."""

from __future__ import annotations

from indicated.render.json import to_json
from indicated.render.markdown import to_markdown

__all__ = ["FORMATS", "render"]

FORMATS = {"json": to_json, "markdown": to_markdown}


def render(assessment, fmt: str = "json", **options) -> str:
    return FORMATS[fmt](assessment, **options)
