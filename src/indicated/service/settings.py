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
        }
        return cls.model_validate({k: v for k, v in env.items() if v} | {k: v for k, v in overrides.items() if v})
