"""PAS requests in the service's database (the engine's in-memory store, made durable)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from indicated.fhir.pas import PriorAuth, PriorAuths
from indicated.service.repo import now
from indicated.service.tables import PriorAuthRow


class StoredPriorAuths(PriorAuths):
    def __init__(self, sessions: sessionmaker) -> None:
        super().__init__()
        self._sessions = sessions

    def save(self, key: str, auth: PriorAuth) -> None:
        with self._sessions() as db:
            db.merge(
                PriorAuthRow(key=key, assessment_id=auth.assessment_id, updated_at=now(), data=auth.model_dump_json())
            )
            db.commit()

    def find(self, key: str) -> PriorAuth | None:
        with self._sessions() as db:
            row = db.get(PriorAuthRow, key)
            return PriorAuth.model_validate_json(row.data) if row else None

    def keys_for(self, assessment_id: str) -> list[str]:
        with self._sessions() as db:
            return list(db.scalars(select(PriorAuthRow.key).where(PriorAuthRow.assessment_id == assessment_id)))
