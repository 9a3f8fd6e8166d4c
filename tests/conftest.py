"""Shared fixtures: the bundled knowledge and the labelled cases beside the repository."""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import pytest
import yaml

from indicated.kb.loader import Knowledge, bundled

ROOT = Path(__file__).resolve().parents[1]
SHARED_CASES = ROOT.parent / "shared" / "cases" / "dev"
BUNDLED = Path(str(resources.files("indicated") / "knowledge"))
# the suite never writes to the user's cache folder (child processes inherit this too)
os.environ["INDICATED_CACHE_DIR"] = tempfile.mkdtemp(prefix="indicated-test-cache-")


def load_cases(folder: Path) -> list[tuple[str, dict]]:
    return [(f.stem, yaml.safe_load(f.read_text())) for f in sorted(folder.glob("*.yaml"))]


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return bundled()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of the bundled knowledge folder, for tests that break it on purpose."""
    dst = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, dst)
    return dst
