"""Jobs for the worker pool, as rows: queued by ``perfci submit``, claimed, beaten and finished by a
worker (``perfci.jobs``), read by the Jobs page and API.

A claim is a conditional UPDATE, so of two workers handed the same job (a message redelivered after
a broker restart, or after its worker was killed) one runs it: the other sees it finished, or held
by a live worker (whose ``heartbeat_at`` is recent) and retries later, or held by a dead one (an old
heartbeat) and takes it over.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import func, or_, select, update

from perfci.store import models
from perfci.store.engine import Store, retry_transient

#: exit codes of a command that did its job: 0 nothing found, 1 a regression found
FINISHED_CODES = (0, 1)


class Claim(Enum):
    CLAIMED = "claimed"  # this worker runs it now
    FINISHED = "finished"  # done or failed already: nothing to run
    HELD = "held"  # a live worker runs it: try again later
    MISSING = "missing"  # no such job in this store


def queue_job(store: Store, kind: str, repository: str, args: list[str], queue: str) -> uuid.UUID:
    """Record a job as queued; its id is what the broker's message carries."""
    job_id = uuid.uuid4()

    def write() -> None:
        with store.write() as session:
            session.add(models.Job(id=job_id, kind=kind, repository=repository, args=args, queue=queue, attempts=0))

    retry_transient(write)
    return job_id


def claim(store: Store, job_id: uuid.UUID, worker: str, stale_after_s: float) -> Claim:
    """Take the job for ``worker`` unless it finished or a live worker holds it."""
    now = models.utcnow()
    stale = now - timedelta(seconds=stale_after_s)

    def write() -> Claim:
        with store.write() as session:
            taken = session.execute(
                update(models.Job)
                .where(
                    models.Job.id == job_id,
                    or_(
                        models.Job.status == "queued",
                        (models.Job.status == "running") & (models.Job.heartbeat_at < stale),
                    ),
                )
                .values(
                    status="running", worker=worker, attempts=models.Job.attempts + 1, started_at=now, heartbeat_at=now
                )
            ).rowcount
            if taken:
                return Claim.CLAIMED
            status = session.scalar(select(models.Job.status).where(models.Job.id == job_id))
        if status is None:
            return Claim.MISSING
        return Claim.HELD if status == "running" else Claim.FINISHED

    return retry_transient(write)


def beat(store: Store, job_id: uuid.UUID, worker: str) -> None:
    """The running worker is alive: its claim stays."""

    def write() -> None:
        with store.write() as session:
            session.execute(
                update(models.Job)
                .where(models.Job.id == job_id, models.Job.worker == worker, models.Job.status == "running")
                .values(heartbeat_at=models.utcnow())
            )

    retry_transient(write)


def finish(
    store: Store, job_id: uuid.UUID, worker: str, exit_code: int, output: str, result: dict[str, Any] | None
) -> None:
    """Record the command's end: ``done`` when it exited 0 or 1 (1: it found a regression), else
    ``failed``. Only the worker holding the claim writes it."""

    def write() -> None:
        with store.write() as session:
            session.execute(
                update(models.Job)
                .where(models.Job.id == job_id, models.Job.worker == worker, models.Job.status == "running")
                .values(
                    status="done" if exit_code in FINISHED_CODES else "failed",
                    exit_code=exit_code,
                    output=output,
                    result=result,
                    finished_at=models.utcnow(),
                )
            )

    retry_transient(write)


def _as_dict(job: models.Job) -> dict[str, Any]:
    ended = job.finished_at or (models.utcnow() if job.started_at else None)
    return {
        "id": str(job.id),
        "kind": job.kind,
        "repository": job.repository,
        "args": job.args,
        "queue": job.queue,
        "status": job.status,
        "worker": job.worker,
        "attempts": job.attempts,
        "exit_code": job.exit_code,
        "queued_at": job.queued_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "seconds": round((ended - job.started_at).total_seconds(), 1) if ended and job.started_at else None,
        "output": job.output,
        "result": job.result,
    }


def job(store: Store, job_id: uuid.UUID) -> dict[str, Any] | None:
    """One job with its output and result, or None."""
    with store.read() as session:
        row = session.get(models.Job, job_id)
        return _as_dict(row) if row is not None else None


def find_job(store: Store, ref: str) -> dict[str, Any] | None:
    """The job a user-given id names, or None (also for text that is not a job id)."""
    try:
        job_id = uuid.UUID(ref)
    except ValueError:
        return None
    return job(store, job_id)


def jobs(store: Store, page: int, per_page: int, status: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Jobs newest first (without their output), and how many there are."""
    query = select(models.Job)
    counted = select(func.count()).select_from(models.Job)
    if status:
        query, counted = query.where(models.Job.status == status), counted.where(models.Job.status == status)
    with store.read() as session:
        rows = session.scalars(
            query.order_by(models.Job.queued_at.desc(), models.Job.id).offset((page - 1) * per_page).limit(per_page)
        ).all()
        total = session.scalar(counted) or 0
        return [{**_as_dict(row), "output": None} for row in rows], total
