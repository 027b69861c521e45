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
