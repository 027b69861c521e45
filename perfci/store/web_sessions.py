"""Browser sign-ins kept by the server: started at sign-in, ended by sign-out, looked up per request.

The cookie carries a random secret; the store keeps only its SHA-256, so a copy of the database
cannot sign anyone in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update

from perfci.store import models
from perfci.store.engine import Store, retry_transient


@dataclass(frozen=True)
class SignIn:
    token_hash: str
    writer: bool


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(store: Store, secret: str, token_hash: str, writer: bool) -> None:
    def attempt() -> None:
        with store.write() as session:
            session.add(
                models.WebSession(id=_key(secret), token_hash=token_hash, writer=writer, created_at=models.utcnow())
            )

    retry_transient(attempt)


def end(store: Store, secret: str) -> None:
    def attempt() -> None:
        with store.write() as session:
            session.execute(
                update(models.WebSession)
                .where(models.WebSession.id == _key(secret), models.WebSession.ended_at.is_(None))
                .values(ended_at=models.utcnow())
            )

    retry_transient(attempt)


def live(store: Store, secret: str, *, max_age_s: float) -> SignIn | None:
    """The sign-in behind ``secret`` while it has not ended nor outlived ``max_age_s``; else None."""
    with store.read() as session:
        row = session.get(models.WebSession, _key(secret))
        if row is None or row.ended_at is not None or row.created_at < models.utcnow() - timedelta(seconds=max_age_s):
            return None
        return SignIn(row.token_hash, row.writer)
