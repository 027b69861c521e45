"""Culprit finding on a tracked repository: the search of ``perfci.runner.bisect`` with each step a
``compare_case`` of two commits' worktrees (process pairs, back to back on this machine).
Used by ``perfci bisect`` and by a confirmation that bisects the commits behind a confirmed change."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from perfci.runner import git as gitops
from perfci.runner.bisect import BisectResult, Comparison, Outcome, bisect
from perfci.runner.compare import CaseComparison, compare_case, default_rounds
from perfci.runner.execute import ExecutionSettings, KernelsImportError, check_kernels_import
from perfci.runner.speculation import Speculation
from perfci.suite.cases import SuiteCase


class EndpointBroken(RuntimeError):
    """GOOD's or BAD's kernels do not import: there is nothing to bisect."""


def comparison_of(base: int, head: int, item: CaseComparison) -> Comparison:
    """A compare of two candidates as the search reads it: a head that crashes or hangs is skipped."""
    verdict = item.verdict
    outcome: Outcome
    if item.outcome == "correctness" and item.head.status in ("failed", "timeout"):
        outcome, reason = "skip", item.head.error or item.head.status
    elif item.outcome in ("regression", "improvement", "same", "unknown", "correctness", "error"):
        outcome, reason = item.outcome, verdict.reason if verdict else (item.head.error or "")  # type: ignore[assignment]
    else:
        outcome, reason = "error", item.base.error or item.outcome
    pairs = item.interleaved.pairs if item.interleaved else 0
    change, high = (verdict.change, verdict.ci_high) if verdict else (None, None)
    return Comparison(base, head, outcome, change, pairs, reason, None if high is None or math.isinf(high) else high)


def culprits_json(result: BisectResult, shas: list[str], case: SuiteCase) -> dict[str, Any]:
    def step(c: Comparison) -> dict[str, Any]:
        return {
            "base": shas[c.base],
            "head": shas[c.head],
            "outcome": c.outcome,
            "change": c.change,
            "pairs": c.pairs,
            "reason": c.reason,
        }

    return {
        "case": case.id,
        "kind": result.kind,
        "reproduced": result.reproduced,
        "confirmation": step(result.confirmation),
        "like_good_below": result.like_good_below,
        "culprits": [
            {
                "commit": shas[c.index],
                "parent": shas[c.parent],
                "change": c.verification.change,
                "share": c.share,
                "verified": c.verified,
                "pairs": c.verification.pairs,
                "reason": c.verification.reason,
            }
            for c in result.culprits
        ],
        "skipped": [shas[i] for i in result.skipped],
        "unresolved": [shas[i] for i in result.unresolved] if result.unresolved else None,
        "steps": [step(c) for c in result.steps],
    }


def signed_percent(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1%}"


def find_culprits(
    repo: Any,
    shas: list[str],
    cases: list[SuiteCase],
    settings: ExecutionSettings,
    threshold: float,
    *,
    max_pairs: int,
    report: Callable[[str], None],
    on_compared: Callable[[str, str, CaseComparison], None] | None = None,
    gpus: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Per case, the search between ``shas[0]`` (GOOD) and ``shas[-1]`` (BAD) as ``culprits_json``,
    every step judged at ``threshold`` (``perfci.runner.bisect``).
    Worktrees are made once per commit and removed at the end; a commit whose kernels do not import
    is skipped (``EndpointBroken`` for GOOD or BAD). ``on_compared`` hears of every comparison as it
    ends (base sha, head sha, what it measured): ``perfci bisect`` stores each one then, so a search
    stopped half-way keeps what it measured. With several ``gpus`` each comparison runs on one of
    them and the search's next steps are measured ahead on the free ones (``Speculation``)."""
    rounds = default_rounds(settings.device)
    rows = []
    heard = threading.Lock()  # comparisons end in several threads with speculation
    with ExitStack() as stack:
        trees: dict[int, Path | None] = {}

        def tree(index: int) -> Path | None:
            """The candidate's worktree, or None when its kernels do not import."""
            if index not in trees:
                path = stack.enter_context(gitops.worktree(repo, shas[index]))
                try:
                    check_kernels_import(path, settings.device)
                    trees[index] = path
                except KernelsImportError as error:
                    if index in (0, len(shas) - 1):
                        side = "GOOD" if index == 0 else "BAD"
                        raise EndpointBroken(
                            f"{side} {shas[index][:12]}: its kernels do not import ({error})"
                        ) from None
                    trees[index] = None
            return trees[index]

        for case in cases:

            def compare(
                base: int, head: int, threshold: float, gpu: str | None = None, case: SuiteCase = case
            ) -> Comparison:
                base_tree, head_tree = tree(base), tree(head)
                if head_tree is None:
                    step = Comparison(base, head, "skip", reason="its kernels do not import")
                else:
                    assert base_tree is not None  # the search compares against commits that ran
                    item = compare_case(
                        case,
                        base_tree,
                        head_tree,
                        settings if gpu is None else replace(settings, gpu=gpu),
                        threshold,
                        rounds_per_pair=rounds,
                        min_pairs=2,
                        max_pairs=max_pairs,
                    )
                    step = comparison_of(base, head, item)
                    if on_compared is not None:
                        with heard:
                            on_compared(shas[base], shas[head], item)
                where = "" if gpu is None else f" (GPU {gpu})"
                with heard:
                    report(
                        f"{case.id}: {shas[head][:10]} vs {shas[base][:10]}{where}: {step.outcome} "
                        f"{signed_percent(step.change)} ({step.pairs} pairs, threshold {threshold:.1%}) {step.reason}"
                    )
                return step

            if gpus is None or len(gpus) < 2:
                rows.append(culprits_json(bisect(len(shas), compare, threshold=threshold), shas, case))
                continue
            with Speculation(compare, gpus, tree) as ahead:
                search = bisect(len(shas), ahead.compare, threshold=threshold, speculate=ahead.speculate)
            rows.append({**culprits_json(search, shas, case), "comparisons_started": ahead.speculative})
    return rows
