"""Service settings, read once from the environment (``INDICATED_*``) when the app is created."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field


def _default_database() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "indicated"
    return f"sqlite:///{base / 'indicated.db'}"


class Settings(BaseModel):
    database_url: str = Field(default_factory=_default_database)
    policy_set: str = "clinical"
    session_hours: float = 8.0  # a reviewer's login lasts a working day
    max_body: int = 5_000_000  # bytes; a Bundle with several notes is well under 1 MB
    # the health plan this service answers for: the label of CRD cards (CRD resp-4 names the payer) and the
    # insurer of a PAS response when the Claim names none
    payer_name: str = "indicated"
    # a local demo: anyone may send and read cases (`indicated serve --open`); every page says so
    open: bool = False
    link_hours: float = 72.0  # how long a CDS Hooks card's signed link to its article can be opened
    # password guessing (issue 17.7): failed log-ins allowed per account and per client address within
    # the window, counted in the database so that every worker process shares one allowance
    login_max_failures: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=30, ge=1)
    login_window_seconds: float = Field(default=60.0, gt=0)
    # Argon2 verifications running at once per process: each takes 64 MiB and a core for ~50 ms
    login_max_hashing: int = Field(default=4, ge=1)
    # how long a request waits for a database lock (SQLite busy timeout, PostgreSQL lock_timeout) or a
    # pooled connection before it is answered 503 with Retry-After (issue 17.9)
    db_lock_timeout_seconds: float = Field(default=5.0, gt=0)
    # assessments running at once per process (service/cpu.py: more only wait longer for the GIL)
    assess_threads: int = Field(default=2, ge=1)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = {
            "database_url": os.environ.get("INDICATED_DATABASE_URL"),
            "policy_set": os.environ.get("INDICATED_POLICY_SET"),
            "session_hours": os.environ.get("INDICATED_SESSION_HOURS"),
            "max_body": os.environ.get("INDICATED_MAX_BODY"),
            "payer_name": os.environ.get("INDICATED_PAYER_NAME"),
            "link_hours": os.environ.get("INDICATED_LINK_HOURS"),
            "open": os.environ.get("INDICATED_OPEN"),  # what `serve --open` tells its worker processes
            "login_max_failures": os.environ.get("INDICATED_LOGIN_MAX_FAILURES"),
            "login_max_failures_per_address": os.environ.get("INDICATED_LOGIN_MAX_FAILURES_PER_ADDRESS"),
            "login_window_seconds": os.environ.get("INDICATED_LOGIN_WINDOW_SECONDS"),
            "login_max_hashing": os.environ.get("INDICATED_LOGIN_MAX_HASHING"),
            "db_lock_timeout_seconds": os.environ.get("INDICATED_DB_LOCK_TIMEOUT_SECONDS"),
            "assess_threads": os.environ.get("INDICATED_ASSESS_THREADS"),
        }
        return cls.model_validate({k: v for k, v in env.items() if v} | {k: v for k, v in overrides.items() if v})
