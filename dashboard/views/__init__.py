"""The HTML pages: one module per page; every view's state lives in its query string (permalinks)."""

from __future__ import annotations

from flask import Blueprint

views = Blueprint("views", __name__)

from dashboard.views import assets, commit, compare, jobs, login, overview, regressions, roofline, series  # noqa: E402,F401  (routes register on import)
