"""Who may read and write: bearer tokens for the API (``perfci.tokens``), a token sign-in for the
pages' forms kept server-side, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from dashboard.errors import ApiError
from dashboard.store_access import config, store
from perfci.store import web_sessions
from perfci.tokens import hash_token, matches


def can_write(token: str | None) -> bool:
    return matches(token, config().server.write_tokens)


def is_known_token(token: str | None) -> bool:
    server = config().server
    return matches(token, server.write_tokens + server.read_tokens)


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

    wrapped.write_token = True  # type: ignore[attr-defined]  (the OpenAPI description marks it secured)
    return wrapped


def current_sign_in() -> web_sessions.SignIn | None:
    """This browser's sign-in, checked once per request against the store and the config: ended by
    sign-out, by age, or by its token leaving ``[server]`` write_tokens / read_tokens."""
    if "sign_in" not in g:
        found = None
        secret = session.get("sid")
        if secret:
            server = config().server
            found = web_sessions.live(store(), secret, max_age_s=server.session_hours * 3600)
            if found is not None and found.token_hash not in server.write_tokens + server.read_tokens:
                found = None
            if found is None:
                session.clear()
        g.sign_in = found
    return g.sign_in


def sign_in(token: str) -> bool:
    """Start a sign-in with a known token; True when it may triage."""
    secret = secrets.token_urlsafe(32)
    writer = can_write(token)
    web_sessions.start(store(), secret, hash_token(token), writer)
    session.clear()
    session["sid"] = secret
    g.pop("sign_in", None)
    return writer


def sign_out() -> None:
    if secret := session.get("sid"):
        web_sessions.end(store(), secret)
    session.clear()
    g.pop("sign_in", None)


def signed_in() -> bool:
    """Whether this browser may triage: signed in with a token that is still a write token."""
    found = current_sign_in()
    return found is not None and found.writer and found.token_hash in config().server.write_tokens


def install_csrf(app: Flask) -> None:
    """Reads may be closed (sign in or send a token); every form POST outside /api carries the
    session's CSRF token (Flask-WTF's CSRFProtect; the API authenticates by bearer token, not cookie)."""

    @app.before_request
    def _guard() -> Any:
        open_endpoint = request.endpoint in ("views.login", "views.plotly_js", "static", "api.openapi")
        if not open_endpoint and not can_read(bearer()) and current_sign_in() is None:
            if request.path.startswith("/api/"):
                raise ApiError(401, "reads are closed on this server: send 'Authorization: Bearer TOKEN'")
            return redirect(url_for("views.login", next=request.full_path))
        return None

    app.config.update(WTF_CSRF_TIME_LIMIT=None)  # a token lives as long as its session (sign-out ends both)
    csrf = CSRFProtect(app)  # also puts csrf_token() in the templates
    from dashboard.api import api

    csrf.exempt(api)
    app.jinja_env.globals["signed_in"] = signed_in


def local_target(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: a form's redirect never leaves it.
    Browsers drop tabs and newlines from a Location and read a backslash as a slash, so a target
    with any control character, whitespace or backslash is refused, whatever follows."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return default
    return target
