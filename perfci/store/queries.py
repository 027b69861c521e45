"""Read queries that return plain rows (dicts), so no caller outside store/ touches the ORM."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Row, select, type_coerce
from sqlalchemy.orm import Session, aliased

from perfci.store import models


def series_history(session: Session, series_id: int, limit: int | None = None) -> list[Row[Any]]:
    """One series' results in commit order, oldest first: a range scan of ``ix_results_series_history``.

    Returns named rows (``row.sha``, ``row.median``, ...). ``authored_at`` is naive UTC here: the
    aware conversion costs more than the query itself on 10k-point histories.
    """
    query = (
        select(
            models.Result.id,
            type_coerce(models.Result.authored_at, DateTime()).label("authored_at"),
            models.Result.status,
            models.Result.median,
            models.Result.q1,
            models.Result.q3,
            models.Result.n_samples,
            models.Result.correct,
            models.Commit.sha,
        )
        .join(models.Commit, models.Commit.id == models.Result.commit_id)
        .where(models.Result.series_id == series_id)
        .order_by(models.Result.authored_at, models.Result.id)
    )
    if limit is not None:
        query = query.limit(limit)
    # Core execution on the session's connection skips ORM row processing (about 3x faster).
    return list(session.connection().execute(query).all())


def regressions(session: Session, status: str | None = "open") -> list[dict[str, Any]]:
    """Regressions newest first, in the shape of ``perfci regressions --json``."""
    baseline = aliased(models.Commit)
    query = (
        select(models.Regression, models.Commit.sha, baseline.sha, models.Case.key, models.Environment)
        .join(models.Commit, models.Commit.id == models.Regression.commit_id)
        .outerjoin(baseline, baseline.id == models.Regression.baseline_commit_id)
        .join(models.Series, models.Series.id == models.Regression.series_id)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .order_by(models.Regression.created_at.desc(), models.Regression.id.desc())
    )
    if status is not None:
        query = query.where(models.Regression.status == status)
    rows = []
    for regression, sha, baseline_sha, case_key, environment in session.execute(query):
        rows.append(
            {
                "id": regression.id,
                "case": case_key,
                "commit": sha,
                "baseline_commit": baseline_sha,
                "change": regression.change,
                "kind": regression.kind,
                "status": regression.status,
                "note": regression.note,
                "author": regression.author,
                "created_at": regression.created_at.isoformat(),
                "verdict": regression.verdict,
                "environment": {"fingerprint": environment.fingerprint, **environment.fields()},
            }
        )
    return rows


def stored_case_keys(session: Session, repo: str, sha: str, fingerprint: str) -> set[str]:
    """Case ids with a stored result of commit ``sha`` in this environment (complete runs only)."""
    query = (
        select(models.Case.key)
        .join(models.Result, models.Result.case_id == models.Case.id)
        .join(models.Run, models.Run.id == models.Result.run_id)
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .join(models.Repository, models.Repository.id == models.Run.repository_id)
        .join(models.Environment, models.Environment.id == models.Run.environment_id)
        .where(
            models.Repository.name == repo,
            models.Commit.sha == sha,
            models.Environment.fingerprint == fingerprint,
            models.Run.status == "complete",
        )
    )
    return set(session.scalars(query))


def recent_medians(session: Session, repo: str, case_key: str, fingerprint: str, limit: int = 60) -> list[float]:
    """The last ``limit`` ok medians of a series, oldest first (its run-to-run noise comes from these)."""
    query = (
        select(models.Result.median)
        .join(models.Series, models.Series.id == models.Result.series_id)
        .join(models.Repository, models.Repository.id == models.Series.repository_id)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .where(
            models.Repository.name == repo,
            models.Case.key == case_key,
            models.Environment.fingerprint == fingerprint,
            models.Result.status == "ok",
            models.Result.median.is_not(None),
        )
        .order_by(models.Result.authored_at.desc(), models.Result.id.desc())
        .limit(limit)
    )
    return list(reversed(session.scalars(query).all()))
