"""``perfci alerts``: webhook deliveries that failed, ``--retry`` to send them again, and ``--send``
to run the outbox sender as a process of its own."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from perfci.alerts.notify import failed_deliveries, retry_failed
from perfci.alerts.sender import OutboxSender
from perfci.cli.common import config_option, db_option, load_config_or_fail, opened_store


@click.command("alerts")
@click.option("--retry", is_flag=True, help="Re-send every failed delivery with its stored payload.")
@click.option(
    "--send",
    is_flag=True,
    help="Keep sending queued deliveries until interrupted (for servers run with send_alerts = false).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the failed deliveries as a JSON array.")
@config_option
@db_option
def command(retry: bool, send: bool, as_json: bool, config_path: Path | None, db_url: str | None) -> None:
    """List webhook deliveries that failed (exit code 1 while any remain).

    A run's alerts are queued with its judgement and sent afterwards, so a failed delivery never
    loses data: it is kept here with its payload until `perfci alerts --retry` delivers it.
    """
    with opened_store(db_url) as store:
        if send:
            sender = OutboxSender(store, load_config_or_fail(config_path))
            click.echo("sending queued alerts; Ctrl-C stops", err=True)
            sender.start()
            try:
                sender.join()
            except KeyboardInterrupt:
                sender.stop()
            return
        if retry:
            for delivery in retry_failed(store, load_config_or_fail(config_path)):
                state = "sent" if delivery.status == "sent" else f"failed again: {delivery.error}"
                click.echo(f"delivery {delivery.id} to {delivery.webhook!r}: {state}", err=True)
        rows = failed_deliveries(store)
    listed = [
        {
            "id": r.id,
            "run": str(r.run_uuid),
            "webhook": r.webhook,
            "url": r.url,
            "attempts": r.attempts,
            "last_error": r.last_error,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    if as_json:
        click.echo(json.dumps(listed, indent=1))
    else:
        for row in listed:
            click.echo(
                f"{row['id']}  {row['webhook']}  run {row['run']}  {row['attempts']} attempt(s): {row['last_error']}"
            )
        click.echo(f"{len(listed)} failed deliver{'y' if len(listed) == 1 else 'ies'}", err=True)
    sys.exit(1 if listed else 0)
