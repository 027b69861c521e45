"""Series: the filtered list, one series' points (the trend) and its markers."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from perfci.document import OFF_HISTORY_TRIGGERS
from perfci.findings import autotune_summary
from perfci.store import models
from perfci.store.queries import Filters, count_rows, environment_row, point_columns
from perfci.store.reads.common import iso


def series_list(session: Session, filters: Filters, page: int = 1, per_page: int = 100) -> tuple[list[dict], int]:
    query = (
        select(models.Series, models.Case, models.Environment, models.Repository.name)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .join(models.Repository, models.Repository.id == models.Series.repository_id)
    )
    query = filters.on_series(query)
    if filters.branch:  # series measured on that branch
        on_branch = (
            select(models.Result.id)
            .join(models.Commit, models.Commit.id == models.Result.commit_id)
            .where(models.Result.series_id == models.Series.id, models.Commit.branch == filters.branch)
        )
        query = query.where(on_branch.exists())
    total = count_rows(session, query, models.Series.id)
    query = (
        query.order_by(models.Case.key, models.Environment.device_name).limit(per_page).offset((page - 1) * per_page)
    )
    rows = [
        {"id": s.id, "case": c.key, "op": c.op, "params": c.params, "repo": repo, "environment": environment_row(e)}
        for s, c, e, repo in session.execute(query)
    ]
    return rows, total


def series_info(session: Session, series_id: int) -> dict[str, Any] | None:
    row = session.execute(
        select(models.Series, models.Case, models.Environment, models.Repository.name)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .join(models.Repository, models.Repository.id == models.Series.repository_id)
        .where(models.Series.id == series_id)
    ).first()
    if row is None:
        return None
    s, c, e, repo = row
    return {"id": s.id, "case": c.key, "op": c.op, "params": c.params, "repo": repo, "environment": environment_row(e)}


def series_points(
    session: Session, series_id: int, last: int | None = None, branch: str | None = None
) -> list[dict[str, Any]]:
    """The trend's points, oldest first (the last ``last`` when given; only commits of ``branch``
    when given): one index range scan."""
    query = (
        select(
            *point_columns(),
            models.Result.rel_err,
            cast(models.Result.config, Text).label("config"),
            cast(models.Result.telemetry, Text).label("telemetry"),
            cast(models.Result.metrics, Text).label("metrics"),
            cast(models.Result.extra["processes"], Text).label("processes"),
            models.Result.timing_mode.label("timing"),
            models.Commit.sha,
            func.substr(models.Commit.message, 1, 120).label("message"),
            models.Commit.branch,
        )
        .join(models.Commit, models.Commit.id == models.Result.commit_id)
        .join(models.Run, models.Run.id == models.Result.run_id)
        .where(models.Result.series_id == series_id, models.Run.trigger.not_in(OFF_HISTORY_TRIGGERS))
        .order_by(models.Result.authored_at.desc(), models.Result.id.desc())
    )
    if branch:
        query = query.where(models.Commit.branch == branch)
    if last:
        query = query.limit(last)
    rows = session.connection().execute(query).all()
    rows.reverse()
    decoded: dict[str | None, Any] = {None: {}}

    def json_value(text: str | None) -> Any:
        # configs and telemetry repeat across commits: each distinct text is parsed once. The columns
        # are CAST to text in SQL: PostgreSQL's driver would hand back json values already decoded.
        if text not in decoded:
            decoded[text] = json.loads(text)
        return decoded[text]

    return [
        {
            "result": r.id,
            "at": r.at.isoformat(),
            "status": r.status,
            "median": r.median,
            "q1": r.q1,
            "q3": r.q3,
            "n": r.n_samples,
            "correct": r.correct,
            "rel_err": r.rel_err,
            "config": json_value(r.config),
            "autotune": autotune_summary([p.get("autotune") or {} for p in json_value(r.processes) or []]),
            "telemetry": json_value(r.telemetry),
            "roofline": json_value(r.metrics).get("roofline_fraction"),
            "timing": r.timing,
            "sha": r.sha,
            "message": (r.message or "").split("\n", 1)[0],
            "branch": r.branch,
        }
        for r in rows
    ]


def series_markers(session: Session, series_id: int, branch: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(models.Regression, models.Commit.sha)
        .join(models.Commit, models.Commit.id == models.Regression.commit_id)
        .where(models.Regression.series_id == series_id)
        .order_by(models.Commit.authored_at.desc(), models.Regression.id.desc())
    )
    if branch:
        query = query.where(models.Commit.branch == branch)
    return [
        {
            "id": r.id,
            "sha": sha,
            "kind": r.kind,
            "change": r.change,
            "status": r.status,
            "detector": (r.verdict or {}).get("detector"),
            "verdict": r.verdict,
            "note": r.note,
            "author": r.author,
            "created_at": iso(r.created_at),
        }
        for r, sha in session.execute(query)
    ]
