"""Shared fixtures: the bundled knowledge and the labelled cases beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from indicated.kb.loader import Knowledge, bundled

ROOT = Path(__file__).resolve().parents[1]
SHARED_CASES = ROOT.parent / "shared" / "cases" / "dev"


def load_cases(folder: Path) -> list[tuple[str, dict]]:
    return [(f.stem, yaml.safe_load(f.read_text())) for f in sorted(folder.glob("*.yaml"))]


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return bundled()
