"""GET /api/commits (paginated, optional branch) and /api/commits/<sha> (results against baselines)."""

from __future__ import annotations

from typing import Any

from flask import request

from dashboard.api import api
from dashboard.api.openapi import documented
from dashboard.api.schemas import CommitsQuery, PageBody
from dashboard.errors import ApiError
from dashboard.store_access import page_body, pagination, reading
from perfci.store import reads


@api.get("/commits")
@documented(
    "Commits, newest first", answers={200: ("a page of commits", PageBody)}, errors=(400, 401), query=CommitsQuery
)
def list_commits() -> dict[str, Any]:
    page, per_page = pagination()
    with reading() as session:
        rows, total = reads.commits(session, request.args.get("branch") or None, page, per_page)
    return page_body(rows, total, page, per_page)


@api.get("/commits/<ref>")
@documented(
    "A commit's results against their baselines, slowest change first",
    answers={200: ("the commit", None)},
    errors=(401, 404),
    path={"ref": "full sha or a unique prefix of 7+ hex"},
)
def get_commit(ref: str) -> dict[str, Any]:
    with reading() as session:
        commit = reads.find_commit(session, ref)
        if commit is None:
            raise ApiError(404, f"no stored commit matches {ref[:60]!r}; give a full sha or a unique prefix of 7+ hex")
        return {**reads.commit_info(commit), "results": reads.commit_results(session, commit)}
