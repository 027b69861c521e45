"""The overview: the latest run per branch and GPU with its result statuses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from perfci.document import OFF_HISTORY_TRIGGERS
from perfci.store import models
from perfci.store.queries import Filters, environment_row
from perfci.store.reads.common import iso


def latest_runs(session: Session, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """The latest run (by commit time) per (branch, environment), with counts of result statuses."""
    ranked = (
        select(
            models.Run.id.label("run_id"),
            func.row_number()
            .over(
                partition_by=(models.Commit.branch, models.Run.environment_id),
                order_by=(models.Commit.authored_at.desc(), models.Run.id.desc()),
            )
            .label("rank"),
        )
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .where(models.Run.trigger.not_in(OFF_HISTORY_TRIGGERS))
    )
    if filters.branch:
        ranked = ranked.where(models.Commit.branch == filters.branch)
    if filters.env:
        ranked = ranked.join(models.Environment, models.Environment.id == models.Run.environment_id).where(
            models.Environment.fingerprint == filters.env
        )
    latest = ranked.subquery()
    query = (
        select(models.Run, models.Commit, models.Environment)
        .join(latest, and_(latest.c.run_id == models.Run.id, latest.c.rank == 1))
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .join(models.Environment, models.Environment.id == models.Run.environment_id)
        .order_by(models.Commit.authored_at.desc())
        .limit(limit)
    )
    rows = session.execute(query).all()
    counts: dict[int, dict[str, int]] = {}
    if rows:
        for run_id, status, n in session.execute(
            select(models.Result.run_id, models.Result.status, func.count())
            .where(models.Result.run_id.in_([run.id for run, _, _ in rows]))
            .group_by(models.Result.run_id, models.Result.status)
        ):
            counts.setdefault(run_id, {})[status] = n
    return [
        {
            "run": str(run.uuid),
            "status": run.status,
            "trigger": run.trigger,
            "branch": commit.branch,
            "commit": commit.sha,
            "message": (commit.message or "").split("\n", 1)[0][:200],
            "authored_at": iso(commit.authored_at),
            "environment": environment_row(env),
            "results": counts.get(run.id, {}),
        }
        for run, commit, env in rows
    ]
