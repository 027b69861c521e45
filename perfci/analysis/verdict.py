"""Verdict on one head result against its baseline, from the raw samples.

Two questions, two tools: is there a difference at all (Mann-Whitney U, a rank test that tolerates
skew and outliers), and is it large enough to matter (the ratio of medians with a bootstrap
confidence interval, against the series' threshold). The threshold carries the run-to-run noise
that samples inside one run cannot show (see noise.py).

    regression   p < alpha, the change >= +threshold, and the interval's low end >= +threshold / 2
    improvement  p < alpha, the change <= -threshold, and the interval's high end <= -threshold / 2
    same         the whole interval lies inside (-threshold, +threshold)
    unknown      anything else: measure more (the PR gate re-samples on this)

The minimum detectable change is the interval's half-width: changes below it cannot be told from
noise with these sample sizes.

Why half the threshold and not just "excludes 0": under bimodal clock states (30% of samples 4%
slow) a run's median can move 3-4% by chance, and with the threshold at its 2% floor the interval
then reached down to +0.01%: significant, but no evidence that the change is one that matters.
Those were every A/A alert of the detection benchmark (docs/perf/detection.md); requiring the 99%
interval to exclude changes under half the threshold removed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from perfci.analysis.noise import difference_sigma

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
    significant = p_value < alpha
    if significant and change >= threshold and low >= threshold / 2:
        kind: VerdictKind = "regression"
    elif significant and change <= -threshold and high <= -threshold / 2:
        kind = "improvement"
    elif -threshold < low and high < threshold:
        kind = "same"
    else:
        kind = "unknown"
    return Verdict(kind, change, low, high, p_value, threshold, mdc, int(base.size), int(new.size))


def pair_noise(pair_changes: Sequence[float]) -> float | None:
    """Process-to-process noise (relative sigma of one process's median) seen in the pairs' changes
    (each holds two processes' offsets; a real shift moves every pair alike). None below 3 pairs."""
    if len(pair_changes) < 3:
        return None
    return difference_sigma(pair_changes)


def judge_process_pairs(
    base_pairs: Sequence[Sequence[float]], head_pairs: Sequence[Sequence[float]], *, threshold: float,
    agreement: float = 2 / 3, noise_k: float = 5.0, **options: Any,
) -> tuple[Verdict, list[float]]:  # fmt: skip
    """Verdict for an A/B run in several process pairs (``perfci compare``); each inner list holds one
    process's round medians.

    Samples inside one process share that process's offset (placement, clock state): on a shared
    H200 two processes of the same kernel measured 40% apart, and a pair that starts while the
    machine is busy can invert a 30x difference. So each pair is judged on its own rounds, and the
    comparison takes a kind only when at least ``agreement`` of the pairs reach it (with two pairs
    both must; one odd pair in three is outvoted); otherwise it is ``unknown`` (measure in more
    pairs). From three pairs on, the threshold is at least ``noise_k`` x the process-to-process
    noise the pairs themselves show (``pair_noise``), so a change inside that noise is never
    called. The change, interval and p-value reported are those of all pairs' rounds pooled.
    Returns (verdict, each pair's ratio of medians - 1).
    """
    if len(base_pairs) != len(head_pairs) or not base_pairs:
        raise ValueError("base_pairs and head_pairs need the same number (>= 1) of process pairs")
    pair_changes = [float(np.median(h) / np.median(b) - 1.0) for b, h in zip(base_pairs, head_pairs, strict=True)]
    noise = pair_noise(pair_changes)
    if noise is not None:
        threshold = max(threshold, noise_k * noise)
    kinds = [judge(b, h, threshold=threshold, **options).kind for b, h in zip(base_pairs, head_pairs, strict=True)]
    pooled = judge([x for pair in base_pairs for x in pair], [x for pair in head_pairs for x in pair],
                   threshold=threshold, **options)  # fmt: skip
    decided = [k for k in ("regression", "improvement", "same") if kinds.count(k) >= agreement * len(kinds) - 1e-9]
    kind: VerdictKind = decided[0] if decided else "unknown"
    return Verdict(kind, *astuple(pooled)[1:]), pair_changes
