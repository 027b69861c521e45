"""What every page needs: the filter bar's choices and the filters from the query string."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from dashboard import queries


def filter_context(session: Session) -> dict[str, Any]:
    filters = queries.Filters.from_args(request.args)
    return {
        "filters": filters,
        "environments": queries.environments(session),
        "branches": queries.branches(session),
        "ops": ["paged_prefill", "paged_decode"],
        "dtypes": ["bf16", "fp16", "int8kv"],
    }
