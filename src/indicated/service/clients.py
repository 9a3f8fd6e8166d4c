"""API clients: the systems allowed to send cases and read back what they sent.

A client has a random API key (sent as ``Authorization: Bearer ik_...``, kept only as a SHA-256), or
the public keys (a JWK Set) it signs CDS Hooks calls with, or both. A CDS Hooks call carries the JWT
the CDS Hooks specification defines ("Trusting CDS Clients"): signed with an asymmetric key, naming its
``iss``, the CDS service URL as ``aud``, a short ``exp`` and a ``jti`` nonce. It is checked here against
the JWK Set configured for that issuer; nothing is fetched from the network (no ``jku``)."""

from __future__ import annotations

import json
import secrets
import threading
import time

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicated.errors import InputError, NotFound, Unauthorized, WorkflowError
from indicated.service.auth import token_hash
from indicated.service.repo import now
from indicated.service.tables import ApiClient

KEY_PREFIX = "ik_"  # tells a client key from a reviewer's session token, and lets secret scanners find one
# asymmetric only: CDS Hooks names ES384 and RS384; "none" and shared-secret HMAC are never accepted
ALGORITHMS = ["ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS384", "PS256"]
MAX_LIFETIME = 300  # seconds: CDS Hooks asks for an expiry no more than five minutes ahead
LEEWAY = 30  # seconds of clock difference tolerated between the EHR and this service


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def is_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def add_client(db: Session, *, name: str, jwks: str | None = None, issuer: str | None = None, key: bool = True):
    """Register a client; the API key is returned once (only its hash is kept). ``jwks`` is the JSON of
    the client's JWK Set and ``issuer`` the ``iss`` of its JWTs: both or neither."""
    if db.scalar(select(ApiClient).where(ApiClient.name == name)) is not None:
        raise WorkflowError(f"client {name!r} already exists")
    if (jwks is None) != (issuer is None):
        raise InputError("a CDS Hooks client needs both its issuer and its JWK Set")
    if jwks is not None:
        _key_set(jwks)  # refuse keys that cannot be read now, not at the first call
    if issuer is not None and db.scalar(select(ApiClient).where(ApiClient.issuer == issuer)) is not None:
        raise WorkflowError(f"issuer {issuer!r} already belongs to another client")
    if not key and jwks is None:
        raise InputError("a client needs an API key, a JWK Set, or both")
    plain = new_key() if key else None
    client = ApiClient(
        name=name, key_hash=token_hash(plain) if plain else None, issuer=issuer, jwks=jwks, created_at=now()
    )
    db.add(client)
    db.commit()
    return client, plain


def clients(db: Session) -> list[ApiClient]:
    return list(db.scalars(select(ApiClient).order_by(ApiClient.name)))


def _client(db: Session, name: str) -> ApiClient:
    client = db.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound(f"no client {name!r}")
    return client


def new_client_key(db: Session, *, name: str) -> str:
    """Replace a client's API key: the old one stops working at once."""
    client = _client(db, name)
    plain = new_key()
    client.key_hash = token_hash(plain)
    db.commit()
    return plain


def remove_client(db: Session, *, name: str) -> None:
    """The client can no longer call; what it sent stays, readable by reviewers."""
    db.delete(_client(db, name))
    db.commit()


def client_for_key(db: Session, *, key: str) -> ApiClient | None:
    return db.scalar(select(ApiClient).where(ApiClient.key_hash == token_hash(key)))


def _key_set(jwks: str) -> jwt.PyJWKSet:
    try:
        return jwt.PyJWKSet.from_dict(json.loads(jwks))
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise InputError(f"the JWK Set cannot be read: {exc}") from exc


class SeenNonces:
    """The ``jti`` of JWTs accepted lately, until they expire: the same JWT sent twice is refused. Kept per
    process: with several workers a replay inside the token's few minutes may reach another one."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, issuer: str, jti: str, expires: float) -> bool:
        with self._lock:
            moment = time.time()
            if len(self._seen) > 10_000:
                self._seen = {k: v for k, v in self._seen.items() if v > moment}
            key = f"{issuer}\x00{jti}"
            if self._seen.get(key, 0) > moment:
                return False
            self._seen[key] = expires + LEEWAY
            return True


REFUSED = "a CDS Hooks call needs a bearer JWT signed by a registered client (CDS Hooks: Trusting CDS Clients)"


def client_for_jwt(db: Session, *, token: str, audience: str, nonces: SeenNonces) -> ApiClient:
    """The registered client that signed this CDS Hooks JWT for this service URL, else Unauthorized."""
    try:
        header = jwt.get_unverified_header(token)
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise Unauthorized(REFUSED) from exc
    client = db.scalar(select(ApiClient).where(ApiClient.issuer == issuer)) if isinstance(issuer, str) else None
    if client is None or client.jwks is None or header.get("alg") not in ALGORITHMS:
        raise Unauthorized(REFUSED)
    keys = _key_set(client.jwks).keys
    kid = header.get("kid")
    key = next((k for k in keys if k.key_id == kid), None) if kid else (keys[0] if len(keys) == 1 else None)
    if key is None:
        raise Unauthorized(REFUSED)
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[header["alg"]],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(REFUSED) from exc
    if not isinstance(claims["exp"], int | float) or claims["exp"] > time.time() + MAX_LIFETIME + LEEWAY:
        raise Unauthorized(REFUSED)
    if not nonces.first_time(issuer, str(claims["jti"]), float(claims["exp"])):
        raise Unauthorized(REFUSED)
    return client
