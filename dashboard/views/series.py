"""/series — the list (filtered) and one series' trend: median with its IQR band, every point linked
to its commit, regression / improvement / change-point / correctness markers, verdicts and triage."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, render_template, request

from dashboard.store_access import choice_arg, int_arg, reading
from dashboard.views import views
from dashboard.views.common import filter_context
from perfci.store import reads
from perfci.store.models import TRIAGE_STATUSES


def chart_payload(points: list[dict[str, Any]], markers: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns instead of one object per point, with each distinct config / telemetry text once:
    5,000 points embed in ~0.5 MB instead of ~2 MB (configs repeat across commits)."""
    seen: dict[int, int] = {}  # id(object) -> index: reads.series_points shares one object per distinct text
    texts: list[str] = []

    def text_id(value: dict[str, Any]) -> int:
        if id(value) not in seen:
            seen[id(value)] = len(texts)
            texts.append(json.dumps(value, sort_keys=True))
        return seen[id(value)]

    plain = ("at", "median", "q1", "q3", "n", "status", "timing", "autotune", "sha", "message")
    columns: dict[str, list[Any]] = {name: [] for name in (*plain, "config", "telemetry")}
    for point in points:
        for name in plain:
            columns[name].append(point[name])
        columns["config"].append(text_id(point["config"]))
        columns["telemetry"].append(text_id(point["telemetry"]))
    slim = [{k: m[k] for k in ("sha", "kind", "change", "detector", "status")} for m in markers]
    return {"columns": columns, "texts": texts, "markers": slim, "unit": "ms"}


@views.get("/series")
def series_index() -> str:
    page = int_arg("page", 1, 1, 1_000_000)
    with reading() as session:
        context = filter_context(session)
        rows, total = reads.series_list(session, context["filters"], page, 100)
    return render_template("series_index.html", rows=rows, total=total, page=page, **context)


@views.get("/series/<id:series_id>")
def series_page(series_id: int) -> str:
    last = int_arg("last", 0, 0, 1_000_000)
    branch = reads.Filters.from_args(request.args).branch
    with reading() as session:
        info = reads.series_info(session, series_id)
        if info is None:
            abort(404, description=f"series {series_id} does not exist; the Series page lists them")
        points = reads.series_points(session, series_id, last or None, branch)
        markers = reads.series_markers(session, series_id, branch)
        history = reads.triage_history(session, [m["id"] for m in markers])
    chart = chart_payload(points, markers)
    chart["axis"] = choice_arg("x", ("order", "time"), "order")
    return render_template(
        "series.html",
        info=info,
        chart=chart,
        markers=markers,
        history=history,
        last=last,
        branch=branch,
        axis=chart["axis"],
        statuses=TRIAGE_STATUSES,
        back=request.full_path,
    )
