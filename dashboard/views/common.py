"""What every page needs: the filter bar's choices and the filters from the query string."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from perfci.store import reads


def filter_context(session: Session) -> dict[str, Any]:
    filters = reads.Filters.from_args(request.args)
    return {
        "filters": filters,
        "environments": reads.environments(session),
        "branches": reads.branches(session),
        "ops": ["paged_prefill", "paged_decode"],
        "dtypes": ["bf16", "fp16", "int8kv"],
    }


def group_by_commit(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped by their commit, in the list's order: one revision's alerts are usually one
    decision (Chromium's perf dashboard groups them the same way)."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        group = groups.setdefault(
            row["commit"], {"commit": row["commit"], "message": row["message"], "branch": row["branch"], "rows": []}
        )
        group["rows"].append(row)
    return list(groups.values())
