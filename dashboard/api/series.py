"""GET /api/series (filtered, paginated) and /api/series/<id> (its points and markers)."""

from __future__ import annotations

from typing import Any

from flask import request

from dashboard.api import api
from dashboard.api.openapi import documented
from dashboard.api.schemas import PageBody, SeriesListQuery, SeriesPointsQuery
from dashboard.errors import ApiError
from dashboard.store_access import int_arg, page_body, pagination, reading
from perfci.store import reads


@api.get("/series")
@documented(
    "Series (one trend line each), filtered",
    answers={200: ("a page of series", PageBody)},
    errors=(400, 401),
    query=SeriesListQuery,
)
def list_series() -> dict[str, Any]:
    page, per_page = pagination()
    with reading() as session:
        rows, total = reads.series_list(session, reads.Filters.from_args(request.args), page, per_page)
    return page_body(rows, total, page, per_page)


@api.get("/series/<id:series_id>")
@documented(
    "One series with its points (oldest first) and regression / change-point markers",
    answers={200: ("the series", None)},
    errors=(400, 401, 404),
    query=SeriesPointsQuery,
)
def get_series(series_id: int) -> dict[str, Any]:
    last = int_arg("last", 0, 0, 1_000_000)
    branch = reads.Filters.from_args(request.args).branch
    with reading() as session:
        info = reads.series_info(session, series_id)
        if info is None:
            raise ApiError(404, f"series {series_id} does not exist; GET /api/series lists them")
        info["points"] = reads.series_points(session, series_id, last or None, branch)
        info["markers"] = reads.series_markers(session, series_id, branch)
    return info
