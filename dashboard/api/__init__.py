"""The JSON API under /api: one module per resource, the OpenAPI description beside them."""

from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api")

from dashboard.api import bisects, commits, confirmations, jobs, openapi, regressions, results, runs, series  # noqa: E402,F401  (routes register on import)
