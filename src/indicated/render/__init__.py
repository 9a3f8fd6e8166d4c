"""render: Assessment -> json | markdown | html, for an audience (clinician, reviewer, patient)."""

from __future__ import annotations

from indicated.models import Assessment
from indicated.render.html import to_html
from indicated.render.json import to_json
from indicated.render.markdown import to_markdown

__all__ = ["AUDIENCES", "FORMATS", "render"]

FORMATS = {"json": to_json, "markdown": to_markdown, "html": to_html}
AUDIENCES = ("clinician", "reviewer", "patient")


def render(assessment: Assessment, fmt: str = "json", **options: object) -> str:
    return FORMATS[fmt](assessment, **options)
