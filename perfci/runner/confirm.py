"""Confirm before gating: re-measure a suspected regression in fresh process pairs.

When ``perfci run`` finds a change beyond a series' noise that one process cannot prove, it measures
the baseline commit and the head again, interleaved on the same device, in a paired sequential
design (``compare_case``: 2, 4, 8, 16 pairs within the budget). Only a confirmed change gates; a
refuted or undecided one stays ``suspected`` with this evidence attached.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from perfci.config import DetectionConfig
from perfci.findings import Finding
from perfci.pipeline import Confirm
from perfci.runner import git as gitops
from perfci.runner.compare import compare_case, default_rounds
from perfci.runner.execute import ExecutionSettings
from perfci.suite.cases import SuiteCase


def remeasure(
    repo: Any,
    head_sha: str,
    cases: list[SuiteCase],
    settings: ExecutionSettings,
    detection: DetectionConfig,
    report: Any = print,
) -> Confirm:
    """The ``confirm`` callable of ``process_document`` for one measured commit of ``repo``."""
    by_id = {case.id: case for case in cases}
    effect = detection.policy().min_change  # the change that matters, never the series' noise: noise buys pairs
    paired = replace(settings, budget_s=detection.confirm_budget_s)
    rounds = default_rounds(settings.device)

    def confirm(suspects: list[Finding]) -> list[dict[str, Any] | None]:
        verdicts: list[dict[str, Any] | None] = []
        for finding in suspects:
            case = by_id.get(finding.case)
            if case is None or not finding.baseline_commit:
                verdicts.append(None)
                continue
            report(
                f"confirming {finding.case}: {finding.change:+.1%} vs {finding.baseline_commit[:10]}, in process "
                f"pairs (threshold {effect:.1%})"
            )
            with gitops.worktree(repo, finding.baseline_commit) as base_tree, gitops.worktree(repo, head_sha) as tree:
                item = compare_case(
                    case,
                    base_tree,
                    tree,
                    paired,
                    effect,
                    rounds_per_pair=rounds,
                    min_pairs=2,
                    max_pairs=detection.confirm_max_pairs,
                )
            if item.verdict is None or item.interleaved is None:
                verdicts.append(None)
                continue
            verdict = {
                **item.verdict.as_dict(),
                "pairs": item.interleaved.pairs,
                "pair_changes": item.interleaved.pair_changes,
                "looks": item.interleaved.looks,
                "autotune": item.autotune_note(),
            }
            report(f"  -> {verdict['kind']} after {verdict['pairs']} pairs: {verdict['reason']}")
            verdicts.append(verdict)
        return verdicts

    return confirm
