"""Errors: JSON with the problem named under /api, a plain page elsewhere; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("perfci.dashboard")


class ApiError(Exception):
    """An error the client can fix: ``status`` and a message that names the field and what to do."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _respond(status: int, error: str, message: str, **details: Any) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify({"error": error, "message": message, **details}), status
    return render_template("error.html", status=status, error=error, message=message), status


def reject_nul_bytes() -> None:
    """Query parameters and form fields with a NUL byte are a 400 naming the field, on both stores
    (PostgreSQL cannot compare or store NUL in text; SQLite would silently match every row)."""
    for source, values in (("query parameter", request.args), ("form field", request.form)):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                raise ApiError(400, f"{source} {name.replace(chr(0), '')[:40]!r}: contains a NUL byte; remove it")


def install_error_handlers(app: Flask) -> None:
    app.before_request(reject_nul_bytes)

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> tuple[Response | str, int]:
        names = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            409: "conflict",
            413: "too_large",
            422: "invalid",
        }
        return _respond(error.status, names.get(error.status, "error"), error.message, **error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response | str, int]:
        code = error.code or 500
        message = error.description or error.name
        if code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH") or 0
            message = f"the body is over the {limit} byte limit; split the document into several runs"
        return _respond(code, error.name.lower().replace(" ", "_"), message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "internal_error", "the server failed on this request; it was logged")
