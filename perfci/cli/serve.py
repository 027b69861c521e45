"""``perfci serve``: the dashboard and JSON API (issue #6)."""

from __future__ import annotations

import click

from perfci.cli.common import BadInput, db_option


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@db_option
def command(host: str, port: int, db_url: str | None) -> None:
    """Serve the web dashboard and the JSON API that remote runners post to.

    Not available yet: the dashboard arrives with issue #6.
    """
    raise BadInput("`perfci serve` is not implemented yet (issue #6); use `perfci export` to read stored runs")
