"""The one way results enter the store: a validated document, stored whole in one transaction.

Idempotent by run id: a document whose run id is already stored is skipped, also when two
processes post it at the same moment (the unique constraint on ``runs.uuid`` decides).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from perfci.analysis.summary import summarize
from perfci.document import ResultsDocument
from perfci.fingerprint import environment_fingerprint, fingerprint_fields
from perfci.store import models
from perfci.store.engine import Store, dialect_insert, retry_transient


class RunConflict(ValueError):
    """The run id is stored with other content: a re-send must be the same document."""

    def __init__(self, run_uuid: uuid.UUID) -> None:
        super().__init__(
            f"run.id: run {run_uuid} is already stored with different content; a re-sent run must be "
            "the same document (give a new run its own run.id, or omit it)"
        )
        self.run_uuid = run_uuid


@dataclass(frozen=True)
class IngestOutcome:
    run_uuid: uuid.UUID
    stored: bool  # False: this run id was already in the store; nothing was written
    results: int


def _get_or_create(session: Session, model: type[models.Base], keys: dict[str, Any], values: dict[str, Any]) -> int:
    """Id of the row matching ``keys``; inserted with ``values`` if absent (race-free on both DBs)."""
    query: Select[Any] = select(model.id).filter_by(**keys)  # type: ignore[attr-defined]
    found = session.execute(query).scalar_one_or_none()
    if found is not None:
        return found
    session.execute(dialect_insert(session, model).values(**keys, **values).on_conflict_do_nothing())
    return session.execute(query).scalar_one()


def _case_ids(session: Session, document: ResultsDocument) -> dict[str, int]:
    """Ids of every case of the document, creating the missing ones in one statement."""
    keys = [result.case for result in document.results]
    query = select(models.Case.key, models.Case.id).where(models.Case.key.in_(keys))
    found = dict(session.execute(query).all())
    missing = [
        {"key": result.case, "op": result.op, "params": result.params}
        for result in document.results
        if result.case not in found
    ]
    if missing:
        session.execute(dialect_insert(session, models.Case).on_conflict_do_nothing(), missing)
        found = dict(session.execute(query).all())
    return found


def _series_ids(session: Session, repository_id: int, environment_id: int, case_ids: list[int]) -> dict[int, int]:
    """Series id per case id for one repository and environment, creating the missing ones."""
    query = select(models.Series.case_id, models.Series.id).where(
        models.Series.repository_id == repository_id,
        models.Series.environment_id == environment_id,
        models.Series.case_id.in_(case_ids),
    )
    found = dict(session.execute(query).all())
    missing = [
        {"repository_id": repository_id, "environment_id": environment_id, "case_id": case_id}
        for case_id in case_ids
        if case_id not in found
    ]
    if missing:
        session.execute(dialect_insert(session, models.Series).on_conflict_do_nothing(), missing)
        found = dict(session.execute(query).all())
    return found


def _already_stored(run_uuid: uuid.UUID, stored_digest: str | None, digest: str) -> IngestOutcome:
    """A re-sent run: the same content is a no-op; other content is a :class:`RunConflict`."""
    if stored_digest is not None and stored_digest != digest:
        raise RunConflict(run_uuid)
    return IngestOutcome(run_uuid, stored=False, results=0)


def _scope(run_extra: dict[str, Any]) -> dict[str, Any]:
    """The run's key columns from its (extra) fields: suite, case selection, pinned baseline."""
    suite, selection, baseline = run_extra.get("suite"), run_extra.get("selection"), run_extra.get("baseline") or {}
    patterns = [str(p) for p in selection] if isinstance(selection, list) and selection else None
    return {
        "suite": str(suite)[:64] if suite is not None else None,
        "selection": patterns,
        "baseline_commit": baseline.get("commit"),
        "baseline_run": uuid.UUID(baseline["run"]) if baseline.get("run") else None,
    }


def _timing_mode(result_extra: dict[str, Any]) -> str:
    timing = result_extra.get("timing")
    return str(timing.get("mode") or "")[:16] if isinstance(timing, dict) else ""


def _extras(model: Any) -> dict[str, Any]:
    return dict(model.model_extra or {})


def store_document(session: Session, document: ResultsDocument) -> IngestOutcome:
    """Write one document inside the caller's transaction; nothing when its run id is stored."""
    run = document.run
    run_uuid = document.run_id()
    digest = document.content_digest()
    stored_digest = session.execute(select(models.Run.id, models.Run.digest).where(models.Run.uuid == run_uuid)).first()
    if stored_digest:
        return _already_stored(run_uuid, stored_digest.digest, digest)

    repository_id = _get_or_create(session, models.Repository, {"name": run.repo}, {})
    commit = run.commit
    commit_id = _get_or_create(
        session,
        models.Commit,
        {"repository_id": repository_id, "sha": commit.sha},
        {
            "parents": list(commit.parents),
            "branch": commit.branch,
            "authored_at": commit.authored_at,
            "author": commit.author,
            "message": commit.message,
        },
    )
    if commit.branch:  # a commit first stored without a branch (a bisect's) gets it from a branch's run
        session.execute(
            update(models.Commit)
            .where(models.Commit.id == commit_id, models.Commit.branch.is_(None))
            .values(branch=commit.branch)
        )
    environment = run.environment
    environment_id = _get_or_create(
        session,
        models.Environment,
        {"fingerprint": environment_fingerprint(environment)},
        {name: value for name, value in fingerprint_fields(environment).items()},
    )
    extra = {
        "document": _extras(document),
        # the baseline is a known field, kept with the run's extras: the judge reads it, export writes it back
        "run": {
            **_extras(run),
            **({"baseline": run.baseline.model_dump(mode="json", exclude_none=True)} if run.baseline else {}),
        },
        "commit": _extras(commit),
        "environment": _extras(environment),
        "environment_extra": environment.extra,
        "python": environment.python,
    }
    inserted = session.execute(
        dialect_insert(session, models.Run)
        .values(
            uuid=run_uuid,
            repository_id=repository_id,
            commit_id=commit_id,
            environment_id=environment_id,
            trigger=run.trigger,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            ingested_at=models.utcnow(),
            hostname=environment.hostname,
            digest=digest,
            **_scope(extra["run"]),
            extra=extra,
        )
        .on_conflict_do_nothing()
        .returning(models.Run.id)
    ).scalar_one_or_none()
    if inserted is None:  # a concurrent writer stored the same run id first
        stored_digest = session.execute(select(models.Run.digest).where(models.Run.uuid == run_uuid)).scalar_one()
        return _already_stored(run_uuid, stored_digest, digest)

    case_ids = _case_ids(session, document)
    series_ids = _series_ids(session, repository_id, environment_id, list(case_ids.values()))
    rows: list[dict[str, Any]] = []
    blobs: list[bytes | None] = []
    for result in document.results:
        case_id = case_ids[result.case]
        series_id = series_ids[case_id]
        row_extras = _extras(result)
        row: dict[str, Any] = {
            "run_id": inserted,
            "case_id": case_id,
            "series_id": series_id,
            "commit_id": commit_id,
            "authored_at": commit.authored_at,
            "status": result.status,
            "error": result.error,
            "unit": result.unit,
            "n_samples": 0,
            "median": None,
            "mean": None,
            "minimum": None,
            "maximum": None,
            "q1": None,
            "q3": None,
            "stdev": None,
            "rel_err": None,
            "max_abs_err": None,
            "tolerance": None,
            "correct": None,
            "metrics": result.metrics,
            "config": result.config,
            "telemetry": result.telemetry,
            "extra": {"result": row_extras},
            "process_values": result.process_values(),
            "timing_mode": _timing_mode(row_extras),
            "judgement": None,
        }
        if result.samples:
            stats = summarize(result.samples)
            row.update(
                n_samples=stats.n,
                median=stats.median,
                mean=stats.mean,
                minimum=stats.minimum,
                maximum=stats.maximum,
                q1=stats.q1,
                q3=stats.q3,
                stdev=stats.stdev,
            )
        if result.processes:  # kept without their samples (the blob holds them in order), for export
            row["extra"]["processes"] = [
                {"n": len(process.samples), **process.model_dump(mode="json", exclude={"samples"})}
                for process in result.processes
            ]
        if result.correctness is not None:
            c = result.correctness
            row.update(rel_err=c.rel_err, max_abs_err=c.max_abs_err, tolerance=c.tolerance, correct=c.passed)
            row["extra"]["correctness"] = _extras(c)
        rows.append(row)
        blobs.append(models.Samples.pack(result.samples) if result.samples else None)

    if rows:
        result_ids = session.scalars(
            models.Result.__table__.insert().returning(models.Result.id, sort_by_parameter_order=True), rows
        ).all()
        sample_rows = [
            {"result_id": result_id, "values": blob}
            for result_id, blob in zip(result_ids, blobs, strict=True)
            if blob is not None
        ]
        if sample_rows:
            session.execute(models.Samples.__table__.insert(), sample_rows)
    return IngestOutcome(run_uuid, stored=True, results=len(rows))


def check_conflicts(store: Store, documents: list[ResultsDocument]) -> None:
    """Raise :class:`RunConflict` for the first document whose run id is stored with other content,
    before anything of a batch is stored."""
    digests: dict[uuid.UUID, str] = {}
    for document in documents:  # the same run id twice in the batch must be the same run
        run_uuid, digest = document.run_id(), document.content_digest()
        _already_stored(run_uuid, digests.setdefault(run_uuid, digest), digest)
    with store.read() as session:
        rows = session.execute(select(models.Run.uuid, models.Run.digest).where(models.Run.uuid.in_(list(digests))))
        for run_uuid, digest in rows:
            _already_stored(run_uuid, digest, digests[run_uuid])


def ingest_document(store: Store, document: ResultsDocument) -> IngestOutcome:
    """Store one validated document atomically; retried on lock contention."""

    def attempt() -> IngestOutcome:
        with store.write() as session:
            return store_document(session, document)

    return retry_transient(attempt)
