"""Stored runs back out as ``perfci.results/1`` documents (what import reads, field for field)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from perfci.document import SCHEMA_ID
from perfci.store import models
from perfci.store.recorded import recorded_by_place


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def run_document(session: Session, run: models.Run) -> dict[str, Any]:
    """One run as a document; unknown fields kept at import come back where they were."""
    extra = run.extra or {}
    commit, environment = run.commit, run.environment
    results = session.execute(
        select(models.Result, models.Case, models.Samples.values)
        .join(models.Case, models.Case.id == models.Result.case_id)
        .outerjoin(models.Samples, models.Samples.result_id == models.Result.id)
        .where(models.Result.run_id == run.id)
        .order_by(models.Result.id)
    ).all()
    result_docs = []
    for result, case, blob in results:
        correctness = None
        if result.correct is not None:
            correctness = _drop_none(
                {
                    "rel_err": result.rel_err,
                    "max_abs_err": result.max_abs_err,
                    "tolerance": result.tolerance,
                    "passed": result.correct,
                    **result.extra.get("correctness", {}),
                }
            )
        samples = models.Samples.unpack(blob) if blob else None
        processes = None
        if samples and result.extra.get("processes"):
            processes, offset = [], 0
            for process in result.extra["processes"]:
                count = process["n"]
                processes.append(
                    {**{k: v for k, v in process.items() if k != "n"}, "samples": samples[offset : offset + count]}
                )
                offset += count
        result_docs.append(
            _drop_none(
                {
                    "case": case.key,
                    "op": case.op,
                    "params": case.params,
                    "status": result.status,
                    "error": result.error,
                    "unit": result.unit,
                    "samples": samples,
                    "processes": processes,
                    "correctness": correctness,
                    "metrics": result.metrics,
                    "config": result.config,
                    "telemetry": result.telemetry,
                    **result.extra.get("result", {}),
                }
            )
        )
    environment_doc = _drop_none(
        {
            **environment.fields(),
            "python": extra.get("python", environment.python),
            "hostname": run.hostname,
            "extra": extra.get("environment_extra") or None,
            **extra.get("environment", {}),
        }
    )
    commit_doc = _drop_none(
        {
            "sha": commit.sha,
            "parents": commit.parents,
            "branch": commit.branch,
            "authored_at": _iso(commit.authored_at),
            "author": commit.author,
            "message": commit.message,
            **extra.get("commit", {}),
        }
    )
    run_doc = _drop_none(
        {
            "id": str(run.uuid),
            "repo": run.repository.name,
            "commit": commit_doc,
            "trigger": run.trigger,
            "status": run.status if run.status != "running" else "aborted",
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "environment": environment_doc,
            **extra.get("run", {}),
        }
    )
    return {"schema": SCHEMA_ID, "run": run_doc, "results": result_docs, **extra.get("document", {})}


def export_documents(session: Session, commit_sha: str | None = None, repo: str | None = None) -> list[dict[str, Any]]:
    """Every stored run (of one commit, if given; sha prefixes allowed), oldest commit first; the
    first run of each (repository, environment, commit) carries the findings recorded there."""
    query = (
        select(models.Run)
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .options(joinedload(models.Run.commit), joinedload(models.Run.environment), joinedload(models.Run.repository))
        .order_by(models.Commit.authored_at, models.Run.id)
    )
    if commit_sha:
        query = query.where(models.Commit.sha.startswith(commit_sha.lower()))
    if repo:
        query = query.join(models.Repository, models.Repository.id == models.Run.repository_id).where(
            models.Repository.name == repo
        )
    recorded = recorded_by_place(session)
    documents = []
    for run in session.scalars(query).unique():
        document = run_document(session, run)
        place = (run.repository_id, run.environment_id, run.commit_id)
        if place in recorded:  # the first run of each place carries its findings and their triage
            document["regressions"] = recorded.pop(place)
        documents.append(document)
    return documents
