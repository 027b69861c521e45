"""``perfci alerts``: webhook deliveries that failed, and ``--retry`` to send them again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from perfci.alerts.notify import failed_deliveries, retry_failed
from perfci.cli.common import config_option, db_option, load_config_or_fail, open_store_or_fail


@click.command("alerts")
@click.option("--retry", is_flag=True, help="Re-send every failed delivery with its stored payload.")
@click.option("--json", "as_json", is_flag=True, help="Print the failed deliveries as a JSON array.")
@config_option
@db_option
def command(retry: bool, as_json: bool, config_path: Path | None, db_url: str | None) -> None:
    """List webhook deliveries that failed (exit code 1 while any remain).

    Results are stored before any webhook is called, so a failed delivery never loses data: it is
    kept here with its payload until `perfci alerts --retry` delivers it.
    """
    store = open_store_or_fail(db_url)
    try:
        if retry:
            for delivery in retry_failed(store, load_config_or_fail(config_path)):
                state = "sent" if delivery.status == "sent" else f"failed again: {delivery.error}"
                click.echo(f"delivery {delivery.id} to {delivery.webhook!r}: {state}", err=True)
        rows = failed_deliveries(store)
    finally:
        store.dispose()
    listed = [{"id": r.id, "run": str(r.run_uuid), "webhook": r.webhook, "url": r.url, "attempts": r.attempts,
               "last_error": r.last_error, "created_at": r.created_at.isoformat()} for r in rows]  # fmt: skip
    if as_json:
        click.echo(json.dumps(listed, indent=1))
    else:
        for row in listed:
            click.echo(f"{row['id']}  {row['webhook']}  run {row['run']}  {row['attempts']} attempt(s): "
                       f"{row['last_error']}")  # fmt: skip
        click.echo(f"{len(listed)} failed deliver{'y' if len(listed) == 1 else 'ies'}", err=True)
    sys.exit(1 if listed else 0)
