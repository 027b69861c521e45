"""Who may read and write: hashed bearer tokens for the API, a token login for the pages' forms, CSRF.

Tokens are random (``perfci token``), so one SHA-256 is enough to store them safely (no password to
stretch); a presented token is hashed and compared with every configured hash in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, redirect, request, session, url_for

from dashboard.errors import ApiError
from dashboard.store_access import config


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def _matches(presented: str | None, hashes: list[str]) -> bool:
    if not presented:
        return False
    digest = hash_token(presented)
    found = False
    for stored in hashes:  # every hash is compared: the time does not say which one matched
        found |= hmac.compare_digest(digest, stored)
    return found


def can_write(token: str | None) -> bool:
    return _matches(token, config().server.write_tokens)


def is_known_token(token: str | None) -> bool:
    server = config().server
    return _matches(token, server.write_tokens + server.read_tokens)


def can_read(token: str | None) -> bool:
    return config().server.public_reads or is_known_token(token)


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def require_write_token(view: Callable[..., Any]) -> Callable[..., Any]:
    """API writes: 401 without a token, 403 with a wrong one (the body says which)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = bearer()
        if token is None:
            raise ApiError(401, "this endpoint needs a write token: send 'Authorization: Bearer TOKEN'")
        if not can_write(token):
            raise ApiError(403, "the token is not a write token of this server (see [server] write_tokens)")
        return view(*args, **kwargs)

    return wrapped


def signed_in() -> bool:
    return bool(session.get("writer"))


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def install_csrf(app: Flask) -> None:
    """Every form POST outside /api must carry the session's CSRF token; reads may be closed."""

    @app.before_request
    def _guard() -> Any:
        open_endpoint = request.endpoint in ("views.login", "views.plotly_js", "static", "api.openapi")
        if not open_endpoint and not can_read(bearer()) and not session.get("reader"):
            if request.path.startswith("/api/"):
                raise ApiError(401, "reads are closed on this server: send 'Authorization: Bearer TOKEN'")
            return redirect(url_for("views.login", next=request.full_path))
        if request.method == "POST" and not request.path.startswith("/api/"):
            sent = request.form.get("csrf_token", "")
            if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
                abort(400, description="the form's CSRF token is missing or stale; reload the page and try again")
        return None

    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["signed_in"] = signed_in


def local_target(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: a form's redirect never leaves it."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
