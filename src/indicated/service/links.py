"""Signed links to one article, for the CDS Hooks cards an EHR shows a clinician who has no reviewer
account here. The link carries its expiry and an HMAC of the article id and expiry under a key the
service keeps in its database (so every worker process signs and checks alike): whoever holds the link
can read that one article until it expires, and nothing else."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from indicated.service.tables import ServiceSecret

NAME = "card-links"


def link_key(db: Session) -> bytes:
    """The signing key, made by the first process that needs it."""
    row = db.get(ServiceSecret, NAME)
    if row is None:
        db.add(ServiceSecret(name=NAME, value=secrets.token_hex(32)))
        try:
            db.commit()
        except IntegrityError:  # another worker made it first: use theirs
            db.rollback()
        row = db.get(ServiceSecret, NAME)
    return bytes.fromhex(row.value)


def _signature(key: bytes, aid: str, expires: int) -> str:
    return hmac.new(key, f"{aid}.{expires}".encode(), hashlib.sha256).hexdigest()[:40]


def sign(key: bytes, aid: str, *, hours: float) -> str:
    """The value of a link's ``link`` parameter: ``<expiry>.<signature>``."""
    expires = int(time.time() + hours * 3600)
    return f"{expires}.{_signature(key, aid, expires)}"


def valid(key: bytes, aid: str, link: str) -> bool:
    expires, _, signature = link.partition(".")
    if not expires.isdigit() or len(expires) > 12 or int(expires) < time.time():
        return False
    return hmac.compare_digest(signature, _signature(key, aid, int(expires)))
