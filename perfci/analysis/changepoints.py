"""Sustained steps in a series' history, attributed to the first commit of their new segment.

Uses ruptures' PELT (exact optimal segmentation under a penalty, linear time) with an L2 cost on
the log of each result's value, so a step is a relative change; the penalty is BIC-style,
``beta * sigma^2 * log n``, with sigma the series' process-level noise. Hygiene:

- a minimum segment length on both sides (``min_segment``): a one- or two-commit excursion is never
  a segment, so it cannot place a step on an unchanged commit (excursions are the per-commit
  judge's business, ``levels.py``);
- segment levels are medians, and a step is kept only when the new segment's median lies outside the
  spread the old segment's processes showed (second extremes: a mode seen twice is noise) and the
  change is at least the threshold;
- the evidence is process-level: a Mann-Whitney test between the two segments' per-process values,
  at ``alpha`` divided by the number of places a step could have been put (PELT chose the split
  that separates the data best, so an uncorrected p-value would be optimistic: on a busy shared
  H200's noise it gated A/A histories). Below that the step is ``confirmed`` (a gating finding);
  otherwise it is only suspected;
- where another split point explains the data about as well (log-likelihood within 1), the step's
  commit range is reported instead of pretending to know the commit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures
from scipy import stats


class PrefixSumL2(ruptures.base.BaseCost):
    """ruptures' L2 cost (sum of squared deviations from the segment mean) from prefix sums: O(1) per
    segment instead of a numpy ``var`` call, the same value (PELT's search stays ruptures')."""

    model = "l2-prefix-sum"
    min_size = 1

    def fit(self, signal: np.ndarray) -> PrefixSumL2:
        self.signal = np.asarray(signal, dtype=np.float64).reshape(len(signal), -1)
        values = self.signal[:, 0]
        self._sum = np.concatenate([[0.0], np.cumsum(values)]).tolist()
        self._squares = np.concatenate([[0.0], np.cumsum(values * values)]).tolist()
        return self

    def error(self, start: int, end: int) -> float:
        count = end - start
        total = self._sum[end] - self._sum[start]
        return max(0.0, self._squares[end] - self._squares[start] - total * total / count)


@dataclass(frozen=True)
class Step:
    index: int  # first index of the new segment
    before: float
    after: float
    change: float  # after / before - 1
    p_value: float
    confirmed: bool  # the two segments' processes differ at alpha
    #: first and last index where the step may lie (equal when the commit is certain)
    first: int
    last: int


def _spread(processes: np.ndarray) -> tuple[float, float]:
    ordered = np.sort(processes)
    return (float(ordered[1]), float(ordered[-2])) if ordered.size >= 3 else (float(ordered[0]), float(ordered[-1]))


def _placement(logs: np.ndarray, left: int, right: int, sigma: float) -> tuple[int, int, int]:
    """(best split, first and last split whose two-segment cost is within 2 sigma^2 of the best) in
    (left, right). The best split is searched without PELT's minimum size: at the end of a history
    that minimum would push a step that has fewer results after it onto an earlier, unchanged commit."""
    cost = PrefixSumL2().fit(logs)
    costs = {j: cost.error(left, j) + cost.error(j, right) for j in range(left + 1, right)}
    best = min(costs, key=costs.__getitem__)
    near = [j for j, value in costs.items() if value <= costs[best] + 2 * sigma**2]
    return best, min(near), max(near)


def detect_steps(
    values: Sequence[Sequence[float]],
    sigma: float,
    *,
    min_change: float,
    alpha: float = 0.01,
    beta: float = 3.0,
    min_segment: int = 3,
) -> list[Step]:
    """Steps of at least ``min_change`` in a history (oldest first; ``values[i]`` holds result i's
    per-process values), each with ``min_segment`` results or more on both sides."""
    processes = [np.asarray(v, dtype=np.float64) for v in values]
    logs = np.log([float(np.median(p)) for p in processes])
    n = logs.size
    if n < 2 * min_segment or sigma <= 0:
        return []
    penalty = beta * sigma**2 * math.log(n)
    ends = ruptures.Pelt(custom_cost=PrefixSumL2(), min_size=min_segment, jump=1).fit(logs).predict(pen=penalty)
    bounds = [0, *ends]
    steps = []
    level = alpha / max(1, n - 2 * min_segment + 1)  # Bonferroni over the admissible split points
    for left, right in zip(bounds[:-2], bounds[2:], strict=True):
        mid, first, last = _placement(logs, left, right, sigma)
        if min(mid - left, right - mid) < min_segment:
            continue  # not sustained yet: the per-commit judge covers the newest results
        old = np.concatenate(processes[left:mid])
        new = np.concatenate(processes[mid:right])
        before, after = float(np.median(old)), float(np.median(new))
        change = after / before - 1.0
        low, high = _spread(old)
        if abs(change) < min_change or low <= after <= high:
            continue
        p_value = float(stats.mannwhitneyu(new, old, alternative="two-sided").pvalue)
        steps.append(Step(mid, before, after, change, p_value, p_value < level, first, last))
    return steps
