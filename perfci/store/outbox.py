"""The alert outbox: webhook deliveries queued as rows, claimed and finished by a sender.

A run's deliveries are queued in the transaction that judges it (or, when ``perfci run`` will
re-measure a suspicion first, in the transaction after the confirmation), so a stored, judged run
always has its alerts queued, and no request ever waits on a webhook. Senders claim a due row by a
conditional UPDATE (one sender wins, on SQLite and PostgreSQL alike); a row claimed by a sender
that died is due again after ``lease_s``. Delivery is at least once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from perfci.store import models
from perfci.store.engine import Store, retry_transient


@dataclass(frozen=True)
class QueuedDelivery:
    """A delivery to queue: which webhook, where, and the body to send."""

    webhook: str
    url: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ClaimedDelivery:
    """A due delivery this sender now owns until it finishes it (or its lease runs out)."""

    id: int
    run_uuid: uuid.UUID
    webhook: str
    url: str
    payload: dict[str, Any]
    attempts: int


def enqueue(session: Session, run_uuid: uuid.UUID, deliveries: list[QueuedDelivery]) -> list[int]:
    """Queue ``deliveries`` for a run and mark its alerts queued, inside the caller's transaction."""
    now = models.utcnow()
    rows = [
        models.AlertDelivery(
            run_uuid=run_uuid,
            webhook=d.webhook,
            url=d.url,
            payload=d.payload,
            status="pending",
            attempts=0,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )
        for d in deliveries
    ]
    session.add_all(rows)
    session.execute(update(models.Run).where(models.Run.uuid == run_uuid).values(alerted_at=now))
    session.flush()
    return [row.id for row in rows]


def claim_due(store: Store, *, lease_s: float, limit: int = 20, ids: list[int] | None = None) -> list[ClaimedDelivery]:
    """Claim up to ``limit`` due deliveries (``ids``: only those): pending ones whose time has come
    and ones left ``sending`` longer than ``lease_s`` by a sender that stopped."""
    now = models.utcnow()
    table = models.AlertDelivery
    due = or_(
        and_(table.status == "pending", or_(table.next_attempt_at.is_(None), table.next_attempt_at <= now)),
        and_(table.status == "sending", table.updated_at < now - timedelta(seconds=lease_s)),
    )

    def attempt() -> list[ClaimedDelivery]:
        claimed = []
        with store.write() as session:
            query = select(table.id, table.status, table.updated_at).where(due)
            if ids is not None:
                query = query.where(table.id.in_(ids))
            for row_id, status, updated_at in session.execute(query.order_by(table.id).limit(limit)).all():
                won = session.execute(
                    update(table)
                    .where(table.id == row_id, table.status == status, table.updated_at == updated_at)
                    .values(status="sending", updated_at=now)
                ).rowcount
                if won:
                    row = session.get(table, row_id)
                    assert row is not None
                    claimed.append(
                        ClaimedDelivery(row.id, row.run_uuid, row.webhook, row.url, row.payload, row.attempts)
                    )
        return claimed

    return retry_transient(attempt)


def finish(store: Store, delivery_id: int, *, status: str, error: str | None, retry_at: datetime | None) -> None:
    """Record one try of a claimed delivery: ``sent``, ``failed`` (out of attempts) or ``pending``
    again at ``retry_at``."""

    def attempt() -> None:
        with store.write() as session:
            row = session.get(models.AlertDelivery, delivery_id)
            assert row is not None
            row.status, row.last_error, row.next_attempt_at = status, error, retry_at
            row.attempts += 1
            row.updated_at = models.utcnow()

    retry_transient(attempt)


def deliveries(store: Store, *, status: str | None = None, ids: list[int] | None = None) -> list[models.AlertDelivery]:
    """Deliveries (oldest first), of one status and/or some ids."""
    with store.read() as session:
        query = select(models.AlertDelivery)
        if status is not None:
            query = query.where(models.AlertDelivery.status == status)
        if ids is not None:
            query = query.where(models.AlertDelivery.id.in_(ids))
        return list(session.scalars(query.order_by(models.AlertDelivery.created_at, models.AlertDelivery.id)))


def requeue_failed(store: Store) -> list[int]:
    """Make every failed delivery due now with a fresh set of attempts (``perfci alerts --retry``);
    returns their ids."""

    def attempt() -> list[int]:
        with store.write() as session:
            ids = list(session.scalars(select(models.AlertDelivery.id).where(models.AlertDelivery.status == "failed")))
            session.execute(
                update(models.AlertDelivery)
                .where(models.AlertDelivery.id.in_(ids))
                .values(status="pending", attempts=0, next_attempt_at=models.utcnow())
            )
            return ids

    return retry_transient(attempt)


def runs_awaiting_alerts(store: Store, *, older_than_s: float) -> list[uuid.UUID]:
    """Complete runs stored more than ``older_than_s`` ago whose alerts were never queued: their
    re-measurement did not finish (the process stopped)."""
    cutoff = models.utcnow() - timedelta(seconds=older_than_s)
    with store.read() as session:
        query = select(models.Run.uuid).where(
            models.Run.alerted_at.is_(None), models.Run.status == "complete", models.Run.ingested_at < cutoff
        )
        return list(session.scalars(query.order_by(models.Run.id)))
