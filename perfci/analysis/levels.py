"""Each result of a series judged against the level before it, from per-process values alone.

The series is walked oldest first, the way its results arrived, so every result's judgement is the
one it got (or would have got) when it was stored: pure, stateless, the same at import, at
``perfci run`` and in the detection benchmark.

A result's value is the median of its processes' values; its *level* is the run of results since
the last change (excursions that reverted left out). Noise is pooled across levels: each earlier
result's process values relative to its own level's median (so a kernel's noise is learned across
its history, and a step does not count as noise). For the head:

- fewer than ``min_history`` results before it: not judged ("history 2/6");
- inside the spread the series has already shown (between the second smallest and second largest
  relative deviation: an extreme must have been seen twice, so an autotune mode seen in two
  processes is noise, one seen once is not yet): ``same``, whatever a test would say;
- a change under the threshold (max(policy floor, k x process sigma)): ``same``;
- otherwise a change: ``regression``/``improvement`` when the head's own processes carry the
  evidence (a rank test of its processes against the level's, ``judge_processes``), else
  ``suspected`` (one process, or too little evidence: confirm it by re-measuring, never gate on it).

A change starts a new level. If the next result goes back to the level before it, the change was an
excursion: it is left out of the level and the noise, and the return is a change of its own,
against the excursion (a regression at its start, a fix at its revert; never a step credited to an
unchanged commit). When the threshold exceeds ``gate_limit`` the series is labelled
"too noisy to gate at X% (MDE Y%)".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from perfci.analysis.noise import ThresholdPolicy, sigma_upper_bound
from perfci.analysis.verdict import judge_processes

JudgementKind = Literal["regression", "improvement", "suspected", "same", "not_judged"]


@dataclass(frozen=True)
class Judgement:
    kind: JudgementKind
    reason: str
    #: relative change of the value against what it is compared with (+0.05 = 5% slower)
    change: float | None = None
    threshold: float | None = None
    sigma: float | None = None
    #: the index of the result this one is compared with (the level's last result, or the excursion)
    baseline_index: int | None = None
    too_noisy: bool = False
    #: the process-level test when the head had several processes
    verdict: dict[str, Any] = field(default_factory=dict)

    @property
    def is_change(self) -> bool:
        return self.kind in ("regression", "improvement", "suspected")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "change": self.change,
            "threshold": self.threshold,
            "sigma": self.sigma,
            "too_noisy": self.too_noisy,
            **({"test": self.verdict} if self.verdict else {}),
        }


def _value(processes: Sequence[float]) -> float:
    return float(np.median(processes))


class _Walk:
    """The series' levels as the walk knows them after each result."""

    def __init__(self, values: Sequence[Sequence[float]], policy: ThresholdPolicy) -> None:
        self.values = [np.asarray(v, dtype=np.float64) for v in values]
        self.policy = policy
        self.starts: list[int] = [0]  # first index of each level
        self.excursions: set[int] = set()

    def level_members(self, start: int, end: int) -> list[int]:
        return [i for i in range(start, end) if i not in self.excursions]

    def level_processes(self, members: list[int]) -> np.ndarray:
        return np.concatenate([self.values[i] for i in members]) if members else np.empty(0)

    def residuals(self, end: int) -> np.ndarray:
        """Log deviations of every process before ``end`` from its own level's median."""
        out = []
        bounds = [*self.starts, end]
        for start, stop in itertools.pairwise(bounds):
            processes = self.level_processes(self.level_members(start, min(stop, end)))
            if processes.size:
                out.append(np.log(processes) - math.log(float(np.median(processes))))
        return np.concatenate(out) if out else np.empty(0)

    def noise(self, end: int) -> tuple[float, float, float, float]:
        """(threshold, sigma, spread low, spread high) from the processes before ``end``."""
        from scipy import stats

        residuals = self.residuals(end)
        sigma = float(stats.median_abs_deviation(residuals, scale="normal")) if residuals.size > 1 else 0.0
        threshold = max(self.policy.min_change, self.policy.k * sigma_upper_bound(sigma, residuals.size))
        ordered = np.sort(residuals)
        low, high = (ordered[1], ordered[-2]) if ordered.size >= 3 else (ordered[0], ordered[-1])
        return threshold, sigma, float(low), float(high)


def _change_kind(
    walk: _Walk, reference: np.ndarray, head: np.ndarray, threshold: float
) -> tuple[JudgementKind, dict[str, Any]]:
    """regression / improvement with the head's own process-level evidence, else suspected."""
    if head.size < 2 or reference.size < 2:
        return "suspected", {}
    verdict = judge_processes(reference, head, threshold=threshold, alpha=walk.policy.alpha)
    kind: JudgementKind = verdict.kind if verdict.kind in ("regression", "improvement") else "suspected"
    return kind, verdict.as_dict()


def _noisy_label(threshold: float, policy: ThresholdPolicy) -> str:
    if threshold <= policy.gate_limit:
        return ""
    return f"; too noisy to gate at {policy.gate_limit:.0%} (MDE {threshold:.1%})"


def judge_history(values: Sequence[Sequence[float]], policy: ThresholdPolicy | None = None) -> list[Judgement]:
    """The judgement of every result (oldest first); ``values[i]`` holds result i's per-process
    values (one value when the result is one process)."""
    policy = policy or ThresholdPolicy()
    walk = _Walk(values, policy)
    judgements: list[Judgement] = []
    for t, head in enumerate(walk.values):
        if t < policy.min_history:
            judgements.append(Judgement("not_judged", f"history {t}/{policy.min_history}"))
            continue
        threshold, sigma, low, high = walk.noise(t)
        noisy = threshold > policy.gate_limit
        label = _noisy_label(threshold, policy)
        value = _value(head)
        previous = judgements[-1] if judgements else None
        if previous is not None and previous.is_change and walk.starts[-1] == t - 1:
            # the result before started a new level: does this one hold it, or go back?
            excursion = walk.values[t - 1]
            older = walk.level_processes(walk.level_members(walk.starts[-2], t - 1))
            against_new = value / _value(excursion) - 1.0
            against_old = value / float(np.median(older)) - 1.0 if older.size else math.inf
            if abs(against_new) < threshold:
                judgements.append(
                    Judgement(
                        "same",
                        f"holds the new level of the result before{label}",
                        against_new,
                        threshold,
                        sigma,
                        t - 1,
                        noisy,
                    )
                )
                continue
            if abs(against_old) < threshold:
                walk.excursions.add(t - 1)
                walk.starts.pop()
                kind, test = _change_kind(walk, excursion, head, threshold)
                judgements.append(
                    Judgement(
                        kind,
                        f"returns to the level before the result before{label}",
                        against_new,
                        threshold,
                        sigma,
                        t - 1,
                        noisy,
                        test,
                    )
                )
                continue
        members = walk.level_members(walk.starts[-1], t)
        reference = walk.level_processes(members)
        level = float(np.median(reference))
        change = value / level - 1.0
        deviation = math.log(value / level)
        if low <= deviation <= high:
            judgements.append(
                Judgement(
                    "same",
                    f"inside the spread already shown ({math.expm1(low):+.1%}..{math.expm1(high):+.1%}){label}",
                    change,
                    threshold,
                    sigma,
                    members[-1],
                    noisy,
                )
            )
            continue
        if abs(change) < threshold:
            judgements.append(
                Judgement(
                    "same", f"under the threshold {threshold:.1%}{label}", change, threshold, sigma, members[-1], noisy
                )
            )
            continue
        kind, test = _change_kind(walk, reference, head, threshold)
        reason = (
            "the processes of both sides differ"
            if kind != "suspected"
            else ("one process: confirm by re-measuring" if head.size < 2 else "not confirmed by its processes")
        )
        judgements.append(Judgement(kind, reason + label, change, threshold, sigma, members[-1], noisy, test))
        walk.starts.append(t)
    return judgements
