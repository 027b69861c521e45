"""``perfci submit`` and ``perfci worker`` refuse bad input with one line and exit 2; without a
broker a submitted job runs here and is recorded like any other."""

from __future__ import annotations

import os
from pathlib import Path

from perfci.store import jobs as job_rows
from perfci.store.migrate import open_store
from tests.runner.tracked_repo import CASE, commit_kernel, perfci


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PERFCI_BROKER"}


def test_bad_input_is_one_line_and_exit_2(tiny_repo, tmp_path):
    work = Path(tiny_repo.working_tree_dir)
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    own_db = perfci("submit", "--db", db, "run", "--db", "sqlite:///x.db", cwd=work, env=_env())
    assert own_db.returncode == 2 and "--db: a job stores into its worker's --db" in own_db.stderr
    kind = perfci("submit", "--db", db, "serve", cwd=work, env=_env())
    assert kind.returncode == 2 and "run" in kind.stderr and "Traceback" not in kind.stderr
    worker = perfci("worker", "--db", db, cwd=work, env=_env())
    assert worker.returncode == 2 and "--broker / PERFCI_BROKER" in worker.stderr
    outside = perfci("submit", "--db", db, "run", cwd=tmp_path, env=_env())
    assert outside.returncode == 2 and "--repo" in outside.stderr


def test_without_a_broker_the_job_runs_here_and_is_recorded(tiny_repo, tmp_path):
    work = Path(tiny_repo.working_tree_dir)
    sha = commit_kernel(tiny_repo, "wrong", "wrong kernels")
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    args = ["run", "--suite", "tiny", "--cases", CASE, "--device", "interpreter", "--budget", "0.3"]
    done = perfci("submit", "--db", db, *args, cwd=work, env=_env())
    assert done.returncode == 1, done.stderr[-3000:]  # the job's own exit code: incorrect results gate
    store = open_store(db)
    (row,), total = job_rows.jobs(store, 1, 10)
    assert total == 1 and row["status"] == "done" and row["exit_code"] == 1
    assert row["args"][:2] == ["--commit", sha]  # a run without a commit measures the checkout's HEAD
    assert row["worker"].startswith("in-process@")
    store.dispose()
