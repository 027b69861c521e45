"""Read queries that return plain rows (dicts), so no caller outside store/ touches the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, Row, Select, case, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from perfci.document import OFF_HISTORY_TRIGGERS
from perfci.findings import Finding, bisect_state, worst_first
from perfci.store import models


def point_columns() -> tuple[Any, ...]:
    """What every point of a series' trend has: the result id, its commit time as ``at`` (naive
    UTC: the aware conversion costs more than the query itself on 10k-point histories), status,
    median, quartiles, sample count and correctness."""
    return (
        models.Result.id,
        type_coerce(models.Result.authored_at, DateTime()).label("at"),
        models.Result.status,
        models.Result.median,
        models.Result.q1,
        models.Result.q3,
        models.Result.n_samples,
        models.Result.correct,
    )


def series_history(session: Session, series_id: int, limit: int | None = None) -> list[Row[Any]]:
    """One series' results in commit order, oldest first: a range scan of ``ix_results_series_history``.
    Returns named rows (``row.sha``, ``row.median``, ...; :func:`point_columns`)."""
    query = (
        select(*point_columns(), models.Commit.sha)
        .join(models.Commit, models.Commit.id == models.Result.commit_id)
        .where(models.Result.series_id == series_id)
        .order_by(models.Result.authored_at, models.Result.id)
    )
    if limit is not None:
        query = query.limit(limit)
    # Core execution on the session's connection skips ORM row processing (about 3x faster).
    return list(session.connection().execute(query).all())


@dataclass(frozen=True)
class Filters:
    """What lists of series and regressions can be narrowed by (the dashboard takes them from its
    query string, so every view has a permalink)."""

    op: str | None = None  # paged_prefill | paged_decode
    dtype: str | None = None  # bf16 | fp16 | int8kv (the case id's second segment)
    env: str | None = None  # environment fingerprint
    branch: str | None = None
    q: str | None = None  # case id text

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        def get(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value[:200] or None

        return cls(get("op"), get("dtype"), get("env"), get("branch"), get("q"))

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}

    def on_series(self, query: Select[Any]) -> Select[Any]:
        """``query`` must join Case and Environment."""
        if self.op:
            query = query.where(models.Case.op == self.op)
        if self.dtype:
            query = query.where(models.Case.key.like(f"%/{_escape(self.dtype)}/%", escape="\\"))
        if self.env:
            query = query.where(models.Environment.fingerprint == self.env)
        if self.q:
            query = query.where(models.Case.key.like(f"%{_escape(self.q)}%", escape="\\"))
        return query


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def environment_row(environment: models.Environment) -> dict[str, Any]:
    return {"fingerprint": environment.fingerprint, **environment.fields()}


KIND_ORDER = case(
    (models.Regression.kind == "correctness", 0),
    (models.Regression.kind == "missing", 1),
    (models.Regression.kind == "latency", 2),
    else_=3,
)


def _regressions_query(status: str | None, filters: Filters | None, kind: str | None) -> Select[Any]:
    baseline = aliased(models.Commit)
    query = (
        select(models.Regression, models.Commit, baseline.sha, baseline.authored_at, models.Case, models.Environment)
        .join(models.Commit, models.Commit.id == models.Regression.commit_id)
        .outerjoin(baseline, baseline.id == models.Regression.baseline_commit_id)
        .join(models.Series, models.Series.id == models.Regression.series_id)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
    )
    if filters is not None:
        query = filters.on_series(query)
        if filters.branch:
            query = query.where(models.Commit.branch == filters.branch)
    if status:
        query = query.where(models.Regression.status == status)
    if kind:
        query = query.where(models.Regression.kind == kind)
    return query


def count_rows(session: Session, query: Select[Any], key: Any) -> int:
    """How many rows ``query`` returns (counted over ``key`` alone, ignoring its other columns)."""
    return int(session.scalar(select(func.count()).select_from(query.with_only_columns(key).subquery())) or 0)


def count_regressions(
    session: Session, status: str | None = "open", *, filters: Filters | None = None, kind: str | None = None
) -> int:
    return count_rows(session, _regressions_query(status, filters, kind), models.Regression.id)


def regressions(
    session: Session,
    status: str | None = "open",
    *,
    filters: Filters | None = None,
    kind: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    worst_first: bool = False,
) -> list[dict[str, Any]]:
    """Regressions newest first (or worst first: correctness, missing, then by size), in the shape
    of ``perfci regressions --json``."""
    query = _regressions_query(status, filters, kind)
    if worst_first:
        query = query.order_by(
            KIND_ORDER, func.abs(func.coalesce(models.Regression.change, 0)).desc(), models.Regression.id.desc()
        )
    else:
        query = query.order_by(models.Regression.created_at.desc(), models.Regression.id.desc())
    rows = []
    for regression, commit, base_sha, base_at, case_, env in session.execute(query.limit(limit).offset(offset)):
        rows.append(
            {
                "id": regression.id,
                "series_id": regression.series_id,
                "case": case_.key,
                "op": case_.op,
                "kind": regression.kind,
                "change": regression.change,
                "status": regression.status,
                "note": regression.note,
                "author": regression.author,
                "commit": commit.sha,
                "message": (commit.message or "").split("\n", 1)[0][:200],
                "branch": commit.branch,
                "baseline_commit": base_sha,
                "authored_at": commit.authored_at.isoformat(),
                "baseline_authored_at": base_at.isoformat() if base_at else None,
                "created_at": regression.created_at.isoformat(),
                "updated_at": regression.updated_at.isoformat(),
                "verdict": regression.verdict,
                "bisect": bisect_state(regression.verdict),
                "environment": environment_row(env),
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
            models.Run.trigger.not_in(OFF_HISTORY_TRIGGERS),
        )
    )
    return set(session.scalars(query))


def recorded_findings(session: Session, run_uuid: Any) -> list[Finding]:
    """The regressions recorded at a stored run's commit in the series it measured: what the judge
    found when the run was first stored, for a runner that re-sends it (a lost answer, a resend)."""
    run = session.scalars(select(models.Run).where(models.Run.uuid == run_uuid)).one()
    measured = select(models.Result.series_id).where(models.Result.run_id == run.id)
    base = aliased(models.Commit)
    rows = session.execute(
        select(models.Regression, models.Case.key, base.sha)
        .join(models.Series, models.Series.id == models.Regression.series_id)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .outerjoin(base, base.id == models.Regression.baseline_commit_id)
        .where(models.Regression.commit_id == run.commit_id, models.Regression.series_id.in_(measured))
    ).all()
    return worst_first(
        Finding(key, r.kind, run.commit.sha, base_sha, r.change, r.verdict or {}) for r, key, base_sha in rows
    )


def run_identity(session: Session, run_uuid: Any) -> dict[str, Any]:
    """Which run this is, as an alert names it: run id, repository, commit, branch, trigger, device."""
    run = session.scalars(select(models.Run).where(models.Run.uuid == run_uuid)).one()
    return {
        "run_id": str(run.uuid),
        "repo": run.repository.name,
        "commit": run.commit.sha,
        "branch": run.commit.branch,
        "trigger": run.trigger,
        "device": run.environment.device_name,
    }
