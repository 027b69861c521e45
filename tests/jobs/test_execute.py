"""A job that cannot run (here: its repository cannot be cloned) is recorded as failed with why,
never left running; a finished job is not run again."""

from __future__ import annotations

from perfci.jobs.execute import WorkerSettings, command_line, run_job
from perfci.store import jobs as job_rows
from perfci.store.migrate import open_store


def test_a_job_that_cannot_start_is_failed_with_the_reason(db_url, tmp_path):
    store = open_store(db_url)
    job_id = job_rows.queue_job(store, "run", str(tmp_path / "no-such-repo"), ["--commit", "abc"], "q")
    settings = WorkerSettings(db_url, tmp_path / "cache")
    assert run_job(store, job_id, "w", settings) is job_rows.Claim.CLAIMED
    row = job_rows.job(store, job_id)
    assert row["status"] == "failed" and row["exit_code"] == 2 and "could not run" in row["output"]
    assert run_job(store, job_id, "w", settings) is job_rows.Claim.FINISHED
    store.dispose()


def test_the_command_a_job_runs():
    run = command_line("run", ["--commit", "abc"], "sqlite:////x.db")
    assert run[1:4] == ["-P", "-m", "perfci"] and run[-3:] == ["--db", "sqlite:////x.db", "--skip-stored"]
    assert command_line("bisect", ["a", "b"], "db")[-3:] == ["--json", "--db", "db"]
    assert command_line("compare", ["a", "b", "--json"], "db").count("--json") == 1
