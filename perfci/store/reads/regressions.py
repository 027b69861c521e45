"""The regression list of the pages and the API, and triage history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perfci.store import models
from perfci.store.queries import Filters, count_regressions
from perfci.store.queries import regressions as stored_regressions
from perfci.store.reads.common import iso


def regressions(
    session: Session,
    filters: Filters,
    *,
    status: str | None = "open",
    kind: str | None = None,
    page: int = 1,
    per_page: int = 50,
    worst_first: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """(one page of rows, total) of the store's regression list."""
    rows = stored_regressions(
        session,
        status,
        filters=filters,
        kind=kind,
        limit=per_page,
        offset=(page - 1) * per_page,
        worst_first=worst_first,
    )
    return rows, count_regressions(session, status, filters=filters, kind=kind)


def triage_history(session: Session, regression_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not regression_ids:
        return {}
    events = session.scalars(
        select(models.TriageEvent)
        .where(models.TriageEvent.regression_id.in_(regression_ids))
        .order_by(models.TriageEvent.at, models.TriageEvent.id)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for e in events:
        out.setdefault(e.regression_id, []).append(
            {"status": e.status, "note": e.note, "author": e.author, "at": iso(e.at)}
        )
    return out
