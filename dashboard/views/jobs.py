"""/jobs — the worker pool's jobs (queued, running, done, failed), on which worker, how long; and
/jobs/<id>, one job with its output and result."""

from __future__ import annotations

import json

from flask import abort, render_template, request

from dashboard.store_access import MAX_PAGE, int_arg, page_body, store
from dashboard.views import views
from perfci.store import jobs as job_rows
from perfci.store.models import JOB_STATUSES

PER_PAGE = 50


@views.get("/jobs")
def jobs_page() -> str:
    status = request.args.get("status") or None
    if status is not None and status not in JOB_STATUSES:
        abort(400, description=f"status {status[:40]!r} is not one of {', '.join(JOB_STATUSES)}")
    page = int_arg("page", 1, 1, MAX_PAGE)
    rows, total = job_rows.jobs(store(), page, PER_PAGE, status)
    listing = page_body(rows, total, page, PER_PAGE)
    return render_template("jobs.html", **listing, status=status, statuses=JOB_STATUSES)


@views.get("/jobs/<ref>")
def job_page(ref: str) -> str:
    row = job_rows.find_job(store(), ref)
    if row is None:
        abort(404, description=f"job {ref[:60]!r} is not stored; the Jobs page lists them")
    result = json.dumps(row["result"], indent=1) if row["result"] is not None else None
    return render_template("job.html", job=row, result=result)
