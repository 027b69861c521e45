"""Per-series noise and the threshold it implies.

Samples inside one run understate the noise: each process lands on its own offset (clock state,
placement), so on a dedicated H200 the per-run medians of one commit spread by CV 0.06-0.25% while
the samples inside a run look tighter or looser. The run-to-run noise is estimated from the series'
own history of medians, robustly: 1.4826 x MAD of consecutive log-ratios / sqrt(2) (the difference
of two noisy values has sqrt(2) times their spread; MAD ignores the rare step or outlier).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class ThresholdPolicy:
    """min_change: the policy floor (Perfherder 2%); k: how many noise sigmas a change must exceed;
    max_change: the policy ceiling — a significant change this large is reported however noisy the
    series (asv and PyTorch HUD alert from 5%; without it a noisy series hid 5% steps that a plain
    5% rule found, docs/perf/detection.md)."""

    min_change: float = 0.02
    k: float = 5.0
    max_change: float = 0.05
    #: Results a series needs before latency is judged at all: with fewer, its noise is unknown and a
    #: 2% floor alone alerted on 50% of A/A histories under 2% spread (docs/perf/detection.md).
    min_history: int = 6


def difference_sigma(differences: Sequence[float] | np.ndarray) -> float:
    """Sigma of one noisy term from differences of two such terms: 1.4826 x MAD / sqrt 2 (the MAD
    ignores a rare step or outlier, and a shift that moves every difference alike)."""
    values = np.asarray(differences, dtype=np.float64)
    mad = float(np.median(np.abs(values - np.median(values))))
    return MAD_TO_SIGMA * mad / math.sqrt(2)


def run_to_run_noise(medians: Sequence[float]) -> float | None:
    """Relative sigma of one run's median around the series' level; None with too little history."""
    values = np.asarray([m for m in medians if m > 0], dtype=np.float64)
    if values.size < 3:
        return None
    return difference_sigma(np.diff(np.log(values)))


def noise_upper_bound(noise: float, points: int) -> float:
    """One-sided 95% upper bound of a MAD-based sigma from ``points`` medians (``points - 1`` steps).

    The MAD's relative standard error is about 1.17 / sqrt(m) for m normal values; with 6 points
    the estimate's 10th percentile is a third of the truth, and a threshold built on it alerts on
    unchanged code (measured: 9 of 36 A/A histories under 2% spread before this bound)."""
    steps = max(points - 1, 1)
    return noise * (1.0 + 1.645 * 1.17 / math.sqrt(steps))


def series_threshold(medians: Sequence[float], policy: ThresholdPolicy) -> tuple[float, float | None]:
    """(threshold, noise): max(policy floor, k x upper bound of the noise), capped at the policy
    ceiling; the floor alone until history suffices. ``noise`` is the point estimate (reported with
    each verdict)."""
    noise = run_to_run_noise(medians) if len(medians) >= policy.min_history else None
    if noise is None:
        return policy.min_change, None
    threshold = max(policy.min_change, policy.k * noise_upper_bound(noise, len(medians)))
    return min(threshold, max(policy.max_change, policy.min_change)), noise
