"""API tokens: random, stored only as their SHA-256 (no password to stretch: one hash is enough),
and compared in constant time with every configured hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def matches(presented: str | None, hashes: list[str]) -> bool:
    """Whether ``presented`` is one of the tokens behind ``hashes``; every hash is compared, so the
    time taken does not say which one matched."""
    if not presented:
        return False
    digest = hash_token(presented)
    found = False
    for stored in hashes:
        found |= hmac.compare_digest(digest, stored)
    return found
