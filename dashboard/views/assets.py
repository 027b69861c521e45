"""Plotly's JavaScript bundle, served from the installed ``plotly`` package: no CDN, works offline."""

from __future__ import annotations

from importlib import resources

from flask import Response, send_file

from dashboard.views import views


@views.get("/assets/plotly.min.js")
def plotly_js() -> Response:
    path = resources.files("plotly") / "package_data" / "plotly.min.js"
    response = send_file(str(path), mimetype="text/javascript", max_age=7 * 24 * 3600)
    return response
