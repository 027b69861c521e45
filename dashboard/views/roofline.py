"""/roofline — each case's latest achieved TFLOP/s (prefill) or GB/s (decode) against the card's
ceilings measured in the same runs, on a log-log roofline and in a table."""

from __future__ import annotations

from flask import render_template

from dashboard.store_access import reading
from dashboard.views import views
from dashboard.views.common import filter_context
from perfci.store import reads


@views.get("/roofline")
def roofline_page() -> str:
    with reading() as session:
        context = filter_context(session)
        data = reads.roofline(session, context["filters"])
    return render_template("roofline.html", data=data, **context)
