"""Shared fixtures: the bundled knowledge and the labelled cases beside the repository."""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import pytest
import yaml

from indicated.engine import Engine
from indicated.kb.loader import Knowledge

ROOT = Path(__file__).resolve().parents[1]
SHARED_CASES = ROOT.parent / "shared" / "cases" / "dev"
# the cervical domain's blind cases (issue 20): the article, CRD and PAS must work for them unchanged
CERVICAL_CASES = ROOT / "cases" / "cervical"
BUNDLED = Path(str(resources.files("indicated") / "knowledge"))
# the suite never writes to the user's cache folder (child processes inherit this too)
os.environ["INDICATED_CACHE_DIR"] = tempfile.mkdtemp(prefix="indicated-test-cache-")
# nor to the user's data folder: the service's default SQLite file goes here
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="indicated-test-data-")
os.environ.pop("INDICATED_DATABASE_URL", None)


def edit_yaml(root: Path, name: str, change) -> None:
    """Change one YAML file of a knowledge folder in place (``change`` edits the parsed data)."""
    path = root / name
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def load_cases(folder: Path) -> list[tuple[str, dict]]:
    return [(f.stem, yaml.safe_load(f.read_text())) for f in sorted(folder.glob("*.yaml"))]


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return Engine.bundled().knowledge


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of the bundled knowledge folder, for tests that break it on purpose."""
    dst = tmp_path / "knowledge"
    shutil.copytree(BUNDLED, dst)
    return dst


def make_client(folder: Path):
    """A TestClient on a fresh service with its own SQLite file (no warm-up: tests pay as they go), calling
    as a registered client: its API key on the API and PAS, a signed JWT on CDS Hooks."""
    from fastapi.testclient import TestClient

    from credentials import sign_in
    from indicated.service import create_app
    from indicated.service.settings import Settings

    url = f"sqlite:///{folder / 'service.db'}"
    client = TestClient(create_app(Settings(database_url=url), warm=False))
    sign_in(client, url)
    return client


@pytest.fixture(scope="session")
def postgres_server():
    import postgres

    with postgres.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path):
    """A fresh, empty database of each kind the service supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    base = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield base.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--refresh-golden", action="store_true", help="rewrite tests/golden/ from today's output (a change on purpose)"
    )
