"""``perfci compare BASE HEAD``: both commits measured interleaved in one job, HEAD judged against BASE.

Drift of the device between two separate runs (clocks, neighbours on a shared card) cancels when
the two commits alternate round by round on the same device. The unit of evidence is the process
pair: each pair's ratio of the two processes' medians enters a paired test (a sign-flip permutation
test of the log ratios, bootstrap interval of the median ratio), looked at after --min-pairs pairs and at every
doubling while the answer is unknown, up to --max-pairs or --budget seconds. The threshold is the
change that matters (--threshold, default the policy floor), never inflated by noise: a noisy case
ends "too noisy to tell" with its interval, and the cure is more pairs.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from perfci.alerts.html_report import render_compare, write_report
from perfci.alerts.markdown import render_markdown
from perfci.analysis.noise import ThresholdPolicy
from perfci.analysis.summary import summarize
from perfci.cli.common import (
    BadInput,
    adapter_from_config,
    answer_timeout_option,
    load_config_or_fail,
    plan_cases,
    selection_options,
)
from perfci.findings import Finding, worst_first
from perfci.jsonvalues import finite
from perfci.runner import git as gitops
from perfci.runner.compare import CaseComparison, compare_case, default_rounds
from perfci.runner.execute import ExecutionSettings, KernelsImportError, check_kernels_import

console = Console(stderr=True, soft_wrap=True)  # messages stay one line in a CI log
FINDING_KIND = {"regression": "latency", "improvement": "improvement", "correctness": "correctness"}


def _side(side: Any) -> dict[str, Any]:
    samples = side.samples
    return {
        "status": side.status,
        "error": side.error,
        "n_samples": len(samples),
        "median": summarize(samples).median if samples else None,
        "rel_err": side.correctness.get("rel_err"),
        "config": side.config,
    }


def _as_json(item: CaseComparison) -> dict[str, Any]:
    verdict = item.verdict
    interleaved = item.interleaved
    return {
        "case": item.case.id,
        "outcome": item.outcome,
        "threshold": verdict.threshold if verdict else item.threshold,
        "reason": verdict.reason if verdict else None,
        "autotune": item.autotune_note(),
        "timing_mode": item.mode,
        "base": _side(item.base),
        "head": _side(item.head),
        "verdict": verdict.as_dict() if verdict else None,
        "pairs": interleaved.pairs if interleaved else 0,
        "rounds": interleaved.rounds if interleaved else 0,
        "pair_changes": interleaved.pair_changes if interleaved else [],
        "stopped_by": interleaved.stopped_by if interleaved else None,
        "looks": interleaved.looks if interleaved else [],
    }


def _table(rows: list[dict[str, Any]], base: str, head: str) -> Table:
    table = Table(
        "case",
        "base ms",
        "head ms",
        "change",
        "99% CI",
        "p",
        "min. det.",
        "threshold",
        "pairs",
        "pair changes",
        "verdict",
        title=f"{base[:12]} -> {head[:12]}",
    )
    styles = {"regression": "red", "correctness": "red", "error": "red", "improvement": "green", "unknown": "yellow"}
    for row in rows:
        v = row["verdict"]
        cells = [f"{row[side]['median']:.4f}" if row[side]["median"] is not None else "-" for side in ("base", "head")]
        if v:
            cells += [
                f"{v['change']:+.2%}",
                f"{v['ci_low']:+.1%}..{v['ci_high']:+.1%}",
                f"{v['p_value']:.1e}",
                f"{v['min_detectable_change']:.2%}",
            ]
        else:
            cells += ["-"] * 4
        style = styles.get(row["outcome"], "")
        label = row["outcome"] if row["outcome"] != "correctness" else f"head {row['head']['status']}"
        if row["outcome"] == "error":
            label = f"base {row['base']['status']}"
        changes = " ".join(f"{c:+.1%}" for c in row["pair_changes"])
        label = f"[{style}]{label}[/{style}]" if style else label
        notes = "; ".join(note for note in (row["reason"], row["autotune"]) if note)
        table.add_row(
            row["case"], *cells, f"{row['threshold']:.1%}", str(row["pairs"]), changes, f"{label} {notes}".strip()
        )
    return table


def _findings(items: list[CaseComparison], base: str, head: str) -> list[Finding]:
    findings = []
    for item in items:
        kind = FINDING_KIND.get(item.outcome)
        if kind is None:
            continue
        if kind == "correctness":
            details = {"status": item.head.status, "error": (item.head.error or "")[:500]}
            findings.append(Finding(item.case.id, kind, head, base, None, details))
        else:
            verdict = item.verdict
            assert verdict is not None
            details = {**verdict.as_dict(), **({"autotune": item.autotune_note()} if item.autotune_note() else {})}
            findings.append(Finding(item.case.id, kind, head, base, verdict.change, details))
    return worst_first(findings)


@click.command("compare")
@click.argument("base")
@click.argument("head")
@selection_options
@click.option(
    "--budget",
    "budget_s",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds per case after which no new process pair is started while the verdict is unknown.",
)
@click.option(
    "--rounds",
    "rounds_per_pair",
    default=None,
    type=click.IntRange(2, 1000),
    help="ABBA rounds per process pair (default 6 on CUDA, each ~50 ms of samples; 3 under the interpreter).",
)
@click.option(
    "--min-pairs",
    default=2,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Process pairs before the first look (one pair cannot tell a change from a lucky process); "
    "later looks come at every doubling.",
)
@click.option(
    "--max-pairs",
    default=16,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Process pairs at most per case while the verdict is unknown.",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Relative change that matters (default 2%, the policy floor); noise never raises it.",
)
@answer_timeout_option
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON on stdout.")
@click.option(
    "--html",
    "html_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write a self-contained HTML page of the comparison to this folder (index.html).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown report here (empty file when nothing changed).",
)
def command(
    base: str,
    head: str,
    suite: str | None,
    case_patterns: tuple[str, ...],
    device: str,
    repo_path: str,
    budget_s: float,
    rounds_per_pair: int | None,
    min_pairs: int,
    max_pairs: int,
    threshold: float | None,
    timeout_s: float,
    as_json: bool,
    report_path: Path | None,
    html_dir: Path | None,
) -> None:
    """Measure BASE and HEAD interleaved on one device and judge HEAD against BASE.

    Per case, pairs of fresh processes (one per commit) take ABBA rounds; each pair gives one ratio of
    the two processes' medians. After --min-pairs pairs, and at every doubling, the ratios are judged
    (a sign-flip permutation test + bootstrap interval of the median ratio against --threshold): `same` only
    when the interval lies inside +-threshold, a regression only when it excludes half the threshold;
    `unknown` buys more pairs, up to --max-pairs or --budget seconds. A HEAD that is incorrect where
    BASE was correct is a correctness regression. Exit code 1 on a regression or correctness failure,
    0 otherwise, 2 on bad input.
    """
    adapter_from_config(load_config_or_fail(None))
    probe, suite, cases = plan_cases(device, suite, case_patterns)
    device = probe.device
    if threshold is not None and not 0 < threshold < 1:
        raise BadInput(f"--threshold: {threshold} is not a fraction in (0, 1); 0.03 means 3%")
    try:
        repo = gitops.open_repo(repo_path)
        base_commit, head_commit = gitops.resolve(repo, base), gitops.resolve(repo, head)
    except gitops.GitInputError as error:
        raise BadInput(str(error).replace("--commit", "BASE/HEAD")) from None
    rounds_per_pair = rounds_per_pair or default_rounds(device)
    if budget_s <= 0:
        raise BadInput(f"--budget: {budget_s} is not a positive number of seconds")
    if max_pairs < min_pairs:
        raise BadInput(f"--max-pairs {max_pairs} is below --min-pairs {min_pairs}; raise --max-pairs")

    limit = threshold if threshold is not None else ThresholdPolicy().min_change
    settings = ExecutionSettings(device=device, timeout_s=timeout_s, budget_s=budget_s)
    rows, items = [], []
    with gitops.worktree(repo, base_commit.hexsha) as base_tree, gitops.worktree(repo, head_commit.hexsha) as head_tree:
        for sha, tree in ((base_commit.hexsha, base_tree), (head_commit.hexsha, head_tree)):
            try:
                check_kernels_import(tree, device)
            except KernelsImportError as error:
                raise BadInput(f"commit {sha[:12]}: its kernels do not import ({error})") from None
        for case in cases:
            console.print(f"[dim]{case.id}: interleaving {base_commit.hexsha[:10]} / {head_commit.hexsha[:10]}[/dim]")
            item = compare_case(
                case,
                base_tree,
                head_tree,
                settings,
                limit,
                rounds_per_pair=rounds_per_pair,
                min_pairs=min_pairs,
                max_pairs=max_pairs,
            )
            items.append(item)
            rows.append(_as_json(item))
    report = render_markdown(_findings(items, base_commit.hexsha, head_commit.hexsha), device=device)
    if report_path:
        report_path.write_text(report)
    if as_json:
        click.echo(
            json.dumps(
                {"base": base_commit.hexsha, "head": head_commit.hexsha, "device": device, "cases": finite(rows)},
                indent=1,
            )
        )
    else:
        Console(width=None if sys.stdout.isatty() else 200).print(_table(rows, base_commit.hexsha, head_commit.hexsha))
        if report:
            click.echo(report)
    outcomes = Counter(row["outcome"] for row in rows)
    counted = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())) or "no case"
    summary = f"compare {base_commit.hexsha[:12]}..{head_commit.hexsha[:12]} on {device}: {counted}"
    console.print(summary)
    if html_dir:
        html = render_compare(
            base=base_commit.hexsha, head=head_commit.hexsha, device=device, summary=summary, rows=finite(rows)
        )
        console.print(f"wrote {write_report(html_dir, html)}")
    sys.exit(1 if any(item.gates() for item in items) else 0)
