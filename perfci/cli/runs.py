"""``perfci runs``: the runs a store holds, newest first."""

from __future__ import annotations

import json
import sys

import click

from perfci.cli.common import db_option, echo_columns, opened_store
from perfci.jsonvalues import finite
from perfci.store import reads

HEADER = ("RUN", "COMMIT", "BRANCH", "TRIGGER", "SUITE", "STATUS", "FINDINGS", "STORED", "DEVICE")


@click.command("runs")
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (the fields of GET /api/runs).")
@db_option
def command(limit: int, as_json: bool, db_url: str | None) -> None:
    """List stored runs, newest first: id, commit, branch, trigger, suite, status, findings, device."""
    with opened_store(db_url) as store, store.read() as session:
        rows, _ = reads.runs(session, 1, limit)
        counts = reads.finding_counts(session, [row["id"] for row in rows])
    for row in rows:
        row["findings"] = counts.get(row["id"], 0)
    if as_json:
        click.echo(json.dumps(finite(rows), indent=1))
        return
    if not rows:
        click.echo("no runs stored")
        return
    lines = [
        (
            row["id"],
            row["commit"][:10],
            row["branch"] or "-",
            row["trigger"],
            row["suite"] or "-",
            row["status"],
            str(row["findings"]),
            (row["ingested_at"] or "")[:19],
            row["environment"]["device_name"],
        )
        for row in rows
    ]
    echo_columns(HEADER, lines)
    if sys.stdout.isatty():
        click.echo("`perfci show RUN` lists a run's results against their baselines", err=True)
