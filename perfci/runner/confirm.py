"""Confirm before gating: re-measure a suspected regression in fresh process pairs.

When ``perfci run`` finds a change beyond a series' noise that one process cannot prove, it measures
the baseline commit and the head again, interleaved on the same device, in a paired sequential
design (``compare_case``: 2, 4, 8, ... up to ``confirm_max_pairs`` pairs within the budget, at
``confirm_alpha`` family-wise over the looks). Only a confirmed change gates; a
refuted or undecided one stays ``suspected`` with this evidence attached.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from perfci.config import CONFIRM_MIN_PAIRS, DetectionConfig
from perfci.findings import Finding
from perfci.pipeline import Bisect, Confirm
from perfci.runner import git as gitops
from perfci.runner.compare import CaseComparison, compare_case, default_rounds
from perfci.runner.culprits import EndpointBroken, find_culprits
from perfci.runner.execute import ExecutionSettings
from perfci.suite.cases import SuiteCase


def remeasure(
    repo: Any,
    head_sha: str,
    cases: list[SuiteCase],
    settings: ExecutionSettings,
    detection: DetectionConfig,
    report: Any = print,
    record: Callable[[str, str, CaseComparison], None] | None = None,
) -> Confirm:
    """The ``confirm`` callable of ``process_document`` for one measured commit of ``repo``;
    ``record`` hears of every comparison of a bisect behind a confirmed regression (stored as runs
    with trigger ``bisect``)."""
    by_id = {case.id: case for case in cases}
    effect = detection.policy().min_change  # the change that matters, never the series' noise: noise buys pairs
    paired = replace(settings, budget_s=detection.confirm_budget_s)
    rounds = default_rounds(settings.device)

    def confirm(suspects: list[Finding]) -> list[dict[str, Any] | None]:
        verdicts: list[dict[str, Any] | None] = []
        for finding in suspects:
            case = _case_to_measure(repo, by_id, finding)
            if case is None:
                verdicts.append(None)
                continue
            # the commit the change is attributed to, against its baseline: a step the change-point
            # pass placed on an earlier commit of this push is verified there, not at the head
            at = "" if finding.commit == head_sha else f" at {finding.commit[:10]}"
            report(
                f"confirming {finding.case}{at}: {finding.change:+.1%} vs {finding.baseline_commit[:10]}, in "
                f"process pairs (threshold {effect:.1%})"
            )
            with (
                gitops.worktree(repo, finding.baseline_commit) as base_tree,
                gitops.worktree(repo, finding.commit) as tree,
            ):
                item = compare_case(
                    case,
                    base_tree,
                    tree,
                    paired,
                    effect,
                    rounds_per_pair=rounds,
                    min_pairs=CONFIRM_MIN_PAIRS,
                    max_pairs=detection.confirm_max_pairs,
                    alpha=detection.confirm_alpha,
                )
            if item.verdict is None or item.interleaved is None:
                verdicts.append(None)
                continue
            verdict = {
                **item.verdict.as_dict(),
                "pairs": item.interleaved.pairs,
                "pair_changes": item.interleaved.pair_changes,
                # the baseline commit's fresh processes (ms): whether it reads at its recorded level
                "base_value": statistics.median(item.interleaved.process_values("base")),
                "looks": item.interleaved.looks,
                "autotune": item.autotune_note(),
            }
            report(f"  -> {verdict['kind']} after {verdict['pairs']} pairs: {verdict['reason']}")
            if verdict["kind"] == "regression" and detection.bisect:
                search = _bisect_behind(repo, finding, case, settings, effect, report, record)
                if search is not None:
                    verdict["bisect"] = search
            verdicts.append(verdict)
        return verdicts

    return confirm


def bisect_proved(
    repo: Any,
    cases: list[SuiteCase],
    settings: ExecutionSettings,
    detection: DetectionConfig,
    report: Any = print,
    record: Callable[[str, str, CaseComparison], None] | None = None,
) -> Bisect:
    """The ``bisect`` callable of ``process_document``: the commits behind a regression that the
    document's own processes proved (``perfci run --processes N``: no re-measurement, so no
    confirmation to bisect in) are searched as a confirmed regression's are."""
    by_id = {case.id: case for case in cases}
    effect = detection.policy().min_change

    def bisect(finding: Finding) -> dict[str, Any] | None:
        case = _case_to_measure(repo, by_id, finding)
        return None if case is None else _bisect_behind(repo, finding, case, settings, effect, report, record)

    return bisect


def _case_to_measure(repo: Any, by_id: dict[str, SuiteCase], finding: Finding) -> SuiteCase | None:
    """The finding's case, when this run measured it and the finding's commit and baseline commit
    are both in ``repo``: what re-measuring or bisecting it needs; None otherwise."""
    case = by_id.get(finding.case)
    if case is None or not finding.baseline_commit or not _known(repo, finding.baseline_commit, finding.commit):
        return None
    return case


def _known(repo: Any, *shas: str) -> bool:
    """Whether every commit is in ``repo`` (a history imported from elsewhere may name others)."""
    try:
        for sha in shas:
            gitops.resolve(repo, sha)
    except gitops.GitInputError:
        return False
    return True


#: pairs and seconds per step of a bisect behind a confirmed change (as `perfci bisect`'s defaults)
BISECT_MAX_PAIRS = 16
BISECT_STEP_BUDGET_S = 120.0


def _bisect_behind(
    repo: Any,
    finding: Finding,
    case: SuiteCase,
    settings: ExecutionSettings,
    effect: float,
    report: Any,
    record: Callable[[str, str, CaseComparison], None] | None,
) -> dict[str, Any] | None:
    """The culprits among the commits between a confirmed change's baseline and its commit, when
    there are several, searched as ``perfci bisect`` searches (``perfci.runner.bisect``)."""
    assert finding.baseline_commit
    between = gitops.commits_in_range(repo, f"{finding.baseline_commit}..{finding.commit}")
    if len(between) < 2:
        return None
    shas = [finding.baseline_commit, *(c.hexsha for c in between)]
    since = finding.baseline_commit[:10]
    report(f"bisecting {finding.case}: {len(between)} commits since {since}")
    step = replace(settings, budget_s=BISECT_STEP_BUDGET_S)
    try:
        (row,) = find_culprits(
            repo, shas, [case], step, effect, max_pairs=BISECT_MAX_PAIRS, report=report, on_compared=record
        )
    except EndpointBroken as error:
        report(f"  -> not bisected: {error}")
        return None
    return row
