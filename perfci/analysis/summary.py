"""Summary statistics stored beside the raw samples, so trend queries never decode samples.

Plain Python on purpose: results hold tens of samples, where numpy's per-call overhead dominates
(this runs once per result at ingest). Quantiles use the linear rule (numpy's default, R type 7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    mean: float
    minimum: float
    maximum: float
    q1: float
    q3: float
    stdev: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1


def quantile_sorted(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of already sorted ``values`` (numpy's default rule)."""
    position = (len(values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def summarize(samples: Sequence[float]) -> Summary:
    """Robust location and spread of one result's samples (medians and quartiles, not just a mean)."""
    if not samples:
        raise ValueError("samples: cannot summarise an empty list")
    ordered = sorted(samples)
    n = len(ordered)
    mean = math.fsum(ordered) / n
    variance = math.fsum((x - mean) ** 2 for x in ordered) / (n - 1) if n > 1 else 0.0
    return Summary(
        n=n,
        median=quantile_sorted(ordered, 0.5),
        mean=mean,
        minimum=ordered[0],
        maximum=ordered[-1],
        q1=quantile_sorted(ordered, 0.25),
        q3=quantile_sorted(ordered, 0.75),
        stdev=math.sqrt(variance),
    )
