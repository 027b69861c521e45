"""Read models of the pages and the API: plain dicts from a few indexed queries each.

Nothing here computes detection: verdicts and change points were stored at ingest. The one
exception is the compare view, which judges two stored sets of per-process values on request.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import DateTime, Text, and_, cast, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from perfci.analysis.verdict import judge_processes
from perfci.store import models
from perfci.store.queries import (
    Filters,
    count_regressions,
    count_rows,
    environment_row,
    timing_mode_column,
    timing_mode_of,
)
from perfci.store.queries import regressions as stored_regressions


def _iso(value: Any) -> str | None:
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


# --- regressions -------------------------------------------------------------------------------


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
            {"status": e.status, "note": e.note, "author": e.author, "at": _iso(e.at)}
        )
    return out


# --- overview ----------------------------------------------------------------------------------


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
        .where(models.Run.trigger != "pr")
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
            "authored_at": _iso(commit.authored_at),
            "environment": environment_row(env),
            "results": counts.get(run.id, {}),
        }
        for run, commit, env in rows
    ]


# --- series ------------------------------------------------------------------------------------


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
            models.Result.id,
            type_coerce(models.Result.authored_at, DateTime()).label("at"),
            models.Result.status,
            models.Result.median,
            models.Result.q1,
            models.Result.q3,
            models.Result.n_samples,
            models.Result.correct,
            models.Result.rel_err,
            cast(models.Result.config, Text).label("config"),
            cast(models.Result.telemetry, Text).label("telemetry"),
            cast(models.Result.metrics, Text).label("metrics"),
            timing_mode_column.label("timing"),
            models.Commit.sha,
            func.substr(models.Commit.message, 1, 120).label("message"),
            models.Commit.branch,
        )
        .join(models.Commit, models.Commit.id == models.Result.commit_id)
        .where(models.Result.series_id == series_id)
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
            "created_at": _iso(r.created_at),
        }
        for r, sha in session.execute(query)
    ]


# --- commits and runs --------------------------------------------------------------------------


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
        "authored_at": _iso(commit.authored_at),
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
            previous_run.trigger != "pr",
            timing_mode_of(previous) == timing_mode_column,
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
        "status": run.status,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "ingested_at": _iso(run.ingested_at),
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


# --- compare and roofline ----------------------------------------------------------------------


def _side_results(session: Session, ref: str) -> tuple[str, dict[tuple[str, str], dict[str, Any]]] | None:
    """(label, {(case, fingerprint): result row}) of a run id or a commit (its latest complete run per series)."""
    query = (
        select(
            models.Result.id,
            models.Result.series_id,
            models.Result.status,
            models.Result.median,
            models.Result.n_samples,
            models.Result.rel_err,
            models.Result.process_values,
            models.Case.key,
            models.Environment.fingerprint,
            models.Commit.sha,
        )
        .join(models.Run, models.Run.id == models.Result.run_id)
        .join(models.Case, models.Case.id == models.Result.case_id)
        .join(models.Series, models.Series.id == models.Result.series_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .join(models.Commit, models.Commit.id == models.Result.commit_id)
        .order_by(models.Run.ingested_at, models.Result.id)
    )
    run = find_run(session, ref)
    if run is not None:
        query, label = query.where(models.Result.run_id == run.id), f"run {run.uuid}"
    else:
        commit = find_commit(session, ref)
        if commit is None:
            return None
        query = query.where(models.Result.commit_id == commit.id, models.Run.status == "complete")
        label = commit.sha
    out = {}
    for row in session.execute(query):  # later runs overwrite earlier ones
        out[(row.key, row.fingerprint)] = {
            "id": row.id,
            "series_id": row.series_id,
            "status": row.status,
            "median": row.median,
            "n": row.n_samples,
            "rel_err": row.rel_err,
            "commit": row.sha,
            "processes": row.process_values or [row.median],
        }
    return label, out


def compare(session: Session, base_ref: str, head_ref: str, threshold: float = 0.02) -> dict[str, Any] | None:
    """Two commits or runs side by side: every shared case judged on its stored per-process values
    (one process on a side is no verdict: ``perfci compare`` measures process pairs)."""
    base, head = _side_results(session, base_ref), _side_results(session, head_ref)
    if base is None or head is None:
        return None
    rows = []
    for key in sorted(set(base[1]) | set(head[1])):
        b, h = base[1].get(key), head[1].get(key)
        row: dict[str, Any] = {
            "case": key[0],
            "fingerprint": key[1],
            "series_id": (b or h)["series_id"],
            "base": b,
            "head": h,
            "change": None,
            "verdict": None,
        }
        if b and h and b["median"] and h["median"]:
            row["change"] = h["median"] / b["median"] - 1.0
            row["verdict"] = judge_processes(
                b["processes"], h["processes"], threshold=threshold, resamples=500
            ).as_dict()
        if h and h["status"] != "ok" and b and b["status"] == "ok":
            row["verdict"] = {"kind": "correctness"}
        rows.append(row)
    rows.sort(key=lambda r: -(r["change"] if r["change"] is not None else -1e9))
    return {"base": base[0], "head": head[0], "threshold": threshold, "rows": rows}


def roofline(session: Session, filters: Filters) -> dict[str, Any]:
    """The latest ok result of every (filtered) series with its achieved rate and the card's ceilings."""
    latest = (  # newest ok result of the series: a backwards walk of ix_results_series_history, stopping early
        select(models.Result.id)
        .where(models.Result.series_id == models.Series.id, models.Result.status == "ok")
        .order_by(models.Result.authored_at.desc(), models.Result.id.desc())
        .limit(1)
        .correlate(models.Series)
        .scalar_subquery()
    )
    query = (
        select(models.Series.id, models.Case, models.Environment, models.Result)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .join(models.Result, models.Result.id == latest)
    )
    query = filters.on_series(query).order_by(models.Case.key)
    points, ceilings = [], {}
    for series_id, case_, env, result in session.execute(query):
        m = result.metrics or {}
        flops, nbytes = m.get("useful_flops"), m.get("min_bytes")
        points.append(
            {
                "series_id": series_id,
                "case": case_.key,
                "op": case_.op,
                "fingerprint": env.fingerprint,
                "device": env.device_name,
                "median": result.median,
                "tflops": m.get("tflops"),
                "gbps": m.get("gbps"),
                "roofline_fraction": m.get("roofline_fraction"),
                "intensity": (flops / nbytes) if flops and nbytes else None,
            }
        )
        if env.fingerprint not in ceilings:
            ceilings[env.fingerprint] = _ceilings(session, env.id) | {"device": env.device_name}
    return {"points": points, "ceilings": ceilings}


def _ceilings(session: Session, environment_id: int) -> dict[str, Any]:
    """Ceilings measured in the environment's latest run that has them (perfci run measures them)."""
    for extra in session.scalars(
        select(models.Run.extra)
        .where(models.Run.environment_id == environment_id)
        .order_by(models.Run.ingested_at.desc())
        .limit(20)
    ):
        found = ((extra or {}).get("environment_extra") or {}).get("ceilings")
        if found:
            return dict(found)
    return {}
