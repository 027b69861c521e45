"""How well a median is known: a distribution-free confidence interval from order statistics.

For n samples the median's (1 - alpha) interval is [x_(l), x_(u)] with l the alpha/2 quantile of
Binomial(n, 1/2) (Conover, Practical Nonparametric Statistics, 3.2). No normality assumption:
GPU timings are skewed and sometimes bimodal.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from scipy import stats


def median_interval(samples: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Order-statistic confidence interval of the median; the full range when n is too small."""
    ordered = sorted(samples)
    n = len(ordered)
    if n == 0:
        raise ValueError("samples: need at least one sample")
    # k = smallest count with P(X <= k) >= alpha/2; the 0-based order statistic k - 1 is the last one with
    # P(X <= k - 1) < alpha/2, so [x(k-1), x(n-k)] covers the median with probability >= confidence.
    lower = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5)) - 1
    upper = n - 1 - lower
    lower = max(0, min(lower, n - 1))
    upper = max(lower, min(upper, n - 1))
    return ordered[lower], ordered[upper]


def relative_halfwidth(samples: Sequence[float], confidence: float = 0.95) -> float:
    """Half the interval's width over the median: 0.005 means the median is known to +-0.5%."""
    low, high = median_interval(samples, confidence)
    median = statistics.median(samples)
    return (high - low) / 2 / median if median > 0 else float("inf")
