"""PAS subscriptions kept by the service, and the notifications it posts when a person decides a
request: to every subscription that follows the request's sending system, with the full response
Bundle, from a background thread so a reviewer never waits on a subscriber's server.

Kept in memory: a subscriber re-creates its subscription after a restart (the Backport guide's
handshake-less rest-hook allows it). A delivery that fails is logged without content (no health data
in logs) and not retried.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait

from indicated.errors import NotFound
from indicated.fhir.claim_response import PriorAuth, now, response_bundle
from indicated.fhir.subscription import Subscription, notification, read_subscription, sender_of

log = logging.getLogger(__name__)


class Subscriptions:
    def __init__(self, *, timeout: float = 5.0) -> None:
        self._items: dict[str, Subscription] = {}
        self._events: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pas-notify")
        self._pending: list[Future] = []
        self._timeout = timeout

    def create(self, body: object) -> Subscription:
        sub = read_subscription(body, id=uuid.uuid4().hex)
        with self._lock:
            self._items[sub.id] = sub
            self._events[sub.id] = 0
        return sub

    def get(self, sid: str) -> Subscription:
        with self._lock:
            if sid not in self._items:
                raise NotFound(f"no subscription {sid}")
            return self._items[sid]

    def delete(self, sid: str) -> None:
        with self._lock:
            if self._items.pop(sid, None) is None:
                raise NotFound(f"no subscription {sid}")

    def notify(self, auths: list[PriorAuth], *, base: str, payer: str | None = None) -> list[Future]:
        """Post each decided request to the subscriptions following its sending system, in the
        background; the futures of the deliveries."""
        futures = []
        for auth in auths:
            sender = sender_of(auth.claim)
            with self._lock:
                targets = [s for s in self._items.values() if sender and sender in s.senders]
                events = {}
                for s in targets:
                    self._events[s.id] += 1
                    events[s.id] = self._events[s.id]
            response = response_bundle(auth, payer=payer) if targets else None
            for sub in targets:
                body = notification(sub, response, event=events[sub.id], base=base, at=now())
                futures.append(self._pool.submit(self._post, sub, body))
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + futures
        return futures

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for the deliveries under way (a test, or a service shutting down)."""
        with self._lock:
            pending = list(self._pending)
        wait(pending, timeout=timeout)

    def _post(self, sub: Subscription, body: dict) -> int | None:
        import httpx

        headers = {"Content-Type": "application/fhir+json"}
        for line in sub.headers:
            name, _, value = line.partition(":")
            if name.strip() and value.strip():
                headers[name.strip()] = value.strip()
        try:
            res = httpx.post(sub.endpoint, json=body, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            log.warning("PAS notification to subscription %s failed: %s", sub.id, type(exc).__name__)
            return None
        if res.status_code >= 300:
            log.warning("PAS notification to subscription %s answered %s", sub.id, res.status_code)
        return res.status_code
