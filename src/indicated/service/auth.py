"""Reviewer passwords (Argon2id, argon2-cffi) and login tokens (random, stored only as a SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash no password matches, made with today's parameters on first use: a log-in for an unknown
    name is verified against it, so that it costs what a wrong password costs and timing does not tell
    which names exist (issue 17.7). Made, not written down, so that it follows the hasher's settings."""
    return _hasher.hash(secrets.token_urlsafe(32))


def new_token() -> tuple[str, str]:
    """A token for the client and the hash we keep: a leaked database holds no usable token."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
