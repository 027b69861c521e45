"""``perfci worker``: serve jobs from a broker queue on this machine, one at a time, on one GPU."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click

from perfci.cli.common import BadInput, absolute_db_url, broker_option, db_option


@click.command("worker")
@broker_option
@click.option("--queue", default="default", show_default=True, help="The queue to serve: a GPU kind, e.g. h200.")
@click.option("--gpu", default=None, metavar="INDEX", help="Run every job on this GPU (sets CUDA_VISIBLE_DEVICES).")
@click.option("--name", default=None, help="The worker's name in the Jobs page (default QUEUE-GPU@host).")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the worker keeps clones of the jobs' repositories (default ~/.cache/perfci/NAME).",
)
@click.option(
    "--stale-after",
    "stale_after_s",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=2),
    help="Seconds without a heartbeat after which a running job's worker counts as dead.",
)
@db_option
def command(
    broker_url: str | None,
    queue: str,
    gpu: str | None,
    name: str | None,
    cache: Path | None,
    stale_after_s: float,
    db_url: str | None,
) -> None:
    """Serve perfci jobs (`perfci submit`) from a broker queue, one at a time.

    Start one worker per GPU, each with --gpu and the queue of its GPU kind; every job stores into
    --db, which should be the store `perfci serve` reads. A job is acknowledged only after it ran, so
    the job of a worker that dies runs again on another.
    """
    if not broker_url:
        raise BadInput(
            "--broker / PERFCI_BROKER: a worker needs a broker URL, e.g. amqp://guest:guest@127.0.0.1:5672//"
        )
    from perfci.jobs.execute import WorkerSettings
    from perfci.jobs.tasks import make_app

    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    name = name or f"{queue}-{gpu if gpu is not None else 'any'}@{socket.gethostname()}"
    cache = cache or Path.home() / ".cache" / "perfci" / name.replace("@", "-")
    app = make_app(broker_url, WorkerSettings(absolute_db_url(db_url), cache.resolve(), stale_after_s))
    one_at_a_time = ["--concurrency", "1", "--pool", "prefork"]
    quiet = ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    app.worker_main(["worker", "--queues", queue, "--hostname", name, *one_at_a_time, *quiet])
