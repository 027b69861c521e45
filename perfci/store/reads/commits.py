"""Commits and runs: lookups by sha prefix or run id, a commit's results against their baselines,
runs and their results."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from perfci.document import OFF_HISTORY_TRIGGERS
from perfci.store import models
from perfci.store.queries import count_rows, environment_row
from perfci.store.reads.common import iso


def find_commit(session: Session, ref: str) -> models.Commit | None:
    """A commit by full sha or a unique prefix of at least 7 hex characters."""
    ref = ref.lower()
    if len(ref) < 7 or len(ref) > 40 or any(ch not in "0123456789abcdef" for ch in ref):
        return None
    rows = session.scalars(select(models.Commit).where(models.Commit.sha.like(f"{ref}%")).limit(2)).all()
    return rows[0] if len(rows) == 1 else None


def commit_info(commit: models.Commit) -> dict[str, Any]:
    return {
        "sha": commit.sha,
        "parents": commit.parents,
        "branch": commit.branch,
        "authored_at": iso(commit.authored_at),
        "author": commit.author,
        "message": commit.message,
    }


def commits(session: Session, branch: str | None, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
    query = select(models.Commit)
    if branch:
        query = query.where(models.Commit.branch == branch)
    total = count_rows(session, query, models.Commit.id)
    query = query.order_by(models.Commit.authored_at.desc(), models.Commit.id.desc())
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    return [commit_info(c) for c in rows], total


def _result_row(r: models.Result, case_: models.Case, env: models.Environment) -> dict[str, Any]:
    return {
        "id": r.id,
        "series_id": r.series_id,
        "case": case_.key,
        "op": case_.op,
        "status": r.status,
        "error": r.error,
        "unit": r.unit,
        "n_samples": r.n_samples,
        "median": r.median,
        "q1": r.q1,
        "q3": r.q3,
        "min": r.minimum,
        "max": r.maximum,
        "rel_err": r.rel_err,
        "tolerance": r.tolerance,
        "correct": r.correct,
        "metrics": r.metrics,
        "config": r.config,
        "telemetry": r.telemetry,
        "judgement": r.judgement,
        "process_values": r.process_values,
        "environment": environment_row(env),
    }


def commit_results(session: Session, commit: models.Commit) -> list[dict[str, Any]]:
    """Every result of the commit against its baseline (the series' previous result outside PR
    runs, timed in the same mode), with the stored verdict when one was recorded; sorted by change,
    slowest first."""
    previous = aliased(models.Result)
    previous_run = aliased(models.Run)
    base_id = (
        select(previous.id)
        .join(previous_run, previous_run.id == previous.run_id)
        .where(
            previous.series_id == models.Result.series_id,
            previous.authored_at < models.Result.authored_at,
            previous_run.trigger.not_in(OFF_HISTORY_TRIGGERS),
            previous.timing_mode == models.Result.timing_mode,
        )
        .order_by(previous.authored_at.desc(), previous.id.desc())
        .limit(1)
        .correlate(models.Result)
        .scalar_subquery()
    )
    rows = session.execute(
        select(models.Result, models.Case, models.Environment, base_id.label("base_id"))
        .join(models.Case, models.Case.id == models.Result.case_id)
        .join(models.Series, models.Series.id == models.Result.series_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .where(models.Result.commit_id == commit.id)
    ).all()
    bases = {}
    base_ids = [b for *_, b in rows if b is not None]
    if base_ids:
        for r, sha in session.execute(
            select(models.Result, models.Commit.sha)
            .join(models.Commit, models.Commit.id == models.Result.commit_id)
            .where(models.Result.id.in_(base_ids))
        ):
            bases[r.id] = (r, sha)
    verdicts: dict[int, list[dict[str, Any]]] = {}
    for reg in session.scalars(select(models.Regression).where(models.Regression.commit_id == commit.id)):
        verdicts.setdefault(reg.series_id, []).append(
            {"id": reg.id, "kind": reg.kind, "status": reg.status, "change": reg.change, "verdict": reg.verdict}
        )
    out = []
    for r, case_, env, base in rows:
        row = _result_row(r, case_, env)
        b = bases.get(base)
        row["baseline"] = {"sha": b[1], "median": b[0].median, "status": b[0].status} if b else None
        row["change"] = (r.median / b[0].median - 1.0) if b and r.median and b[0].median else None
        row["regressions"] = verdicts.get(r.series_id, [])
        out.append(row)
    out.sort(key=lambda x: (x["status"] == "ok", -(x["change"] if x["change"] is not None else -1e9)))
    return out


def runs(session: Session, page: int, per_page: int, commit: models.Commit | None = None) -> tuple[list[dict], int]:
    query = select(models.Run, models.Commit, models.Environment).join(models.Commit).join(models.Environment)
    if commit is not None:
        query = query.where(models.Run.commit_id == commit.id)
    total = count_rows(session, query, models.Run.id)
    query = (
        query.order_by(models.Run.ingested_at.desc(), models.Run.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [run_info(run, c, e) for run, c, e in session.execute(query)], total


def run_info(run: models.Run, commit: models.Commit, env: models.Environment) -> dict[str, Any]:
    return {
        "id": str(run.uuid),
        "repo": run.repository.name,
        "commit": commit.sha,
        "branch": commit.branch,
        "trigger": run.trigger,
        "suite": run.suite,
        "selection": run.selection,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "ingested_at": iso(run.ingested_at),
        "hostname": run.hostname,
        "baseline": (run.extra or {}).get("run", {}).get("baseline"),
        "environment": environment_row(env),
    }


def find_run(session: Session, ref: str) -> models.Run | None:
    try:
        key = uuid.UUID(ref)
    except ValueError:
        return None
    return session.scalars(select(models.Run).where(models.Run.uuid == key)).first()


def run_results(session: Session, run_ids: list[int], page: int, per_page: int) -> tuple[list[dict], int]:
    query = (
        select(models.Result, models.Case, models.Environment)
        .join(models.Case, models.Case.id == models.Result.case_id)
        .join(models.Series, models.Series.id == models.Result.series_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .where(models.Result.run_id.in_(run_ids))
    )
    total = count_rows(session, query, models.Result.id)
    query = query.order_by(models.Case.key, models.Result.id).limit(per_page).offset((page - 1) * per_page)
    return [_result_row(r, c, e) for r, c, e in session.execute(query)], total


def run_ids_of_commit(session: Session, commit: models.Commit) -> list[int]:
    return list(session.scalars(select(models.Run.id).where(models.Run.commit_id == commit.id)))


def finding_counts(session: Session, run_ids: list[str]) -> dict[str, int]:
    """Per run id: the findings recorded at its commit for its repository and GPU (a case that
    stopped reporting included)."""
    wanted = [uuid.UUID(run_id) for run_id in run_ids]
    rows = session.execute(
        select(models.Run.uuid, func.count(models.Regression.id))
        .join(models.Regression, models.Regression.commit_id == models.Run.commit_id)
        .join(
            models.Series,
            and_(
                models.Series.id == models.Regression.series_id,
                models.Series.repository_id == models.Run.repository_id,
                models.Series.environment_id == models.Run.environment_id,
            ),
        )
        .where(models.Run.uuid.in_(wanted))
        .group_by(models.Run.uuid)
    ).all()
    return {str(run_uuid): count for run_uuid, count in rows}


def result_ids_of_run(session: Session, run: models.Run) -> set[int]:
    return set(session.scalars(select(models.Result.id).where(models.Result.run_id == run.id)))
