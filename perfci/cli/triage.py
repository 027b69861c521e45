"""``perfci triage ID... STATUS``: acknowledge, mark expected (new baseline), invalid or fixed, in bulk
(by ids, or every open finding of a commit or of a range of commits)."""

from __future__ import annotations

import getpass
import json

import click

from perfci.cli.common import BadInput, db_option, opened_store
from perfci.jsonvalues import finite
from perfci.runner import git as gitops
from perfci.store.models import MAX_ID, TRIAGE_STATUSES
from perfci.store.triage import TriageError, history, open_ids_at, set_statuses


@click.command("triage")
@click.argument("ids_and_status", metavar="[REGRESSION_ID...] STATUS", nargs=-1, required=True)
@click.option("--note", help="Why (shown next to the regression).")
@click.option("--author", default=None, help="Who (default: the login name).")
@click.option(
    "--commit",
    "commit_refs",
    multiple=True,
    metavar="SHA",
    help="Also every open finding at this commit (full sha or 7+ hex prefix; repeatable).",
)
@click.option(
    "--range",
    "rev_range",
    metavar="A..B",
    help="Also every open finding at the commits of A..B (as `git log A..B` in --repo).",
)
@click.option("--repo", "repo_path", default=".", show_default=True, help="Git checkout that --range is read in.")
@db_option
def command(
    ids_and_status: tuple[str, ...],
    note: str | None,
    author: str | None,
    commit_refs: tuple[str, ...],
    rev_range: str | None,
    repo_path: str,
    db_url: str | None,
) -> None:
    """Set the triage status of one or more regressions (ids: `perfci regressions`), all or none.

    `perfci triage 12 13 14 expected --note "new tiling"`; `perfci triage --commit 3f2a9c1 expected`
    (every open finding of that commit); `perfci triage --range v1.2..main acknowledged`. `expected`
    accepts the change: the commit becomes the series' new baseline. With one ID and no STATUS,
    prints its triage history (every change with note, author and time) as JSON.
    """
    *ids, last = ids_and_status
    status = last if last in TRIAGE_STATUSES else None
    if status is None:
        ids.append(last)
    regression_ids = [_regression_id(value) for value in ids]
    refs = list(commit_refs) + _range_shas(repo_path, rev_range)
    if refs and status is None:
        raise BadInput(f"STATUS: --commit / --range need a status, one of {', '.join(TRIAGE_STATUSES)}")
    if not regression_ids and not refs:
        raise BadInput(f"REGRESSION_ID: give at least one id (or --commit / --range) before the status {status!r}")
    if status is None and len(regression_ids) > 1:
        raise BadInput(f"STATUS: several ids need a status, one of {', '.join(TRIAGE_STATUSES)}")
    with opened_store(db_url) as store:
        if refs:
            found, unknown = open_ids_at(store, refs)
            if unknown and commit_refs:
                raise BadInput(f"--commit: {', '.join(u[:40] for u in unknown)} is not a stored commit")
            if not found:
                raise BadInput("--commit / --range: no open finding at those commits (perfci regressions lists them)")
            regression_ids = list(dict.fromkeys([*regression_ids, *found]))
        try:
            if status is None:
                click.echo(json.dumps(history(store, regression_ids[0]), indent=1))
                return
            rows = set_statuses(store, regression_ids, status, note, author or getpass.getuser())
        except TriageError as error:
            raise BadInput(str(error)) from None
    click.echo(json.dumps(finite(rows[0] if len(rows) == 1 else rows)))


def _range_shas(repo_path: str, rev_range: str | None) -> list[str]:
    if not rev_range:
        return []
    try:
        return [c.hexsha for c in gitops.commits_in_range(gitops.open_repo(repo_path), rev_range)]
    except gitops.GitInputError as error:
        raise BadInput(str(error)) from None


def _regression_id(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        statuses = ", ".join(TRIAGE_STATUSES)
        raise BadInput(f"REGRESSION_ID: {value[:40]!r} is not a regression id (1..{MAX_ID}) nor a status ({statuses})")
    return int(value)
