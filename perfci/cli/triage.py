"""``perfci triage ID... STATUS``: acknowledge, mark expected (new baseline), invalid or fixed, in bulk."""

from __future__ import annotations

import getpass
import json

import click

from perfci.cli.common import BadInput, db_option, opened_store
from perfci.jsonvalues import finite
from perfci.store.models import MAX_ID, TRIAGE_STATUSES
from perfci.store.triage import TriageError, history, set_statuses


@click.command("triage")
@click.argument("ids_and_status", metavar="REGRESSION_ID... [STATUS]", nargs=-1, required=True)
@click.option("--note", help="Why (shown next to the regression).")
@click.option("--author", default=None, help="Who (default: the login name).")
@db_option
def command(ids_and_status: tuple[str, ...], note: str | None, author: str | None, db_url: str | None) -> None:
    """Set the triage status of one or more regressions (ids: `perfci regressions`), all or none.

    `perfci triage 12 13 14 expected --note "new tiling"`. `expected` accepts the change: the commit
    becomes the series' new baseline. With one ID and no STATUS, prints its triage history (every
    change with note, author and time) as JSON.
    """
    *ids, last = ids_and_status
    status = last if last in TRIAGE_STATUSES else None
    if status is None:
        ids.append(last)
    regression_ids = [_regression_id(value) for value in ids]
    if not regression_ids:
        raise BadInput(f"REGRESSION_ID: give at least one id before the status {status!r}")
    if status is None and len(regression_ids) > 1:
        raise BadInput(f"STATUS: several ids need a status, one of {', '.join(TRIAGE_STATUSES)}")
    with opened_store(db_url) as store:
        try:
            if status is None:
                click.echo(json.dumps(history(store, regression_ids[0]), indent=1))
                return
            rows = set_statuses(store, regression_ids, status, note, author or getpass.getuser())
        except TriageError as error:
            raise BadInput(str(error)) from None
    click.echo(json.dumps(finite(rows[0] if len(rows) == 1 else rows)))


def _regression_id(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        statuses = ", ".join(TRIAGE_STATUSES)
        raise BadInput(f"REGRESSION_ID: {value[:40]!r} is not a regression id (1..{MAX_ID}) nor a status ({statuses})")
    return int(value)
