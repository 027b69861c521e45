"""``perfci show RUN|COMMIT``: a run's or a commit's results against their baselines."""

from __future__ import annotations

import json

import click

from perfci.cli.common import BadInput, db_option, echo_columns, opened_store
from perfci.jsonvalues import finite
from perfci.store import reads

HEADER = ("STATUS", "MEDIAN", "BASELINE", "CHANGE", "VERDICT", "CASE")


@click.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (the fields of GET /api/commits/<sha>).")
@db_option
def command(ref: str, as_json: bool, db_url: str | None) -> None:
    """Show a run (its id) or a commit (a sha prefix of 7+): each result against its baseline, with
    the judge's verdict; slowest change first. `perfci runs` lists run ids."""
    with opened_store(db_url) as store, store.read() as session:
        run = reads.find_run(session, ref)
        commit = run.commit if run is not None else reads.find_commit(session, ref)
        if commit is None:
            raise BadInput(
                f"REF: {ref[:60]!r} is neither a stored run id nor a unique stored commit sha prefix; "
                "`perfci runs` lists both"
            )
        rows = reads.commit_results(session, commit)
        if run is not None:
            mine = reads.result_ids_of_run(session, run)
            rows = [row for row in rows if row["id"] in mine]
    if as_json:
        click.echo(json.dumps(finite(rows), indent=1))
        return
    click.echo(
        f"{'run ' + str(run.uuid) + ' of ' if run else ''}commit {commit.sha[:12]} ({commit.branch or 'no branch'})"
    )
    lines = [_fields(row) for row in rows]
    echo_columns(HEADER, lines)


def _fields(row: dict) -> tuple[str, ...]:
    base = row["baseline"] or {}
    median = f"{row['median']:.4f}" if row["median"] is not None else "-"
    baseline = f"{base['median']:.4f} @ {base['sha'][:10]}" if base.get("median") is not None else "-"
    change = f"{row['change']:+.1%}" if row["change"] is not None else "-"
    judgement = row.get("judgement") or {}
    verdict = ", ".join(f"{r['kind']} ({r['status']})" for r in row["regressions"]) or judgement.get("kind", "-")
    return (row["status"], median, baseline, change, verdict, row["case"])
