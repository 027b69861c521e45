"""GET /api/results?run=UUID | commit=SHA (paginated): stored results with their statistics."""

from __future__ import annotations

from typing import Any

from flask import request

from dashboard.api import api
from dashboard.api.openapi import documented
from dashboard.api.schemas import PageBody, ResultsQuery
from dashboard.errors import ApiError
from dashboard.store_access import page_body, pagination, reading
from perfci.store import reads


@api.get("/results")
@documented(
    "Results of a run or of a commit",
    answers={200: ("a page of results", PageBody)},
    errors=(400, 401, 404),
    query=ResultsQuery,
)
def list_results() -> dict[str, Any]:
    page, per_page = pagination()
    run_ref, commit_ref = request.args.get("run"), request.args.get("commit")
    if bool(run_ref) == bool(commit_ref):
        raise ApiError(400, "give exactly one of the query parameters 'run' (a run id) or 'commit' (a sha)")
    with reading() as session:
        if run_ref:
            run = reads.find_run(session, run_ref)
            if run is None:
                raise ApiError(404, f"run {run_ref[:60]!r} is not stored; GET /api/runs lists run ids")
            run_ids = [run.id]
        else:
            commit = reads.find_commit(session, commit_ref or "")
            if commit is None:
                raise ApiError(404, f"no stored commit matches {commit_ref[:60]!r}")
            run_ids = reads.run_ids_of_commit(session, commit)
        rows, total = reads.run_results(session, run_ids, page, per_page)
    return page_body(rows, total, page, per_page)
