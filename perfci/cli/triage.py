"""``perfci triage ID STATUS``: acknowledge, mark expected (new baseline), invalid or fixed."""

from __future__ import annotations

import getpass
import json

import click

from perfci.cli.common import BadInput, db_option, opened_store
from perfci.jsonvalues import finite
from perfci.store.models import MAX_ID, TRIAGE_STATUSES
from perfci.store.triage import TriageError, history, set_status


@click.command("triage")
@click.argument("regression_id", type=click.IntRange(1, MAX_ID))
@click.argument("status", type=click.Choice(TRIAGE_STATUSES), required=False)
@click.option("--note", help="Why (shown next to the regression).")
@click.option("--author", default=None, help="Who (default: the login name).")
@db_option
def command(regression_id: int, status: str | None, note: str | None, author: str | None, db_url: str | None) -> None:
    """Set the triage status of regression ID (ids: `perfci regressions --json`).

    `expected` accepts the change: the commit becomes the series' new baseline. Without STATUS,
    prints the regression's triage history (every change with note, author and time) as JSON.
    """
    with opened_store(db_url) as store:
        try:
            if status is None:
                click.echo(json.dumps(history(store, regression_id), indent=1))
                return
            row = set_status(store, regression_id, status, note, author or getpass.getuser())
        except TriageError as error:
            raise BadInput(str(error)) from None
    click.echo(json.dumps(finite(row)))
