"""`perfci compare`: one case of BASE and HEAD measured in pairs of live workers, interleaved.

Each side's kernels run in their own ``perfci.runner.worker --serve`` process (the two commits'
``kernels`` packages cannot share one interpreter); the parent asks each for one round at a time,
so base and head alternate on the same device within seconds of each other. Every pair of fresh
processes adds that pair's process offsets to the evidence (see ``interleave``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from perfci.analysis.verdict import Verdict, judge_pairs, paired_min_p, per_look_alpha, planned_looks
from perfci.findings import autotune_note
from perfci.runner.execute import ExecutionSettings
from perfci.runner.interleave import InterleavedOutcome, Pair, interleave
from perfci.runner.live_worker import LiveWorker, WorkerGone
from perfci.runner.worker import READY_PREFIX, ROUND_PREFIX
from perfci.suite.cases import SuiteCase

#: family-wise significance of one ``perfci compare`` case over its looks (0.01 at 8 and at 16 pairs)
COMPARE_ALPHA = 0.02


def default_rounds(device: str) -> int:
    """ABBA rounds per process pair: 6 on CUDA (each ~50 ms of samples), 3 under the interpreter."""
    return 6 if device == "cuda" else 3


class ServeWorker:
    """A ``worker --serve`` process: one case prepared, then one round of samples per request."""

    def __init__(self, case: SuiteCase, worktree: Path, settings: ExecutionSettings) -> None:
        self.live = LiveWorker("--serve", worktree, settings.device, settings.gpu, settings.timeout_s)
        self.live.send({"case": case.params(), "device": settings.device, "worktree": str(worktree)})

    def read(self, prefix: str) -> dict[str, Any]:
        return self.live.read(prefix)

    def round(self, mode: str) -> list[float]:
        self.live.send({"mode": mode})
        return [float(x) for x in self.live.read(ROUND_PREFIX)["samples"]]

    def close(self) -> None:
        self.live.close()


@dataclass
class SideReport:
    """One commit's side of a case: its status (ok/incorrect/failed/timeout) and what it measured."""

    status: str
    error: str | None = None
    correctness: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list)
    #: per process (pair), the config each autotuned kernel chose
    autotune: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CaseComparison:
    case: SuiteCase
    base: SideReport
    head: SideReport
    #: regression / improvement / same / unknown from the timing; "correctness" when HEAD broke a
    #: kernel that BASE ran correctly; "error" when BASE itself cannot be measured
    outcome: str
    threshold: float
    mode: str | None = None
    interleaved: InterleavedOutcome | None = None

    @property
    def verdict(self) -> Verdict | None:
        return self.interleaved.verdict if self.interleaved else None

    def gates(self) -> bool:
        return self.outcome in ("regression", "correctness")

    def autotune_note(self) -> str | None:
        """Says when processes ran different autotune configs ("autotune chose ... / ..."), else None."""
        return autotune_note(self.base.autotune + self.head.autotune)


class SideFailed(Exception):
    """A worker of one side crashed, hung or failed to prepare; ``side`` is "base" or "head"."""

    def __init__(self, side: str, report: SideReport) -> None:
        super().__init__(report.error)
        self.side = side
        self.report = report


def _ready(worker: ServeWorker) -> tuple[SideReport, str | None]:
    try:
        answer = worker.read(READY_PREFIX)
    except WorkerGone as error:
        return SideReport(error.status, str(error)), None
    correctness, config = answer.get("correctness") or {}, answer.get("config") or {}
    autotune = [answer.get("autotune") or {}]
    return SideReport(answer["status"], answer.get("error"), correctness, config, autotune=autotune), answer.get("mode")


def compare_case(
    case: SuiteCase,
    base_tree: Path,
    head_tree: Path,
    settings: ExecutionSettings,
    threshold: float,
    *,
    rounds_per_pair: int,
    min_pairs: int,
    max_pairs: int,
    alpha: float = COMPARE_ALPHA,
) -> CaseComparison:
    """Fresh process pairs (both sides compiled and checked in parallel), ABBA rounds in each, judged
    by the paired test on the pairs' ratios until decided or the budget ends; ``alpha`` is the
    family-wise significance, split over the looks (``per_look_alpha``)."""
    reports: dict[str, SideReport] = {}
    modes: list[str] = []

    @contextmanager
    def open_pair() -> Iterator[Pair]:
        workers = {"base": ServeWorker(case, base_tree, settings), "head": ServeWorker(case, head_tree, settings)}
        try:
            ready = {side: _ready(worker) for side, worker in workers.items()}
            for side in ("base", "head"):
                report, mode = ready[side]
                if report.status in ("failed", "timeout"):
                    raise SideFailed(side, report)
                if side not in reports:  # the first pair's correctness check and config are the side's
                    reports[side] = report
                else:
                    reports[side].autotune += report.autotune
                if mode and not modes:
                    modes.append(mode)
            if reports["head"].status == "incorrect" and reports["base"].status == "ok":
                raise SideFailed("head", reports["head"])  # a correctness regression: no timing can change that
            mode = modes[0] if modes else "wall-clock"

            def measure(side: str) -> Callable[[], list[float]]:
                def one_round() -> list[float]:
                    try:
                        samples = workers[side].round(mode)
                    except WorkerGone as error:
                        raise SideFailed(side, SideReport(error.status, str(error))) from None
                    reports[side].samples.extend(samples)
                    return samples

                return one_round

            yield measure("base"), measure("head")
        finally:
            for worker in workers.values():
                worker.close()

    looks = planned_looks(min_pairs, max_pairs)
    share = per_look_alpha(alpha, looks)
    decide = partial(judge_pairs, threshold=threshold, alpha=share)
    # the budget may not end a comparison before its first look that can show a change
    decisive = next((n for n in looks if paired_min_p(n) < share), max_pairs)
    try:
        result = interleave(
            open_pair,
            decide,
            rounds_per_pair=rounds_per_pair,
            min_pairs=min_pairs,
            max_pairs=max_pairs,
            budget_s=settings.budget_s,
            decisive_pairs=decisive,
        )
    except SideFailed as failure:
        base = reports.get("base") or (failure.report if failure.side == "base" else SideReport("unknown"))
        head = reports.get("head") or (failure.report if failure.side == "head" else SideReport("unknown"))
        if failure.side == "base":
            base.status, base.error = failure.report.status, failure.report.error
            return CaseComparison(case, base, head, "error", threshold, modes[0] if modes else None)
        head.status, head.error = failure.report.status, failure.report.error
        outcome = "correctness" if base.status == "ok" else "error"
        return CaseComparison(case, base, head, outcome, threshold, modes[0] if modes else None)
    base, head = reports["base"], reports["head"]
    if head.status == "incorrect" and base.status == "ok":
        outcome = "correctness"  # an incorrect kernel is never a speed-up, whatever its timing
    else:
        outcome = result.verdict.kind if result.verdict else "unknown"
    return CaseComparison(case, base, head, outcome, threshold, modes[0] if modes else None, result)
