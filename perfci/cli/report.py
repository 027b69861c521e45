"""``perfci report REF --html DIR``: a static HTML report of a run (or a commit's latest run)."""

from __future__ import annotations

from pathlib import Path

import click

from perfci.alerts.html_report import render_report, sparkline, write_report
from perfci.cli.common import BadInput, db_option, opened_store, summary_line
from perfci.findings import Unjudged
from perfci.store import reads
from perfci.store.queries import recorded_findings


@click.command("report")
@click.argument("ref")
@click.option(
    "--html",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write index.html to (created if needed).",
)
@click.option(
    "--points",
    type=click.IntRange(2, 1000),
    default=60,
    show_default=True,
    help="Results of history in each finding's trend line.",
)
@db_option
def command(ref: str, directory: Path, points: int, db_url: str | None) -> None:
    """Write a self-contained HTML page of a run (its id) or of a commit's latest run (a sha prefix):
    its findings with their trends and every result against its baseline; for CI artifacts."""
    with opened_store(db_url) as store, store.read() as session:
        run = reads.find_run(session, ref)
        if run is None and (commit := reads.find_commit(session, ref)) is not None:
            latest, _ = reads.runs(session, 1, 1, commit)
            run = reads.find_run(session, latest[0]["id"]) if latest else None
        if run is None:
            raise BadInput(
                f"REF: {ref[:60]!r} is neither a stored run id nor a unique stored commit sha prefix; "
                "`perfci runs` lists both"
            )
        mine = reads.result_ids_of_run(session, run)
        rows = [row for row in reads.commit_results(session, run.commit) if row["id"] in mine]
        findings = recorded_findings(session, run.uuid)
        series_of = {row["case"]: row["series_id"] for row in rows}
        trends = {
            case: [p["median"] for p in reads.series_points(session, series_id, points)]
            for case, series_id in series_of.items()
            if any(f.case == case for f in findings)
        }
        status = {(row["series_id"], r["kind"]): r["status"] for row in rows for r in row["regressions"]}
        commit = reads.commit_info(run.commit)
        device = run.environment.device_name
    unjudged = [
        Unjudged(row["case"], (row.get("judgement") or {}).get("reason", ""))
        for row in rows
        if (row.get("judgement") or {}).get("kind") in ("not_judged", "suspected")
    ]
    listed = [
        {
            "kind": f.kind,
            "change": f.change,
            "case": f.case,
            "baseline_commit": f.baseline_commit,
            "status": status.get((series_of.get(f.case), f.kind), "open"),
            "sparkline": sparkline(trends.get(f.case, [])),
        }
        for f in findings
    ]
    summary = summary_line(
        str(run.uuid), commit["sha"], f"on {device}", "each series' previous result", findings, unjudged
    )
    html = render_report(
        title=f"run of {commit['sha'][:12]} on {device}",
        summary=summary,
        commit=commit,
        results=rows,
        findings=listed,
        points=points,
    )
    click.echo(f"wrote {write_report(directory, html)}")
