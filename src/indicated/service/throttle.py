"""Log-in throttling (issue 17.7). Failed log-ins are counted per account and per client address in the
database (table ``login_failures``), so that every worker process of one service shares one allowance
(a counter in each process would multiply it by the number of workers); past the allowance a log-in is
refused with 429 and ``Retry-After`` before any password is checked.

The check, the Argon2 verification and the record of a failure happen while holding one of a few
hashing slots (a semaphore per process, ``login_max_hashing``). That bounds the memory a burst of
log-ins can take (Argon2 uses 64 MiB per verification), and it bounds the guesses that can slip in
between a check and its record to that many per process. Keys are SHA-256 digests: the table keeps no
user name (nor a password typed into the name field) and no address in clear."""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from indicated.errors import Throttled
from indicated.service import repo
from indicated.service.settings import Settings
from indicated.service.tables import LoginFailure


def now() -> datetime:
    """The throttle's clock (a test moves it rather than wait a minute)."""
    return datetime.now(UTC)


def address_of(request: Request) -> str:
    """The client's address as the server sees it. Behind a reverse proxy, uvicorn's proxy headers
    (trusted from ``--forwarded-allow-ips`` only) make it the real client's; otherwise every client
    shares the proxy's address and its allowance."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class LoginGuard:
    """The service's log-in: throttled, with a bounded number of password verifications at once."""

    max_failures: int
    max_failures_per_address: int
    window: timedelta
    slots: threading.BoundedSemaphore

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginGuard:
        return cls(
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window=timedelta(seconds=settings.login_window_seconds),
            slots=threading.BoundedSemaphore(settings.login_max_hashing),
        )

    def log_in(self, db: Session, *, username: str, password: str, address: str, hours: float) -> str | None:
        """A session token for valid credentials, None for invalid ones (a failure, counted against the
        account and the address); Throttled while either has had its allowance within the window."""
        user = _key("user", username)
        limits = {user: self.max_failures, _key("address", address): self.max_failures_per_address}
        with self.slots:
            wait = self._wait(db, limits)
            if wait:
                raise Throttled(wait)
            token = repo.login(db, username=username, password=password, hours=hours)
            at = now()
            if token is None:
                db.execute(delete(LoginFailure).where(LoginFailure.at <= at - self.window))
                db.add_all(LoginFailure(key=key, at=at) for key in limits)
            else:  # the account's owner is in: earlier mistakes no longer count against it
                db.execute(delete(LoginFailure).where(LoginFailure.key == user))
            db.commit()
        return token

    def _wait(self, db: Session, limits: dict[str, int]) -> int:
        """Seconds until every key is back under its limit (0: none is at it). A key at its limit frees
        up when the oldest of its last ``limit`` failures leaves the window."""
        at = now()
        wait = 0.0
        for key, limit in limits.items():
            recent = list(
                db.scalars(
                    select(LoginFailure.at)
                    .where(LoginFailure.key == key, LoginFailure.at > at - self.window)
                    .order_by(LoginFailure.at.desc())
                    .limit(limit)
                )
            )
            if len(recent) >= limit:
                oldest = recent[-1] if recent[-1].tzinfo else recent[-1].replace(tzinfo=UTC)
                wait = max(wait, (oldest + self.window - at).total_seconds())
        return max(1, math.ceil(wait)) if wait > 0 else 0


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()
