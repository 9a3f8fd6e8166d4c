"""Prior-authorization requests by claim key, and a person's decisions on their items: kept in
memory (bounded) by ``PriorAuths``, in the service's database by ``StoredPriorAuths``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from indicated.errors import InputError, NotFound
from indicated.fhir.claim_response import Item, PriorAuth
from indicated.fhir.coverage import REVIEW_ACTIONS
from indicated.service.repo import now
from indicated.service.tables import PriorAuthRow


class PriorAuths:
    """Requests by claim key. This one keeps them in memory (bounded); ``StoredPriorAuths`` keeps
    them in the database, overriding ``save``, ``find`` and ``keys_for``."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: OrderedDict[str, PriorAuth] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def save(self, key: str, auth: PriorAuth) -> None:
        with self._lock:
            self._items[key] = auth.model_copy(deep=True)
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def find(self, key: str) -> PriorAuth | None:
        with self._lock:
            auth = self._items.get(key)
            return auth.model_copy(deep=True) if auth else None

    def keys_for(self, assessment_id: str) -> list[str]:
        with self._lock:
            return [k for k, a in self._items.items() if a.assessment_id == assessment_id]

    def all(self, prefix: str = "") -> list[PriorAuth]:
        """Every request kept whose key starts with ``prefix``, oldest first (what `$inquire` searches)."""
        with self._lock:
            return [a.model_copy(deep=True) for k, a in self._items.items() if k.startswith(prefix)]

    def get(self, key: str) -> PriorAuth:
        """The request with this key, or NotFound."""
        auth = self.find(key)
        if auth is None:
            raise NotFound(f"no prior-authorization request for claim {key}")
        return auth

    def decide_all(self, assessment_id: str, code: str, *, reviewer: str) -> list[PriorAuth]:
        """A person's decision on every item of the request an article came from (if any); the requests
        as decided."""
        return self.decide_items(assessment_id, lambda item: code, reviewer=reviewer)

    def decide_items(
        self, assessment_id: str, decide: Callable[[Item], str | None], *, reviewer: str
    ) -> list[PriorAuth]:
        """A person's decisions on the items of the request an article came from: ``decide`` gives each
        item its X12 306 decision (None: still undecided). Decisions per service line move single items,
        and a line changed back to undecided takes its item's decision back. The requests changed."""
        decided = []
        for key in self.keys_for(assessment_id):
            auth = self.find(key)
            if auth is None:
                continue
            changed = False
            for item in auth.items:
                code = decide(item)
                if code == item.decision:
                    continue
                if code is not None and code not in REVIEW_ACTIONS:
                    raise InputError(f"decision: {code!r} is not one of {', '.join(REVIEW_ACTIONS)}")
                item.decision, item.reviewer, changed = code, reviewer if code else None, True
            if changed:
                self.save(key, auth)
                decided.append(auth)
        return decided

    def decide(self, key: str, sequence: int, code: str, *, reviewer: str) -> PriorAuth:
        """A person's decision on one item (A1 or A3); only people may answer A3."""
        if code not in REVIEW_ACTIONS:
            raise InputError(f"decision: {code!r} is not one of {', '.join(REVIEW_ACTIONS)}")
        auth = self.get(key)
        item = next((i for i in auth.items if i.sequence == sequence), None)
        if item is None:
            raise NotFound(f"no item {sequence} in the prior-authorization request for claim {key}")
        item.decision, item.reviewer = code, reviewer
        self.save(key, auth)
        return auth


class StoredPriorAuths(PriorAuths):
    """The requests in the service's database, so `$inquire` answers after a restart."""

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

    def all(self, prefix: str = "") -> list[PriorAuth]:
        with self._sessions() as db:
            query = select(PriorAuthRow.data).order_by(PriorAuthRow.updated_at)
            if prefix:
                query = query.where(PriorAuthRow.key.startswith(prefix, autoescape=True))
            return [PriorAuth.model_validate_json(data) for data in db.scalars(query)]


class OwnedPriorAuths(PriorAuths):
    """One API client's view of a store: its claim keys are kept under its name, so a claim another
    client sent (even with the same identifier) is neither answered from nor found by `$inquire`."""

    def __init__(self, store: PriorAuths, owner: str) -> None:
        self._store, self._prefix = store, f"{owner}|"

    def save(self, key: str, auth: PriorAuth) -> None:
        self._store.save(self._prefix + key, auth)

    def find(self, key: str) -> PriorAuth | None:
        return self._store.find(self._prefix + key)

    def keys_for(self, assessment_id: str) -> list[str]:
        return [k.removeprefix(self._prefix) for k in self._store.keys_for(assessment_id) if k.startswith(self._prefix)]

    def all(self, prefix: str = "") -> list[PriorAuth]:
        return self._store.all(self._prefix + prefix)
