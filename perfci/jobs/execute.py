"""Running one job on this machine: claim it, bring its repository's commits here, run the perfci
command it names as a child process (crash isolation, as every measurement has), beat the claim
while it runs, and record how it ended. Celery only delivers the job id (``perfci.jobs.tasks``)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from perfci.store import jobs as job_rows
from perfci.store.engine import Store

#: characters of the command's output kept with the job (the end: where the verdict and errors are)
OUTPUT_KEPT = 20_000


@dataclass(frozen=True)
class WorkerSettings:
    """Where a worker keeps clones, which store it writes, and how it tells a dead claim."""

    db_url: str
    cache: Path
    stale_after_s: float = 60.0


def checkout(repository: str, cache: Path) -> Path:
    """A clone of ``repository`` under ``cache``, fetched now so the job's commits are there."""
    target = cache / hashlib.sha256(repository.encode()).hexdigest()[:16]
    if (target / ".git").exists():
        git.Repo(target).remotes.origin.fetch(tags=True, prune=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        git.Repo.clone_from(repository, target)
    return target


def command_line(kind: str, args: list[str], db_url: str) -> list[str]:
    """The perfci command a job runs: a run stores into the worker's store and skips what a
    re-delivered copy of the job already stored; a bisect stores its measurements there (trigger
    bisect); compare and bisect answer in JSON."""
    answer = [] if "--json" in args else ["--json"]
    extra = {"run": ["--db", db_url, "--skip-stored"], "bisect": [*answer, "--db", db_url]}.get(kind, answer)
    # -P: a perfci in the clone never shadows this one
    return [sys.executable, "-P", "-m", "perfci", kind, *args, *extra]


def _parsed_result(kind: str, stdout: str) -> dict[str, Any] | None:
    if kind == "run" or not stdout.strip():
        return None
    try:
        value = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else {"value": value}


def _beating(store: Store, job_id: uuid.UUID, worker: str, every_s: float, stop: threading.Event) -> None:
    while not stop.wait(every_s):
        job_rows.beat(store, job_id, worker)


def run_job(store: Store, job_id: uuid.UUID, worker: str, settings: WorkerSettings) -> job_rows.Claim:
    """Claim and run the job; returns how the claim went (only ``CLAIMED`` ran anything)."""
    claimed = job_rows.claim(store, job_id, worker, settings.stale_after_s)
    if claimed is not job_rows.Claim.CLAIMED:
        return claimed
    row = job_rows.job(store, job_id)
    assert row is not None  # it was just claimed
    stop = threading.Event()
    beater = threading.Thread(
        target=_beating, args=(store, job_id, worker, settings.stale_after_s / 6, stop), daemon=True
    )
    beater.start()
    try:
        work = checkout(row["repository"], settings.cache)
        done = subprocess.run(
            command_line(row["kind"], row["args"], settings.db_url), cwd=work, capture_output=True, text=True
        )
        exit_code, output = done.returncode, (done.stderr + done.stdout)[-OUTPUT_KEPT:]
        result = _parsed_result(row["kind"], done.stdout)
    except Exception as error:  # the job's boundary: whatever stopped it is recorded, never lost
        exit_code, output, result = 2, f"the job could not run: {type(error).__name__}: {error}", None
    finally:
        stop.set()
        beater.join()
    job_rows.finish(store, job_id, worker, exit_code, output, result)
    return claimed
