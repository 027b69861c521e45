"""``perfci regressions``: stored regressions, newest first; exit 1 while any is open."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from perfci.cli.common import db_option, echo_columns, opened_store
from perfci.jsonvalues import finite
from perfci.store.models import TRIAGE_STATUSES
from perfci.store.queries import regressions

HEADER = ("ID", "KIND", "CHANGE", "STATUS", "COMMIT", "BASELINE", "DEVICE", "CASE")


def _fields(row: dict) -> tuple[str, ...]:
    change = f"{row['change']:+.1%}" if row["change"] is not None else "-"
    return (
        str(row["id"]),
        row["kind"],
        change,
        row["status"],
        row["commit"][:10],
        (row["baseline_commit"] or "-")[:10],
        row["environment"]["device_name"],
        row["case"],
    )


@click.command("regressions")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (see the README for its fields).")
@click.option(
    "--status",
    type=click.Choice([*TRIAGE_STATUSES, "all"]),
    default="open",
    show_default=True,
    help="Which triage status to list.",
)
@db_option
def command(as_json: bool, status: str, db_url: str | None) -> None:
    """List regressions (latency, correctness, missing data), newest first.

    Exit code 1 when any listed latency, correctness or missing-data regression is open, so CI can gate
    on it (improvements are listed, never gating).
    """
    with opened_store(db_url) as store, store.read() as session:
        rows = regressions(session, None if status == "all" else status)
    if as_json:
        click.echo(json.dumps(finite(rows), indent=2))
    elif not rows:
        click.echo("no regressions")
    elif sys.stdout.isatty():
        table = Table("id", "kind", "change", "status", "commit", "baseline", "device", "case")
        for row in rows:
            table.add_row(*_fields(row))
        Console().print(table)
    else:  # a CI log: one line a finding, ids first and the case id whole, never wrapped into a grid
        echo_columns(HEADER, [_fields(row) for row in rows])
    raise SystemExit(1 if any(row["status"] == "open" and row["kind"] != "improvement" for row in rows) else 0)
