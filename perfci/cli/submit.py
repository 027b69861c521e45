"""``perfci submit [OPTIONS] run|compare|bisect ARGS...``: queue a perfci command for the worker
pool; without a broker, run it here as a job all the same."""

from __future__ import annotations

import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import click
import git

from perfci.cli.common import BadInput, absolute_db_url, broker_option, db_option, opened_store
from perfci.store import jobs as job_rows
from perfci.store.engine import Store
from perfci.store.models import JOB_KINDS

#: options of perfci run that name the commits it measures (without one, it measures HEAD)
RUN_COMMIT_OPTIONS = ("--commit", "--range", "--pr-base")


def _repository(repository: str | None) -> tuple[str, git.Repo | None]:
    """What workers clone: --repo, else this checkout's origin, else this checkout's path."""
    try:
        local = git.Repo(Path.cwd(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        local = None
    if repository:
        return repository, local
    if local is None:
        raise BadInput("--repo: not in a git checkout; name the repository the workers should clone")
    origin = next((remote for remote in local.remotes if remote.name == "origin"), None)
    return (next(origin.urls) if origin else str(Path(local.working_tree_dir).resolve())), local


def _job_args(kind: str, args: tuple[str, ...], local: git.Repo | None) -> list[str]:
    """The command's arguments as the worker runs them; a run without a commit measures this HEAD."""
    if kind == "run":
        if any(arg == "--db" or arg.startswith("--db=") for arg in args):
            raise BadInput("--db: a job stores into its worker's --db; give --db to perfci submit and perfci worker")
        if not any(arg.split("=")[0] in RUN_COMMIT_OPTIONS for arg in args):
            if local is None:
                raise BadInput("run: name the commit with --commit SHA (not in a git checkout to take HEAD from)")
            return ["--commit", local.head.commit.hexsha, *args]
    return list(args)


@click.command("submit", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@broker_option
@click.option("--queue", default="default", show_default=True, help="The workers' queue: a GPU kind, e.g. h200.")
@click.option("--repo", "repository", default=None, help="URL or path the workers clone (default: origin, else here).")
@click.option("--wait", is_flag=True, help="Wait for the job, print its output and exit with its exit code.")
@click.option(
    "--poll", "poll_s", default=1.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds between looks."
)
@db_option
@click.argument("kind", type=click.Choice(JOB_KINDS))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def command(
    broker_url: str | None,
    queue: str,
    repository: str | None,
    wait: bool,
    poll_s: float,
    db_url: str | None,
    kind: str,
    args: tuple[str, ...],
) -> None:
    """Queue `perfci run|compare|bisect ARGS...` for the worker pool (`perfci worker`).

    Options of submit come before the command: `perfci submit --queue h200 --wait run --suite smoke`.
    The job is recorded in --db (the store the workers and the server use), where the Jobs page and
    /api/jobs show it. Without a broker (--broker / PERFCI_BROKER) the job runs here, in this process's
    machine, exactly as a worker would run it. With --wait (always so without a broker) the exit code
    is the command's: 1 when it found a regression.
    """
    repository, local = _repository(repository)
    job_args = _job_args(kind, args, local)
    db_url = absolute_db_url(db_url)
    with opened_store(db_url) as store:
        job_id = job_rows.queue_job(store, kind, repository, job_args, queue)
        click.echo(f"job {job_id}: perfci {kind} {' '.join(job_args)}", err=True)
        if broker_url:
            from perfci.jobs.tasks import TASK, make_app

            make_app(broker_url).send_task(TASK, args=[str(job_id)], queue=queue)
            if not wait:
                return
        else:
            _run_here(store, job_id, db_url)
        sys.exit(_waited(store, job_id, poll_s))


def _run_here(store: Store, job_id: uuid.UUID, db_url: str) -> None:
    from perfci.jobs.execute import WorkerSettings, run_job

    with tempfile.TemporaryDirectory(prefix="perfci-job-") as cache:  # this job's clone, gone after it
        run_job(store, job_id, f"in-process@{socket.gethostname()}", WorkerSettings(db_url, Path(cache)))


def _waited(store: Store, job_id: uuid.UUID, poll_s: float) -> int:
    while (row := job_rows.job(store, job_id)) and row["status"] in ("queued", "running"):
        time.sleep(poll_s)
    assert row is not None
    click.echo(row["output"] or "", nl=False)
    click.echo(f"job {job_id}: {row['status']} on {row['worker']} (exit {row['exit_code']})", err=True)
    return int(row["exit_code"] if row["exit_code"] is not None else 2)
