"""The Celery application: one task, ``perfci.execute(job_id)``, acknowledged only after it ran
(a worker killed mid-job leaves its message to another worker), one job at a time per worker."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from celery import Celery, Task

from perfci.jobs.execute import WorkerSettings, run_job
from perfci.store import jobs as job_rows
from perfci.store.engine import Store
from perfci.store.migrate import open_store

TASK = "perfci.execute"


def make_app(broker_url: str, settings: WorkerSettings | None = None) -> Celery:
    """The app a worker serves (with ``settings``) or a submitter sends to (without)."""
    app = Celery("perfci", broker=broker_url)
    if broker_url.startswith("filesystem://"):  # a folder as the broker: one machine, no broker service
        folder = Path(broker_url.removeprefix("filesystem://") or ".").resolve()
        (folder / "processed").mkdir(parents=True, exist_ok=True)
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
    app.conf.update(
        task_acks_late=True,  # a killed worker's job is delivered again
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds no job it is not running
        task_ignore_result=True,  # the store holds each job's state and result
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,  # no control queue: jobs are steered through the store
    )
    if settings is None:
        return app
    stores: dict[int, Store] = {}  # one per pool process: a database connection does not survive a fork

    @app.task(name=TASK, bind=True, max_retries=None)
    def execute(task: Task, job_id: str) -> str:
        store = stores.get(os.getpid()) or stores.setdefault(os.getpid(), open_store(settings.db_url))
        claim = run_job(store, uuid.UUID(job_id), task.request.hostname or "worker", settings)
        if claim is job_rows.Claim.HELD:  # a live worker runs it: look again once its claim could be stale
            raise task.retry(countdown=settings.stale_after_s)
        return claim.value

    return app
