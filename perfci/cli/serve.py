"""``perfci serve``: the dashboard and JSON API on waitress (a production WSGI server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfci.alerts.sender import OutboxSender
from perfci.cli.common import BadInput, config_option, db_option, load_config_or_fail, open_store_or_fail
from perfci.config import PerfciConfig


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0: all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@config_option
@db_option
def command(host: str, port: int, threads: int, config_path: Path | None, db_url: str | None) -> None:
    """Serve the web dashboard and the JSON API that remote runners post to.

    Write tokens, read access and the session key come from the [server] section of perfci.toml
    (see the README); without a write token configured the API accepts no writes.
    """
    from dashboard import create_app
    from perfci.config import ConfigError

    config = load_config_or_fail(config_path)
    try:
        app = create_app(config=config, store=open_store_or_fail(db_url))
    except ConfigError as error:
        raise BadInput(str(error)) from None
    if not config.server.write_tokens:
        click.echo(
            "no write token configured ([server] write_tokens): POST /api/runs will answer 403; "
            "`perfci token` makes one",
            err=True,
        )
    store = app.extensions["perfci"]["store"]
    sender = OutboxSender(store, config) if config.server.send_alerts else None
    server = _bind(app, host, port, threads, config)
    click.echo(f"perfci dashboard on http://{host}:{port}/ (API: /api, OpenAPI: /api/openapi.json)", err=True)
    if sender:
        sender.start()
    try:
        server.run()
    finally:
        if sender:
            sender.stop()


def _bind(app: Any, host: str, port: int, threads: int, config: PerfciConfig) -> Any:
    """The waitress server, listening; a port in use or not ours is exit 2 with what to do."""
    import waitress.server

    try:
        return waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="perfci",
            asyncore_use_poll=True,
            connection_limit=config.server.connection_limit,
            channel_timeout=config.server.idle_timeout_s,
        )
    except OSError as error:
        raise BadInput(
            f"--host/--port: cannot listen on {host}:{port} ({error.strerror or error}); "
            "pick another --port or stop what listens there"
        ) from None
