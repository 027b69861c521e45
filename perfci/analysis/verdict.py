"""Verdict on one head result against its baseline, from the raw samples.

Two questions, two tools: is there a difference at all (Mann-Whitney U, a rank test that tolerates
skew and outliers), and is it large enough to matter (the ratio of medians with a bootstrap
confidence interval, against the series' threshold). The threshold carries the run-to-run noise
that samples inside one run cannot show (see noise.py).

    regression   p < alpha, the interval excludes 0, and the change >= +threshold
    improvement  p < alpha, the interval excludes 0, and the change <= -threshold
    same         the whole interval lies inside (-threshold, +threshold)
    unknown      anything else: measure more (the PR gate re-samples on this)

The minimum detectable change is the interval's half-width: changes below it cannot be told from
noise with these sample sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

VerdictKind = Literal["regression", "improvement", "same", "unknown"]


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    change: float
    ci_low: float
    ci_high: float
    p_value: float
    threshold: float
    min_detectable_change: float
    n_baseline: int
    n_head: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _median_ratio_interval(
    baseline: np.ndarray, head: np.ndarray, confidence: float, resamples: int, seed: int
) -> tuple[float, float]:
    """Percentile bootstrap of median(head) / median(baseline) - 1 (resampling each side)."""
    rng = np.random.default_rng(seed)
    base_idx = rng.integers(0, baseline.size, size=(resamples, baseline.size))
    head_idx = rng.integers(0, head.size, size=(resamples, head.size))
    ratios = np.median(head[head_idx], axis=1) / np.median(baseline[base_idx], axis=1) - 1.0
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return float(low), float(high)


def judge(
    baseline: Sequence[float], head: Sequence[float], *, threshold: float, alpha: float = 0.01,
    confidence: float = 0.99, resamples: int = 1000, seed: int = 0,
) -> Verdict:  # fmt: skip
    """Judge ``head`` (lower is better) against ``baseline``; deterministic for a given seed."""
    base = np.asarray(baseline, dtype=np.float64)
    new = np.asarray(head, dtype=np.float64)
    if base.size == 0 or new.size == 0:
        raise ValueError("baseline and head need at least one sample each")
    change = float(np.median(new) / np.median(base) - 1.0)
    if base.size < 2 or new.size < 2:
        return Verdict("unknown", change, -np.inf, np.inf, 1.0, threshold, np.inf, int(base.size), int(new.size))
    p_value = float(stats.mannwhitneyu(new, base, alternative="two-sided").pvalue)
    low, high = _median_ratio_interval(base, new, confidence, resamples, seed)
    mdc = (high - low) / 2
    significant = p_value < alpha and (low > 0 or high < 0)
    if significant and change >= threshold:
        kind: VerdictKind = "regression"
    elif significant and change <= -threshold:
        kind = "improvement"
    elif -threshold < low and high < threshold:
        kind = "same"
    else:
        kind = "unknown"
    return Verdict(kind, change, low, high, p_value, threshold, mdc, int(base.size), int(new.size))
