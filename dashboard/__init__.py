"""The perfci web dashboard and JSON API (Flask app factory, Conbench-style: one module per resource)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from dashboard.auth import install_csrf
from dashboard.errors import install_error_handlers
from dashboard.headers import install_security_headers
from dashboard.jsonprovider import FiniteJSONProvider
from perfci.config import PerfciConfig
from perfci.findings import describe
from perfci.store.engine import Store
from perfci.store.migrate import open_store
from perfci.store.models import MAX_ID


class IdConverter(IntegerConverter):
    """A database id: 1 .. MAX_ID; anything larger is a 404, never an integer overflow in the driver."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


SOFTWARE = (("driver", "driver"), ("cuda", "CUDA"), ("torch", "torch"), ("triton", "triton"))


def software_text(environment: dict[str, Any]) -> str:
    """The versions a document named, and only those ("driver None" says nothing)."""
    return " · ".join(f"{label} {environment[key]}" for key, label in SOFTWARE if environment.get(key))


def environment_text(environment: dict[str, Any]) -> str:
    return " · ".join(part for part in (environment.get("device_name"), software_text(environment)) if part)


def create_app(db_url: str | None = None, config: PerfciConfig | None = None, store: Store | None = None) -> Flask:
    """The app for one store. ``config.server`` holds write-token hashes, read access and the session key."""
    config = config or PerfciConfig()
    app = Flask(__name__)
    app.json = FiniteJSONProvider(app)
    app.config.update(
        SECRET_KEY=config.server.resolved_secret_key() or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=int(config.server.max_document_mb * 1024 * 1024),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    app.extensions["perfci"] = {"store": store or open_store(db_url), "config": config}
    app.url_map.converters["id"] = IdConverter

    from dashboard.api import api
    from dashboard.views import views

    app.register_blueprint(api)
    app.register_blueprint(views)
    install_error_handlers(app)
    install_security_headers(app)
    install_csrf(app)
    app.jinja_env.globals["short"] = lambda sha: (sha or "")[:10]
    app.jinja_env.globals["evidence"] = describe
    app.jinja_env.globals["environment_text"] = environment_text
    app.jinja_env.globals["software_text"] = software_text
    return app
