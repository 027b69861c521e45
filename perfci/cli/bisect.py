"""``perfci bisect GOOD BAD``: which commits between GOOD and BAD made a case slower, or incorrect.

Each step measures two commits as ``perfci compare`` does (fresh process pairs, back to back on one
device, ABBA rounds, the paired sequential test); the search itself is ``perfci.runner.bisect``.
"""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from perfci.analysis.noise import ThresholdPolicy
from perfci.cli.common import (
    BadInput,
    adapter_from_config,
    answer_timeout_option,
    db_option,
    load_config_or_fail,
    opened_store,
    plan_cases,
    selection_options,
)
from perfci.jsonvalues import finite
from perfci.runner import git as gitops
from perfci.runner.comparison_documents import ComparisonRecorder
from perfci.runner.culprits import EndpointBroken, find_culprits, signed_percent
from perfci.runner.execute import ExecutionSettings

console = Console(stderr=True)


def _markdown(rows: list[dict[str, Any]], good: str, bad: str, device: str) -> str:
    lines = [f"### perfci bisect {good[:12]}..{bad[:12]} on {device}", ""]
    lines += ["| case | culprit | parent | change | share | verified |", "|---|---|---|---|---|---|"]
    for row in rows:
        if not row["reproduced"]:
            confirmation = row["confirmation"]
            lines.append(
                f"| `{row['case']}` | not reproduced: {confirmation['outcome']} ({confirmation['reason']}) | | | | |"
            )
            continue
        for culprit in row["culprits"]:
            share = "–" if culprit["share"] is None else f"{culprit['share']:.0%}"
            verified = "yes" if culprit["verified"] else "no: " + culprit["reason"]
            change = signed_percent(culprit["change"])
            commits = f"{culprit['commit'][:12]} | {culprit['parent'][:12]}"
            lines.append(f"| `{row['case']}` | {commits} | {change} | {share} | {verified} |")
        if row["unresolved"]:
            first, last = row["unresolved"]
            lines.append(
                f"| `{row['case']}` | somewhere in {first[:12]}..{last[:12]} (a step the pairs could not "
                "decide, or skipped commits) | | | | |"
            )
    return "\n".join(lines) + "\n"


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table("case", "culprit", "parent", "change", "share", "verified", "pairs")
    for row in rows:
        if not row["reproduced"]:
            table.add_row(row["case"], f"not reproduced ({row['confirmation']['outcome']})", "", "", "", "", "")
        for culprit in row["culprits"]:
            share = "–" if culprit["share"] is None else f"{culprit['share']:.0%}"
            table.add_row(
                row["case"],
                culprit["commit"][:12],
                culprit["parent"][:12],
                signed_percent(culprit["change"]),
                share,
                "yes" if culprit["verified"] else "no",
                str(culprit["pairs"]),
            )
        if row["unresolved"]:
            first, last = row["unresolved"]
            table.add_row(row["case"], f"in {first[:12]}..{last[:12]}", "", "", "", "undecided", "")
    return table


@click.command("bisect")
@click.argument("good")
@click.argument("bad")
@selection_options
@click.option(
    "--budget",
    "budget_s",
    default=120.0,
    show_default=True,
    type=float,
    help="Seconds per comparison after which no new process pair is started while the verdict is unknown.",
)
@click.option("--max-pairs", default=16, show_default=True, type=click.IntRange(2, 100), help="Pairs per comparison.")
@click.option(
    "--threshold", type=float, default=None, help="Relative change that matters (default 2%, the policy floor)."
)
@answer_timeout_option
@click.option("--json", "as_json", is_flag=True, help="Print the search (every step) as JSON on stdout.")
@click.option(
    "--report", "report_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a Markdown report here."
)
@click.option(
    "--gpus",
    default=None,
    metavar="LIST",
    help="GPUs of this machine to bisect on at once (e.g. 0,1,2): each comparison runs on one, and the "
    "search's next steps are measured ahead on free ones (speculative midpoints).",
)
@db_option
@click.option("--no-store", is_flag=True, help="Keep the measurements out of the store (only the report).")
@click.option("--repo-name", help="Name of the repository in the store (default: origin URL or folder name).")
def command(
    good: str,
    bad: str,
    suite: str | None,
    case_patterns: tuple[str, ...],
    device: str,
    repo_path: str,
    budget_s: float,
    max_pairs: int,
    threshold: float | None,
    timeout_s: float,
    as_json: bool,
    report_path: Path | None,
    gpus: str | None,
    db_url: str | None,
    no_store: bool,
    repo_name: str | None,
) -> None:
    """Find the commits between GOOD and BAD that made each selected case slower (or incorrect).

    First GOOD against BAD, in process pairs as `perfci compare`: a change that does not reproduce
    files nothing. Then a binary search, each step a paired comparison against the last commit known
    to be good; commits whose kernels crash or do not import are skipped (as `git bisect skip`);
    each culprit is verified against its parent, and the rest of the range is searched again for
    more culprits, each with its share of the change. Every comparison's processes are stored as
    runs with trigger `bisect` (one per commit and step; never a branch's history, never judged)
    unless --no-store. Exit code 1 when a culprit was found, 0 when nothing reproduced or the range
    stayed undecided, 2 on bad input.
    """
    config = load_config_or_fail(None)
    adapter_from_config(config)
    probe, suite, cases = plan_cases(device, suite, case_patterns)
    device = probe.device
    if threshold is not None and not 0 < threshold < 1:
        raise BadInput(f"--threshold: {threshold} is not a fraction in (0, 1); 0.03 means 3%")
    if budget_s <= 0:
        raise BadInput(f"--budget: {budget_s} is not a positive number of seconds")
    lanes = [gpu.strip() for gpu in gpus.split(",")] if gpus is not None else None
    if lanes is not None and (not all(gpu.isdigit() for gpu in lanes) or len(set(lanes)) != len(lanes)):
        raise BadInput(f"--gpus: {gpus!r} is not a list of distinct GPU indices; write e.g. 0,1,2")
    try:
        repo = gitops.open_repo(repo_path)
        good_commit, bad_commit = gitops.resolve(repo, good), gitops.resolve(repo, bad)
        between = gitops.commits_in_range(repo, f"{good_commit.hexsha}..{bad_commit.hexsha}")
    except gitops.GitInputError as error:
        raise BadInput(str(error).replace("--commit", "GOOD/BAD")) from None
    if not between or between[-1].hexsha != bad_commit.hexsha or not repo.is_ancestor(good_commit, bad_commit):
        raise BadInput(f"GOOD/BAD: {bad} is not a descendant of {good}; give an older GOOD and a newer BAD")
    shas = [good_commit.hexsha, *(c.hexsha for c in between)]
    limit = threshold if threshold is not None else ThresholdPolicy().min_change
    settings = ExecutionSettings(device=device, timeout_s=timeout_s, budget_s=budget_s)
    with nullcontext() if no_store else opened_store(db_url) as store:
        recorder = None
        if store is not None:
            recorder = ComparisonRecorder(
                store, config, repo, repo_name or gitops.repo_name(repo), probe.environment, suite
            )
        try:
            rows = find_culprits(
                repo,
                shas,
                cases,
                settings,
                limit,
                max_pairs=max_pairs,
                report=lambda line: console.print(line, highlight=False),
                on_compared=recorder,
                gpus=lanes,
            )
        except EndpointBroken as error:
            raise BadInput(str(error)) from None
    if recorder is not None:
        console.print(f"stored {len(recorder.runs)} bisect runs (trigger bisect)", highlight=False)
    report = _markdown(rows, shas[0], shas[-1], device)
    if report_path:
        report_path.write_text(report)
    if as_json:
        click.echo(json.dumps(finite({"good": shas[0], "bad": shas[-1], "device": device, "cases": rows}), indent=1))
    else:
        Console(width=None if sys.stdout.isatty() else 160).print(_table(rows))
    sys.exit(1 if any(c["verified"] for row in rows for c in row["culprits"]) else 0)
