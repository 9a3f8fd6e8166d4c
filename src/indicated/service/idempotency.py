"""Idempotent creation (issue 17.10): a client that sends ``POST /assessments`` again after a crash or
a lost answer, with the same ``Idempotency-Key`` header (IETF draft-ietf-httpapi-idempotency-key-header),
gets the assessment the first request made instead of a duplicate.

The key is stored with the assessment in one transaction (table ``idempotency_keys``, primary key
client and key), so it survives restarts and holds across worker processes: of two requests with one
key racing, the second insert fails on the primary key, is rolled back (no second assessment), and
answers as a retry. A key is the client's own: the same key from another client is another request.
Keys are kept as long as the assessments they made."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from indicated.errors import InputError
from indicated.service import repo
from indicated.service.tables import IdempotencyKey
from indicated.service.throttle import address_of

HEADER = "Idempotency-Key"
MAX_KEY = 200


@dataclass(frozen=True)
class Once:
    """One keyed request: whose key, the key, and a digest of what was asked (body, type, policy set)."""

    client: str
    key: str
    fingerprint: str

    @classmethod
    def of(cls, request: Request, key: str, *, raw: bytes, kind: str, policy_set: str, owner: str) -> Once:
        if not 1 <= len(key) <= MAX_KEY:
            raise InputError(f"{HEADER}: a key has 1 to {MAX_KEY} characters")
        request_digest = hashlib.sha256(b"\0".join([kind.encode(), policy_set.encode(), raw])).hexdigest()
        return cls(client=client_of(request, owner), key=key, fingerprint=request_digest)


def client_of(request: Request, owner: str) -> str:
    """Whose keys these are: the caller that sent them (a client or reviewer by name, so a rotated key
    keeps its client's keys), by SHA-256; in the open demo, where no one has a name, the address. Two
    callers choosing the same key never meet."""
    who = f"address\0{address_of(request)}" if owner == "open" else f"owner\0{owner}"
    return hashlib.sha256(who.encode()).hexdigest()


def made_by(db: Session, once: Once) -> str | None:
    """The id of the assessment this key made, None for a new key; InputError (422) when the key came
    with another request, which is a client's mistake that repeating it will not mend."""
    row = db.get(IdempotencyKey, (once.client, once.key))
    if row is None:
        return None
    if row.fingerprint != once.fingerprint:
        raise InputError(f"{HEADER}: this key came with another request; send a new key for a new request")
    return row.assessment_id


def hold(db: Session, once: Once, *, assessment_id: str) -> None:
    """Add the key to the session, to be committed with the assessment ``assessment_id`` (not before)."""
    db.add(
        IdempotencyKey(
            client=once.client,
            key=once.key,
            fingerprint=once.fingerprint,
            assessment_id=assessment_id,
            created_at=repo.now(),
        )
    )
