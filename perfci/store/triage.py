"""Triage of a regression: a status with a note, an author and a time, each change kept in its history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from perfci.store import models
from perfci.store.engine import Store, retry_transient
from perfci.store.reads.commits import find_commit


class TriageError(ValueError):
    """Unknown regression or status; the message says what to use instead."""


def set_status(store: Store, regression_id: int, status: str, note: str | None, author: str | None) -> dict[str, Any]:
    """Move a regression to ``status``; ``expected`` makes its commit the series' new baseline
    (the judge's history window starts there)."""
    return set_statuses(store, [regression_id], status, note, author)[0]


def set_statuses(
    store: Store, regression_ids: list[int], status: str, note: str | None, author: str | None
) -> list[dict[str, Any]]:
    """Move several regressions to ``status`` in one transaction: all of them, or none when one
    id names no regression."""
    if status not in models.TRIAGE_STATUSES:
        raise TriageError(f"status: {status!r} is not one of {', '.join(models.TRIAGE_STATUSES)}")

    def attempt() -> list[dict[str, Any]]:
        out = []
        with store.write() as session:
            for regression_id in dict.fromkeys(regression_ids):
                regression = session.get(models.Regression, regression_id)
                if regression is None:
                    raise TriageError(
                        f"regression {regression_id} does not exist (nothing was changed); "
                        "`perfci regressions --status all` lists ids"
                    )
                regression.status = status
                regression.note = note if note is not None else regression.note
                regression.author = author if author is not None else regression.author
                regression.updated_at = models.utcnow()
                session.add(
                    models.TriageEvent(
                        regression_id=regression.id, status=status, note=note, author=author, at=regression.updated_at
                    )
                )
                out.append(
                    {
                        "id": regression.id,
                        "kind": regression.kind,
                        "status": regression.status,
                        "note": regression.note,
                        "author": regression.author,
                        "updated_at": regression.updated_at.isoformat(),
                    }
                )
        return out

    return retry_transient(attempt)


def history(store: Store, regression_id: int) -> list[dict[str, Any]]:
    """Every triage change of a regression, oldest first (its creation as ``open`` comes first)."""
    with store.read() as session:
        regression = session.get(models.Regression, regression_id)
        if regression is None:
            raise TriageError(f"regression {regression_id} does not exist; `perfci regressions --status all` lists ids")
        events = session.scalars(
            select(models.TriageEvent)
            .where(models.TriageEvent.regression_id == regression_id)
            .order_by(models.TriageEvent.at, models.TriageEvent.id)
        ).all()
        created = {"status": "open", "note": None, "author": "perfci", "at": regression.created_at.isoformat()}
        return [created] + [
            {"status": e.status, "note": e.note, "author": e.author, "at": e.at.isoformat()} for e in events
        ]


def open_ids_at(store: Store, refs: list[str]) -> tuple[list[int], list[str]]:
    """(ids of the open findings at these commits, the refs that name no stored commit). A ref is a
    full sha or a unique prefix of 7+ hex characters."""
    ids: list[int] = []
    unknown: list[str] = []
    with store.read() as session:
        for ref in refs:
            commit = find_commit(session, ref)
            if commit is None:
                unknown.append(ref)
                continue
            ids += session.scalars(
                select(models.Regression.id)
                .where(models.Regression.commit_id == commit.id, models.Regression.status == "open")
                .order_by(models.Regression.id)
            ).all()
    return ids, unknown
