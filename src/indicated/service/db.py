"""Engines and migrations: a SQLite file by default (WAL, so readers never wait on the writer),
PostgreSQL when ``INDICATED_DATABASE_URL`` points at one (``postgresql+psycopg://...``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def engine_for(url: str, *, lock_timeout: float = 5.0) -> Engine:
    """An engine whose requests wait at most ``lock_timeout`` seconds for a lock or a pooled connection:
    past it they fail (OperationalError, TimeoutError), and the service answers 503 with Retry-After at
    once instead of holding a worker thread for half a minute (issue 17.9)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(  # a connection per request thread at load (FastAPI runs 40), not 15
            url,
            connect_args={"check_same_thread": False, "timeout": lock_timeout},
            pool_size=10,
            max_overflow=30,
            pool_timeout=lock_timeout,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(
        url,
        pool_size=10,
        max_overflow=40,
        pool_pre_ping=True,
        pool_timeout=lock_timeout,
        connect_args={"options": f"-c lock_timeout={int(lock_timeout * 1000)}", "connect_timeout": 10},
    )


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration (idempotent; run at start-up and by `indicated db`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    command.upgrade(config, "head")


def sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
