"""GET /api/jobs (the worker pool's jobs, newest first) and /api/jobs/<id> (one, with its output)."""

from __future__ import annotations

from typing import Any

from dashboard.api import api
from dashboard.api.openapi import documented
from dashboard.api.schemas import JobsQuery, PageBody
from dashboard.errors import ApiError
from dashboard.store_access import choice_arg, page_body, pagination, store
from perfci.store import jobs as job_rows
from perfci.store.models import JOB_STATUSES


@api.get("/jobs")
@documented(
    "Jobs of the worker pool, newest first",
    answers={200: ("a page of jobs", PageBody)},
    errors=(400, 401),
    query=JobsQuery,
)
def list_jobs() -> dict[str, Any]:
    page, per_page = pagination()
    status = choice_arg("status", JOB_STATUSES, None)
    rows, total = job_rows.jobs(store(), page, per_page, status)
    return page_body(rows, total, page, per_page)


@api.get("/jobs/<ref>")
@documented(
    "One job: its command, state, worker, times, output and result",
    answers={200: ("the job", None)},
    errors=(401, 404),
    path={"ref": "the job id"},
)
def get_job(ref: str) -> dict[str, Any]:
    row = job_rows.find_job(store(), ref)
    if row is None:
        raise ApiError(404, f"job {ref[:60]!r} is not stored; GET /api/jobs lists them")
    return row
