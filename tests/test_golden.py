"""Golden articles: the dev cases' JSON, clinician and patient articles, pinned byte for byte.

A refactoring that changes no behaviour leaves them as they are. A change of wording or of a
determination on purpose is refreshed with ``pytest tests/test_golden.py --refresh-golden`` and the
diff of ``tests/golden/`` is read and committed with the change that caused it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from conftest import SHARED_CASES, load_cases
from indicated.pipeline import assess
from indicated.render import render

GOLDEN = Path(__file__).parent / "golden"
DAY = date(2026, 12, 1)  # dates written as a year only, and the article's footer, counted from here
DEV = load_cases(SHARED_CASES) if SHARED_CASES.exists() else []
KINDS = {
    "json": {"fmt": "json"},
    "clinician.md": {"fmt": "markdown", "audience": "clinician"},
    "patient.md": {"fmt": "markdown", "audience": "patient"},
}


def articles(text: str) -> dict[str, str]:
    a = assess(text, as_of=DAY)
    a.engine_version = "golden"  # a version bump is not a change of behaviour
    return {
        kind: render(a, o["fmt"], today=DAY, **{k: v for k, v in o.items() if k != "fmt"}) for kind, o in KINDS.items()
    }


@pytest.mark.parametrize(("name", "case"), DEV, ids=[n for n, _ in DEV])
def test_golden_articles(name, case, request):
    refresh = request.config.getoption("--refresh-golden")
    for kind, text in articles(case["text"]).items():
        path = GOLDEN / f"{name}.{kind}"
        if refresh:
            path.write_text(text if text.endswith("\n") else text + "\n")
            continue
        assert path.exists(), f"no golden {path.name}: run pytest tests/test_golden.py --refresh-golden"
        assert text.rstrip("\n") == path.read_text().rstrip("\n"), f"{path.name} changed"


def test_every_dev_case_has_its_golden_articles():
    names = {p.name.split(".")[0] for p in GOLDEN.iterdir()}
    assert {n for n, _ in DEV} <= names
