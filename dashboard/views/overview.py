"""/ — latest run per branch and environment, open regressions worst first, correctness failures,
series that stopped reporting."""

from __future__ import annotations

from flask import render_template

from dashboard.store_access import choice_arg, reading
from dashboard.views import views
from dashboard.views.common import GROUPINGS, filter_context, group_findings
from perfci.findings import GATING_KINDS
from perfci.store import reads


@views.get("/")
def overview() -> str:
    with reading() as session:
        context = filter_context(session)
        filters = context["filters"]
        runs = reads.latest_runs(session, filters)
        worst, open_total = reads.regressions(
            session, filters, status="open", kind="latency", per_page=25, worst_first=True
        )
        broken, _ = reads.regressions(session, filters, status="open", kind="correctness", per_page=25)
        missing, _ = reads.regressions(session, filters, status="open", kind="missing", per_page=25)
        everything, _ = reads.regressions(session, filters, status="open", per_page=200)
    grouping = choice_arg("group", GROUPINGS, "commit")
    groups = group_findings([row for row in everything if row["kind"] in GATING_KINDS], grouping)
    return render_template(
        "overview.html",
        runs=runs,
        worst=worst,
        open_total=open_total,
        broken=broken,
        missing=missing,
        groups=groups,
        grouping=grouping,
        groupings=GROUPINGS,
        **context,
    )
