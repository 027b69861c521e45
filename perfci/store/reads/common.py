"""What the filter bar offers: environments and branches; shared helpers of the read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perfci.store import models
from perfci.store.queries import environment_row


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def environments(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(select(models.Environment).order_by(models.Environment.device_name)).all()
    return [environment_row(e) for e in rows]


def branches(session: Session) -> list[str]:
    query = (
        select(models.Commit.branch)
        .where(models.Commit.branch.is_not(None))
        .distinct()
        .order_by(models.Commit.branch)
        .limit(200)
    )
    return list(session.scalars(query))
