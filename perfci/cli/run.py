"""``perfci run``: measure the suite for a commit (or a range), store and/or post the document.

Each commit is checked out in a temporary git worktree; its ``kernels`` package runs there with
today's suite (the installed perfci's cases, inputs and FLOP/byte model), one worker process per
case. The document is stored in one transaction at the end; Ctrl-C stores what ran as an
``aborted`` run, and a SIGKILL stores nothing, so no run ever looks complete when it is not.
"""

from __future__ import annotations

import json
import signal
import sys
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from perfci.alerts.markdown import render_markdown
from perfci.alerts.notify import deliver_now
from perfci.analysis.summary import summarize
from perfci.cli.common import (
    BadInput,
    adapter_from_config,
    config_option,
    db_option,
    load_config_or_fail,
    opened_store,
    plan_cases,
    report_deliveries,
    report_not_judged,
    selection_options,
    summary_line,
)
from perfci.config import PerfciConfig
from perfci.document import DocumentError, Environment, ResultsDocument, parse_document
from perfci.findings import Finding, Unjudged, worst_first
from perfci.fingerprint import environment_fingerprint
from perfci.pipeline import (
    Bisect,
    Confirm,
    apply_confirmations,
    behind_baseline,
    confirms,
    process_document,
    proved_behind,
    proved_by_processes,
    suspects_of,
)
from perfci.runner import git as gitops
from perfci.runner.comparison_documents import ComparisonRecorder
from perfci.runner.confirm import bisect_proved, remeasure
from perfci.runner.execute import ExecutionSettings, KernelsImportError, check_kernels_import, run_cases
from perfci.runner.phases import describe as describe_time
from perfci.runner.post import UNSENT_DIR, PostError, keep_unsent, post_bisects, post_confirmations, post_document
from perfci.runner.probe import Probe
from perfci.store.queries import stored_case_keys
from perfci.suite.cases import SuiteCase

console = Console(stderr=True, soft_wrap=True)  # messages stay one line in a CI log


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM (a CI job cancelled) ends the run like Ctrl-C: stored as aborted."""
    raise KeyboardInterrupt


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _summary(document: dict[str, Any]) -> Table:
    table = Table(
        "case", "status", "median ms", "±CI", "rel err", "rate", "roofline", title=document["run"]["commit"]["sha"][:12]
    )
    for result in document["results"]:
        samples = result.get("samples") or []
        median = f"{summarize(samples).median:.4f}" if samples else "-"  # the median the store keeps
        timing = result.get("timing") or {}
        ci = f"{timing['median_ci_rel_halfwidth']:.1%}" if "median_ci_rel_halfwidth" in timing else "-"
        correctness = result.get("correctness") or {}
        rel = f"{correctness['rel_err']:.1e}" if correctness.get("rel_err") is not None else "-"
        metrics = result.get("metrics") or {}
        if not samples:
            rate = "-"
        elif result["op"] == "paged_decode":
            rate = f"{metrics.get('gbps', 0):.1f} GB/s"
        else:
            rate = f"{metrics.get('tflops', 0):.2f} TFLOP/s"
        roof = f"{metrics['roofline_fraction']:.0%}" if metrics.get("roofline_fraction") else "-"
        style = {"ok": "green", "incorrect": "red", "failed": "red", "timeout": "yellow"}.get(result["status"], "")
        table.add_row(result["case"], f"[{style}]{result['status']}[/{style}]", median, ci, rel, rate, roof)
    return table


def _case_line(sha: str, case_id: str, result: dict[str, Any], precision: float) -> str:
    """One finished case: status, median and its interval, and whether the precision was reached."""
    samples = result.get("samples") or []
    median = f"{summarize(samples).median:.4f} {result.get('unit') or 'ms'}" if samples else "-"
    half = (result.get("timing") or {}).get("median_ci_rel_halfwidth")
    interval = f" ±{half:.1%}" if half is not None else ""
    missed = (
        f" (precision {half:.1%} not reached: target {precision:.1%})" if half is not None and half > precision else ""
    )
    return f"{sha[:10]} {case_id}: {result['status']} {median}{interval}{missed}"


def _measure_commit(
    repo: Any,
    commit: Any,
    cases: list[SuiteCase],
    settings: ExecutionSettings,
    environment: dict[str, Any],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Build the document for one commit; on Ctrl-C the partial document comes back marked aborted."""
    document: dict[str, Any] = {
        "schema": "perfci.results/1",
        "run": {
            "id": str(uuid.uuid4()),
            "repo": meta["repo"],
            "commit": gitops.commit_metadata(commit, meta["branch"]),
            "trigger": meta["trigger"],
            "status": "complete",
            "started_at": _now(),
            "environment": environment,
            "suite": meta["suite"],
            **({"selection": meta["selection"]} if meta["selection"] else {}),
        },
        "results": [],
    }
    with gitops.worktree(repo, commit.hexsha) as path:
        try:
            check_kernels_import(path, settings.device)
        except KernelsImportError as error:
            raise BadInput(
                f"commit {commit.hexsha[:12]}: its kernels do not import ({error}); nothing was stored"
            ) from None
        except KeyboardInterrupt:
            document["run"]["status"] = "aborted"
            document["run"]["finished_at"] = _now()
            return document
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"{commit.hexsha[:10]}", total=len(cases))

            def advance(case: SuiteCase, result: dict[str, Any]) -> None:
                document["results"].append({k: v for k, v in result.items() if v is not None})
                progress.update(task, advance=1, description=f"{commit.hexsha[:10]} {case.id}")
                line = _case_line(commit.hexsha, case.id, result, settings.precision)
                if not console.is_terminal or "not reached" in line:  # a CI log hears of every case
                    progress.console.print(line, highlight=False)

            try:
                run_cases(cases, path, settings, on_result=advance)
            except KeyboardInterrupt:
                document["run"]["status"] = "aborted"
    document["run"]["finished_at"] = _now()
    return document


def _deliver(
    document: dict[str, Any],
    db_url: str | None,
    store_locally: bool,
    post_url: str | None,
    token: str | None,
    output: Path | None,
    post_attempts: int,
    config: PerfciConfig,
    confirm: Confirm,
    bisect: Bisect,
) -> tuple[list[Finding], list[Unjudged], bool]:
    """Write, store (judge, confirm suspected regressions, alert) and/or post the document: (the
    findings of the local judgement and of the server's, the cases not judged, whether every
    requested delivery happened)."""
    try:
        parsed = parse_document(document, "runner output")
    except DocumentError as error:  # a runner bug, never user input: keep the evidence
        path = keep_unsent(document, UNSENT_DIR)
        raise click.ClickException(f"{error}\nThe document was kept in {path}") from None
    if output:
        output.write_text(json.dumps(document, indent=1))
    findings: list[Finding] = []
    not_judged: list[Unjudged] = []
    if store_locally:
        with opened_store(db_url) as store:
            processed = process_document(store, config, parsed, confirm=confirm, bisect=bisect)
            findings, not_judged = processed.findings, processed.not_judged
            report_deliveries(deliver_now(store, config, processed.deliveries))
    if not post_url:
        return findings, not_judged, True
    try:
        judged_there, unjudged_there = post_document(post_url, token, document, attempts=post_attempts)
    except PostError as error:
        path = keep_unsent(document, UNSENT_DIR)
        console.print(
            f"[red]could not post: {error}[/red]\nThe document is kept in {path}; send it with "
            f"`perfci resend {path} --post {post_url}` (token: --token or $PERFCI_TOKEN)."
        )
        return findings, not_judged, False
    console.print(f"posted run {document['run']['id']} to {post_url}: {len(judged_there)} finding(s) there")
    try:
        judged_there = _confirm_there(post_url, token, parsed, judged_there, findings, config, confirm)
        judged_there = _bisect_there(post_url, token, parsed, judged_there, findings, config, bisect)
    except PostError as error:
        console.print(f"[red]could not post the re-measurements: {error}[/red]")
        return findings, not_judged, False
    confirmed_there = {f.case for f in judged_there if f.kind == "latency"}
    unjudged_there = [u for u in unjudged_there if u.case not in confirmed_there]
    known = {(f.case, f.kind, f.commit) for f in findings}
    merged = worst_first([*findings, *(f for f in judged_there if (f.case, f.kind, f.commit) not in known)])
    return merged, not_judged if store_locally else unjudged_there, True


def _confirm_there(
    url: str,
    token: str | None,
    document: ResultsDocument,
    judged_there: list[Finding],
    local: list[Finding],
    config: PerfciConfig,
    confirm: Confirm,
) -> list[Finding]:
    """The server's suspected slowdowns, re-measured here in process pairs (this runner has the
    commits and the device; the server has neither) and posted back, so they gate or are refuted
    exactly as a local run's are; a case this run already re-measured for its own store is not
    measured twice. A pull request's findings are not recorded there: they are applied here."""
    # the suspicions recorded at this run's commit (a step placed earlier is the history's)
    suspects = [f for f in suspects_of(judged_there) if f.commit == document.run.commit.sha]
    if not suspects or not confirms(config, document):
        return judged_there
    done = {(f.case, f.commit): f.verdict["confirmation"] for f in local if "confirmation" in f.verdict}
    verdicts = _remeasured(confirm, suspects, done)
    # a baseline whose fresh processes read like the head is re-measured against the level's result
    # before it, as a local run does (``behind_baseline``); its verdict travels with the head's
    behind = [b for f in suspects if (b := behind_baseline(f, verdicts.get(f.case))) is not None]
    for case, remeasured in _remeasured(confirm, behind, done).items():
        if remeasured is not None:
            verdicts[case] = {**verdicts[case], "baseline_remeasured": remeasured}
    verdicts = {case: verdict for case, verdict in verdicts.items() if verdict is not None}
    if not verdicts:
        return judged_there
    if document.run.trigger == "pr":
        updated = {f.case: f for f in apply_confirmations(suspects, [verdicts.get(f.case) for f in suspects])}
        steps = proved_behind(behind, [verdicts[b.case].get("baseline_remeasured") for b in behind])
        return worst_first([*(updated.get(f.case, f) if f.kind == "suspected" else f for f in judged_there), *steps])
    return post_confirmations(url, token, str(document.run.id), verdicts)


def _remeasured(
    confirm: Confirm, findings: list[Finding], done: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, dict[str, Any] | None]:
    """By case, each finding's re-measurement: the one this run already made for its own store at
    that (case, commit), else one made now (all of those in one ``confirm`` call)."""
    todo = [f for f in findings if (f.case, f.commit) not in done]
    measured = dict(zip((f.case for f in todo), confirm(todo) if todo else [], strict=True))
    return {f.case: done.get((f.case, f.commit)) or measured.get(f.case) for f in findings}


def _bisect_there(
    url: str,
    token: str | None,
    document: ResultsDocument,
    judged_there: list[Finding],
    local: list[Finding],
    config: PerfciConfig,
    bisect: Bisect,
) -> list[Finding]:
    """With ``[detection] bisect``, the commits behind the server's gating slowdowns that this run's
    own processes proved (``--processes N``), searched here (the server has neither the commits nor
    a device) and posted back; a case this run already searched for its own store is not searched
    twice. A pull request's findings are not recorded there: the search is applied here."""
    run_commit = document.run.commit.sha
    proved = [f for f in proved_by_processes(judged_there) if f.commit == run_commit]
    if not proved or not config.detection.bisect:
        return judged_there
    done = {f.case: f.verdict["bisect"] for f in local if f.commit == run_commit and "bisect" in f.verdict}
    searches = {f.case: done.get(f.case) or bisect(f) for f in proved}
    searches = {case: search for case, search in searches.items() if search is not None}
    if not searches:
        return judged_there
    if document.run.trigger == "pr":
        return [
            replace(f, verdict={**f.verdict, "bisect": searches[f.case]}) if f in proved and f.case in searches else f
            for f in judged_there
        ]
    return post_bisects(url, token, str(document.run.id), searches)


def _shown_db(db_url: str | None) -> str:
    """The database a run went to, as a user can name it (the password hidden)."""
    from sqlalchemy.engine import make_url

    from perfci.store.engine import resolve_db_url

    return make_url(resolve_db_url(db_url)).render_as_string(hide_password=True)


def _baseline_resolver(repo: Any, pr_base: str | None, pinned: str | None) -> Any:
    """commit -> the document's ``run.baseline`` (None: the branch's previous result)."""

    def baseline_of(commit: Any) -> dict[str, str] | None:
        if pr_base:
            return {"commit": gitops.merge_base(repo, commit, pr_base), "reason": f"merge-base with {pr_base}"}
        if pinned and pinned.startswith("run:"):
            try:
                return {"run": str(uuid.UUID(pinned[4:])), "reason": f"pinned {pinned}"}
            except ValueError:
                raise gitops.GitInputError(f"--baseline: {pinned!r} is not run:UUID of a stored run") from None
        if pinned:
            sha = gitops.resolve(repo, pinned).hexsha
            return {"commit": sha, "reason": f"pinned: {pinned}"}
        return None

    return baseline_of


def _checked_options(
    rev: str | None,
    rev_range: str | None,
    pr_base: str | None,
    pinned: str | None,
    config: PerfciConfig,
    trigger: str | None,
    no_store: bool,
    post_url: str | None,
    output: Path | None,
) -> tuple[str | None, str]:
    """(the baseline pin, the trigger) once the options agree with each other, else exit 2."""
    if rev and rev_range:
        raise BadInput("--commit and --range: give one of them")
    pinned = pinned or (config.baseline.pin if not pr_base else None)
    if pr_base and pinned:
        raise BadInput("--pr-base and --baseline: a run has one baseline; give one of them")
    trigger = trigger or ("pr" if pr_base else "manual")
    if trigger == "pr" and not pr_base:
        raise BadInput(
            "--trigger pr: give --pr-base BRANCH (the PR's target) so the PR is judged against its merge-base"
        )
    if no_store and not (post_url or output):
        raise BadInput("--no-store: the results would go nowhere; add --post URL or --output FILE")
    return pinned, trigger


@dataclass(frozen=True)
class _Plan:
    repo: Any
    commits: list[Any]
    #: commit -> the document's ``run.baseline`` (None: the branch's previous result)
    baseline_of: Callable[[Any], dict[str, str] | None]


def _plan(
    rev: str | None,
    rev_range: str | None,
    repo_path: str,
    allow_dirty: bool,
    pr_base: str | None,
    pinned: str | None,
    db_url: str | None,
    no_store: bool,
) -> _Plan:
    """The commits to measure and their baselines; every git or store problem fails now, before
    anything is measured (exit 2)."""
    try:
        repo = gitops.open_repo(repo_path)
        if rev_range:
            commits = gitops.commits_in_range(repo, rev_range)
        else:
            if rev is None and not allow_dirty:
                gitops.require_clean(repo)
            commits = [gitops.resolve(repo, rev or "HEAD")]
        baseline_of = _baseline_resolver(repo, pr_base, pinned)
        for commit in commits:
            baseline_of(commit)  # a bad branch or pin fails now, before anything is measured
    except gitops.GitInputError as error:
        raise BadInput(str(error)) from None
    if not no_store:
        with opened_store(db_url):  # a bad --db fails now, not after an hour of measuring
            pass
    return _Plan(repo, commits, baseline_of)


def _measurement(
    probe: Probe, timeout_s: float, precision: float, budget_s: float, processes: int, warm: bool
) -> tuple[dict[str, Any], ExecutionSettings]:
    """The environment every document of this run records (on CUDA with the ceilings the probe
    measured once), and how each case is measured."""
    environment = dict(probe.environment)
    if probe.ceilings is not None:
        environment["extra"] = {"ceilings": probe.ceilings}
    settings = ExecutionSettings(
        device=probe.device,
        timeout_s=timeout_s,
        precision=precision,
        budget_s=budget_s,
        ceilings=probe.ceilings,
        processes=processes,
        warm=warm,
    )
    return environment, settings


def _already_stored(db_url: str | None, repo: str, sha: str, fingerprint: str, cases: list[Any]) -> bool:
    with opened_store(db_url) as store, store.read() as session:
        done = stored_case_keys(session, repo, sha, fingerprint)
    return {c.id for c in cases} <= done


def _where(db_url: str | None, no_store: bool, post_url: str | None, delivered: bool) -> str:
    return ", ".join(
        [
            *(["stored in " + _shown_db(db_url)] if not no_store else []),
            *(["posted to " + post_url] if post_url and delivered else []),
            *(["NOT delivered to " + post_url] if post_url and not delivered else []),
        ]
    )


def _report_commit(
    document: dict[str, Any],
    sha: str,
    baseline: dict[str, str] | None,
    findings: list[Finding],
    not_judged: list[Unjudged],
    where: str,
) -> None:
    """What a CI log shows of one commit: cases not judged, the summary line, the table, the report."""
    report_not_judged(not_judged, sha)
    against = (
        f"{baseline['commit'][:12] if 'commit' in baseline else baseline['run']}"
        if baseline
        else "each series' previous result on the branch"
    )
    console.print(summary_line(document["run"]["id"], sha, where, against, findings, not_judged))
    Console(width=None if sys.stdout.isatty() else 160).print(_summary(document))
    report = render_markdown(findings, device=document["run"]["environment"]["device_name"], not_judged=not_judged)
    if report:
        click.echo(report)


@click.command("run")
@click.option("--commit", "rev", default=None, help="Revision to measure (default HEAD).")
@click.option(
    "--range",
    "rev_range",
    metavar="A..B",
    help="Measure every commit of A..B, oldest first, skipping those already stored for this environment.",
)
@selection_options
@click.option("--repo-name", help="Name of the repository in the store (default: origin URL or folder name).")
@click.option(
    "--trigger",
    type=click.Choice(["push", "pr", "nightly", "manual", "bisect", "calibration"]),
    default=None,
    help="Why this run happened (default: pr with --pr-base, else manual).",
)
@click.option(
    "--pr-base",
    metavar="BRANCH",
    help="Judge against the merge-base with BRANCH (a pull request's "
    "target); PR results never enter the branch's history.",
)
@click.option(
    "--baseline",
    "pinned",
    metavar="REV|run:UUID",
    help="Judge against this tag/commit or stored run "
    "instead of the branch's previous result (default: [baseline] pin of the config file).",
)
@click.option("--allow-dirty", is_flag=True, help="Measure HEAD as committed even with local changes.")
@click.option(
    "--skip-stored",
    is_flag=True,
    help="Skip a commit already stored for this environment and these cases (always so with --range; "
    "a worker's job sets it, so a job delivered twice is stored once).",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds per case before it is killed.",
)
@click.option(
    "--budget",
    "budget_s",
    default=3.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds of sampling per case.",
)
@click.option(
    "--precision",
    default=0.005,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Target relative half-width of the median's CI (0: sample each case for the whole --budget).",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Worker processes per case, in one result: with 5 or more a result carries the "
    "process-level evidence to gate without being re-measured.",
)
@click.option(
    "--fresh-processes",
    is_flag=True,
    help="A fresh worker process for every case (each process otherwise measures the commit's cases "
    "one after another, imports and CUDA context paid once; a crash still costs one case).",
)
@click.option("--post", "post_url", metavar="URL", help="Also send the document to a perfci server.")
@click.option("--token", envvar="PERFCI_TOKEN", help="Write token for --post (or $PERFCI_TOKEN).")
@click.option(
    "--post-attempts",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Tries before the document is kept on disk.",
)
@click.option("--no-store", is_flag=True, help="Do not store locally (with --post or --output).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Also write the document here.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown regression report here: every finding of the commits measured (empty file when "
    "nothing changed).",
)
@config_option
@db_option
def command(
    rev: str | None,
    rev_range: str | None,
    suite: str | None,
    case_patterns: tuple[str, ...],
    device: str,
    repo_path: str,
    repo_name: str | None,
    trigger: str | None,
    pr_base: str | None,
    pinned: str | None,
    allow_dirty: bool,
    skip_stored: bool,
    timeout_s: float,
    budget_s: float,
    precision: float,
    processes: int,
    fresh_processes: bool,
    post_url: str | None,
    token: str | None,
    post_attempts: int,
    no_store: bool,
    output: Path | None,
    report_path: Path | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Run the SWA benchmark suite and correctness checks for a commit and store the results.

    Each stored run is judged against its series (see `perfci regressions`); with --post the server
    judges it too and its findings gate as well. Exit code 1 when a case is incorrect, failed or timed
    out, or a regression was found (here or by the server); 2 on bad input; 3 when a document could not
    be posted (kept in .perfci/unsent/, `perfci resend` sends it); 130 when interrupted.
    """
    probe, suite, cases = plan_cases(device, suite, case_patterns, ceilings=True)
    config = load_config_or_fail(config_path)
    adapter_from_config(config)
    pinned, trigger = _checked_options(rev, rev_range, pr_base, pinned, config, trigger, no_store, post_url, output)
    plan = _plan(rev, rev_range, repo_path, allow_dirty, pr_base, pinned, db_url, no_store)
    environment, settings = _measurement(probe, timeout_s, precision, budget_s, processes, not fresh_processes)
    meta = {
        "repo": repo_name or gitops.repo_name(plan.repo),
        "branch": gitops.current_branch(plan.repo),
        "trigger": trigger,
        "suite": suite,
        "selection": list(case_patterns),
    }
    fingerprint = environment_fingerprint(Environment.model_validate(environment))
    signal.signal(signal.SIGTERM, _interrupt)

    bad = undelivered = False
    found: list[Finding] = []  # every commit's: the report of a range covers the whole range
    # a bisect behind a confirmed regression stores its comparisons where the runs go (trigger bisect)
    with nullcontext() if no_store else opened_store(db_url) as recording_store:
        record = (
            None
            if recording_store is None
            else ComparisonRecorder(recording_store, config, plan.repo, meta["repo"], environment, suite)
        )
        bisect = bisect_proved(plan.repo, cases, settings, config.detection, report=console.print, record=record)
        for commit in plan.commits:
            if (
                (rev_range or skip_stored)
                and not no_store
                and _already_stored(db_url, meta["repo"], commit.hexsha, fingerprint, cases)
            ):
                console.print(f"{commit.hexsha[:12]}: already stored for this environment, skipped")
                continue
            document = _measure_commit(plan.repo, commit, cases, settings, environment, meta)
            baseline = plan.baseline_of(commit)
            if baseline:
                document["run"]["baseline"] = baseline
            confirm = remeasure(
                plan.repo, commit.hexsha, cases, settings, config.detection, report=console.print, record=record
            )
            findings, not_judged, delivered = _deliver(
                document, db_url, not no_store, post_url, token, output, post_attempts, config, confirm, bisect
            )
            undelivered = undelivered or not delivered
            _report_commit(
                document, commit.hexsha, baseline, findings, not_judged, _where(db_url, no_store, post_url, delivered)
            )
            found += findings
            if spent := describe_time(document["results"]):
                console.print(spent, highlight=False)
            if report_path:  # empty when nothing changed: post no PR comment then
                report_path.write_text(render_markdown(found, device=environment["device_name"], not_judged=not_judged))
            bad = bad or any(r["status"] in ("incorrect", "failed", "timeout") for r in document["results"])
            bad = bad or any(f.gates for f in findings)
            if document["run"]["status"] == "aborted":
                console.print("[yellow]interrupted: the run was stored as aborted[/yellow]")
                sys.exit(130)
        if undelivered:
            console.print("[red]a document was not delivered: the server's verdict is unknown (exit 3)[/red]")
            sys.exit(3)
        sys.exit(1 if bad else 0)
