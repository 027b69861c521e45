"""Steps in a series' history of medians, attributed to their first commit.

Uses ruptures' PELT (exact optimal segmentation under a penalty, linear time) with an L2 cost on
log-medians, so a step is a relative change. The penalty is a BIC-style ``beta * sigma^2 * log n``
with sigma the series' run-to-run noise: a step must explain more variance than noise would. Steps
smaller than the series threshold are dropped, so a change inside the measured noise is never
reported. A slow creep shows up as one or more steps inside the creep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import ruptures


class PrefixSumL2(ruptures.base.BaseCost):
    """ruptures' L2 cost (sum of squared deviations from the segment mean) from prefix sums: O(1) per
    segment instead of a numpy ``var`` call, the same value (PELT's search stays ruptures'). A
    200-result run's change-point pass went from 0.6 s to a few ms."""

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
    index: int  # first index of the new level
    before: float
    after: float
    change: float  # after / before - 1


def detect_steps(
    medians: Sequence[float], noise: float, *, min_change: float, beta: float = 3.0, min_size: int = 2
) -> list[Step]:
    """Steps of at least ``min_change`` in ``medians`` (oldest first)."""
    values = np.log(np.asarray(medians, dtype=np.float64))
    n = values.size
    if n < 2 * min_size or noise <= 0:
        return []
    penalty = beta * noise**2 * math.log(n)
    ends = ruptures.Pelt(custom_cost=PrefixSumL2(), min_size=min_size, jump=1).fit(values).predict(pen=penalty)
    bounds = [0, *ends]
    steps = []
    for left, mid, right in zip(bounds[:-2], bounds[1:-1], bounds[2:], strict=True):
        before = float(np.exp(np.median(values[left:mid])))
        after = float(np.exp(np.median(values[mid:right])))
        change = after / before - 1.0
        if abs(change) >= min_change:
            steps.append(Step(mid, before, after, change))
    return steps
