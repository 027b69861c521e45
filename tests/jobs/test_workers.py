"""The worker pool end to end under the interpreter: jobs queued with ``perfci submit`` on a real
RabbitMQ broker, served by two ``perfci worker`` processes, stored in the store both write to."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from perfci.store import jobs as job_rows
from perfci.store import models
from perfci.store.engine import Store
from perfci.store.migrate import open_store
from tests.jobs.conftest import workers
from tests.runner.tracked_repo import CASE, commit_kernel, commit_notes, perfci

pytestmark = pytest.mark.slow

RUN = ["run", "--suite", "tiny", "--cases", CASE, "--device", "interpreter"]


def _submit(work: Path, db_url: str, queue: str, *args: str, broker: str | None = None) -> uuid.UUID:
    where = ["--broker", broker] if broker else []
    submitted = perfci("submit", *where, "--db", db_url, "--queue", queue, *args, cwd=work, env=_no_broker_env())
    assert submitted.returncode in (0, 1), submitted.stderr[-3000:]
    return uuid.UUID(submitted.stderr.split("job ", 1)[1].split(":", 1)[0])


def _no_broker_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PERFCI_BROKER"}


def _finished(store: Store, ids: list[uuid.UUID], timeout_s: float = 300) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = [job_rows.job(store, job_id) for job_id in ids]
        if all(row["status"] in ("done", "failed") for row in rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)


def _runs_of(store: Store, sha: str) -> int:
    with store.read() as session:
        return session.scalar(
            select(func.count()).select_from(models.Run).join(models.Commit).where(models.Commit.sha == sha)
        )


@pytest.mark.parametrize("transport", ["rabbitmq", "folder"])
def test_two_workers_run_the_queued_jobs_and_store_each_once(tiny_repo, tmp_path, broker, queue, transport, db_url):
    """On RabbitMQ, and on a folder as the broker (one machine without a broker service); the
    workers and the submitter share a store on SQLite and on PostgreSQL."""
    broker = broker if transport == "rabbitmq" else f"filesystem://{tmp_path / 'queue'}"
    work = Path(tiny_repo.working_tree_dir)
    shas = [commit_kernel(tiny_repo, "fast", "fast"), commit_notes(tiny_repo, "notes")]
    store = open_store(db_url)
    with workers(2, broker, db_url, queue, tmp_path):
        ids = [_submit(work, db_url, queue, *RUN, "--commit", sha, "--budget", "0.3", broker=broker) for sha in shas]
        rows = _finished(store, ids)
    assert [row["status"] for row in rows] == ["done", "done"], [row["output"] for row in rows]
    assert all(row["worker"] in (f"w0-{queue}@test", f"w1-{queue}@test") and row["seconds"] > 0 for row in rows)
    assert [_runs_of(store, sha) for sha in shas] == [1, 1]
    store.dispose()


def test_a_killed_workers_job_finishes_on_the_other_and_is_stored_once(tiny_repo, tmp_path, broker, queue):
    work = Path(tiny_repo.working_tree_dir)
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    sha = commit_kernel(tiny_repo, "fast", "fast")
    store = open_store(db_url)
    with workers(2, broker, db_url, queue, tmp_path) as started:
        (job_id,) = [_submit(work, db_url, queue, *RUN, "--commit", sha, "--budget", "5", broker=broker)]
        deadline = time.monotonic() + 60
        while (row := job_rows.job(store, job_id))["status"] != "running":
            assert time.monotonic() < deadline, row
            time.sleep(0.2)
        first = row["worker"]
        time.sleep(2)  # mid-measurement
        victim = started[int(first[1])]
        os.killpg(victim.pid, signal.SIGKILL)
        (row,) = _finished(store, [job_id])
    assert row["status"] == "done", row["output"]
    assert row["worker"] != first and row["attempts"] == 2
    assert _runs_of(store, sha) == 1
    store.dispose()


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=120)


def test_a_broker_restart_loses_no_job(tiny_repo, tmp_path, broker, queue):
    """RabbitMQ stopped and started while a bisect job is measuring, with three run jobs queued
    behind it on one worker: every job finishes once, the bisect names its culprit, each run and
    each of the bisect's comparisons is stored once."""
    if shutil.which("rabbitmqctl") is None or _rabbitmqctl("status").returncode != 0:
        pytest.skip("rabbitmqctl cannot control the local RabbitMQ here")
    work = Path(tiny_repo.working_tree_dir)
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    good = commit_kernel(tiny_repo, "fast", "fast")
    slower = commit_kernel(tiny_repo, "slower", "slower kernels")
    shas = [good, slower, commit_notes(tiny_repo, "a")]
    bisect = ["bisect", good, shas[-1], "--suite", "tiny", "--cases", CASE, "--device", "interpreter"]
    bisect += ["--threshold", "0.3", "--max-pairs", "8", "--budget", "60"]
    store = open_store(db_url)
    with workers(1, broker, db_url, queue, tmp_path):
        bisect_id = _submit(work, db_url, queue, *bisect, broker=broker)
        ids = [_submit(work, db_url, queue, *RUN, "--commit", sha, "--budget", "2", broker=broker) for sha in shas]
        while job_rows.job(store, bisect_id)["status"] != "running":
            time.sleep(0.2)
        time.sleep(5)  # into the bisect's first comparison
        assert _rabbitmqctl("stop_app").returncode == 0
        time.sleep(2)
        assert _rabbitmqctl("start_app").returncode == 0
        searched, *rows = _finished(store, [bisect_id, *ids], timeout_s=600)
    assert searched["status"] == "done" and searched["exit_code"] == 1 and searched["attempts"] == 1, searched["output"]
    (case,) = searched["result"]["cases"]
    assert [culprit["commit"] for culprit in case["culprits"]] == [slower]
    assert [row["status"] for row in rows] == ["done"] * 3, [row["output"] for row in rows]
    with store.read() as session:
        triggers = session.scalars(select(models.Run.trigger)).all()
    measured = sum(bool(step["pairs"]) for step in case["steps"])
    assert sorted(triggers) == sorted(["bisect"] * 2 * measured + ["manual"] * 3)
    store.dispose()


def test_a_bisect_job_names_the_culprit_the_in_process_job_names(tiny_repo, tmp_path, broker, queue):
    work = Path(tiny_repo.working_tree_dir)
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    good = commit_kernel(tiny_repo, "fast", "fast kernels")
    slower = commit_kernel(tiny_repo, "slower", "slower kernels")
    bad = commit_notes(tiny_repo, "notes")
    bisect = ["bisect", good, bad, "--suite", "tiny", "--cases", CASE, "--device", "interpreter"]
    bisect += ["--threshold", "0.3", "--max-pairs", "8", "--budget", "60"]
    store = open_store(db_url)
    with workers(2, broker, db_url, queue, tmp_path):
        on_pool = _submit(work, db_url, queue, *bisect, broker=broker)
        (pooled,) = _finished(store, [on_pool])
    here = _submit(work, db_url, queue, *bisect)  # no broker: the same job, run in this process's machine
    (local,) = _finished(store, [here])
    for row in (pooled, local):
        assert row["status"] == "done" and row["exit_code"] == 1, row["output"]
        (case,) = row["result"]["cases"]
        assert [culprit["commit"] for culprit in case["culprits"]] == [slower], json.dumps(case)[:2000]
    assert pooled["worker"].endswith(f"-{queue}@test") and local["worker"].startswith("in-process@")
    # each job stored its comparisons' processes in the store the workers write: a run per side
    measured = sum(bool(step["pairs"]) for row in (pooled, local) for step in row["result"]["cases"][0]["steps"])
    with store.read() as session:
        triggers = session.scalars(select(models.Run.trigger)).all()
    assert len(triggers) == 2 * measured and set(triggers) == {"bisect"}
    store.dispose()


@pytest.mark.nightly
def test_a_32_commit_bisect_on_two_workers_finds_both_culprits_and_skips_a_crash(tiny_repo, tmp_path, broker, queue):
    """32 commits: a slower kernel at 10, a crashing one at 15 (the first midpoint) fixed at 16, a
    slower one still at 24; the job names 10 and 24, each verified, and reports 15 skipped, in about
    log2(32) steps a culprit plus the checks against BAD."""
    work = Path(tiny_repo.working_tree_dir)
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    shas = [commit_kernel(tiny_repo, "fast", "fast kernels")]
    for index in range(1, 32):
        body = {10: "slower", 15: "crash", 16: "slower", 24: "slowest"}.get(index)
        shas.append(commit_kernel(tiny_repo, body, f"{index}") if body else commit_notes(tiny_repo, f"{index}"))
    bisect = ["bisect", shas[0], shas[-1], "--suite", "tiny", "--cases", CASE, "--device", "interpreter"]
    bisect += ["--threshold", "0.3", "--max-pairs", "8", "--budget", "60"]
    store = open_store(db_url)
    with workers(2, broker, db_url, queue, tmp_path):
        (row,) = _finished(store, [_submit(work, db_url, queue, *bisect, broker=broker)], timeout_s=1800)
    assert row["status"] == "done" and row["exit_code"] == 1, row["output"]
    (case,) = row["result"]["cases"]
    assert [(c["commit"], c["verified"]) for c in case["culprits"]] == [(shas[10], True), (shas[24], True)]
    assert shas[15] in case["skipped"]
    # GOOD vs BAD, then per culprit: log2(32) = 5 midpoints (the skip costs one more), its verification
    # against its parent and its check against BAD
    assert len(case["steps"]) <= 1 + (5 + 1 + 1 + 1) + (5 + 1 + 1), [
        (s["head"][:7], s["outcome"]) for s in case["steps"]
    ]
    store.dispose()
