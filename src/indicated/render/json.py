"""The JSON output contract of DESIGN.md (stable: tests and external checks read it)."""

from __future__ import annotations

import json

from indicated.models import Assessment


def to_json(assessment: Assessment, **_: object) -> str:
    data = assessment.model_dump(mode="json", exclude={"case": {"text"}})
    return json.dumps(data, indent=2, ensure_ascii=False)
