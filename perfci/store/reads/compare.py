"""Two commits or runs side by side, each case judged on its stored per-process values (the one
read model that computes a verdict on request)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perfci.analysis.verdict import judge_processes
from perfci.store import models
from perfci.store.reads.commits import find_commit, find_run


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
            models.Environment.device_name,
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
            "device": row.device_name,
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


def is_known_ref(session: Session, ref: str) -> bool:
    """Whether ``ref`` names a stored run or one stored commit (what the compare view accepts)."""
    return find_run(session, ref) is not None or find_commit(session, ref) is not None
