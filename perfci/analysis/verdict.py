"""Verdicts on per-process values: two unpaired sets (a head result's processes against its
baseline's), or process pairs measured back to back (``perfci compare``, confirmation).

Two questions, two tools: is there a difference at all (a rank test: Mann-Whitney U unpaired; paired,
a sign-flip permutation test of the log ratios, ``paired_p_value``), and is it large enough to matter
(the ratio of medians with a 99% bootstrap interval, ``scipy.stats.bootstrap``, against the
threshold):

    regression   p < alpha, the change >= +threshold, and the interval's low end >= +threshold / 2
    improvement  p < alpha, the change <= -threshold, and the interval's high end <= -threshold / 2
    same         the whole interval lies inside (-threshold, +threshold) (equivalence)
    unknown      anything else: "too noisy to tell: low..high"; measure more processes

A paired test is looked at several times (2, 4, 8, ... pairs, stopping when decided): each look is
a chance of a false verdict, so the family-wise alpha is split over the looks that can reject at
all (``per_look_alpha``; the paired test on n pairs cannot go below p = 2 / 2^n, so the looks at 2
and 4 pairs never count). Confirmation, which runs for every suspicion of every push, splits 0.002;
``perfci compare``, run once on purpose, 0.02.

Only per-process values enter: samples inside one process share its autotune config and clock
state, so 200 samples of one process are one draw, not 200 (a kernel that autotunes per process
measured +7.2% between identical commits with a within-process interval of +-0.2%). Why half the
threshold and not "excludes 0": a significant move of a few percent whose interval reaches down to
+0.01% is no evidence of a change that matters (docs/perf/detection.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

VerdictKind = Literal["regression", "improvement", "same", "unknown"]
CONFIDENCE = 0.99


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    change: float
    ci_low: float
    ci_high: float
    p_value: float
    threshold: float
    #: the interval's half-width: changes below it cannot be told from noise with these processes
    min_detectable_change: float
    n_baseline: int
    n_head: int
    #: why the kind is what it is, in words a report can print
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {key: _finite(value) for key, value in asdict(self).items()}


def _finite(value: Any) -> Any:
    """JSON has no Infinity: an unbounded interval end is None."""
    return None if isinstance(value, float) and not np.isfinite(value) else value


def _decide(change: float, low: float, high: float, p_value: float, threshold: float, alpha: float) -> VerdictKind:
    if p_value < alpha and change >= threshold and low >= threshold / 2:
        return "regression"
    if p_value < alpha and change <= -threshold and high <= -threshold / 2:
        return "improvement"
    if -threshold < low and high < threshold:
        return "same"
    return "unknown"


def _reason(kind: VerdictKind, low: float, high: float, n: int, unit: str) -> str:
    if kind == "unknown":
        return f"too noisy to tell with {n} {unit}: {low:+.1%}..{high:+.1%}"
    return f"{low:+.1%}..{high:+.1%} ({CONFIDENCE:.0%} interval, {n} {unit})"


#: sign patterns a paired test draws: every pattern up to 16 pairs (exact), a random 2^16 beyond
PERMUTATIONS = 2**16


def paired_min_p(pairs: int) -> float:
    """The smallest two-sided p the paired test reaches with ``pairs`` pairs (all of one sign)."""
    return min(1.0, 2.0 / 2**pairs)


def paired_p_value(logs: Sequence[float] | np.ndarray, seed: int = 0) -> float:
    """Two-sided p that process pairs' log ratios are centred on 0, from the null distribution of
    flipping each pair's sign, of the larger of two standardised statistics: the signed-rank sum
    (Wilcoxon's: the most powerful on smooth noise) and the count of positive pairs (the sign
    test's: unmoved by how far a pair lands). Where one process in several lands 20-45% off (a busy
    GPU's slow process, an interpreter's stall) pairs of both signs are large, the signed-rank sum
    weighs them most and misses a clean +5% the other pairs all show; counting signs sees it. Both
    are judged at once, by one permutation distribution, so the combination costs no alpha and, all
    pairs of one sign, still reaches 2 / 2^n. Every sign pattern up to 16 pairs (exact), 2^16 random
    ones beyond. Pairs whose ratio is exactly 1 carry no sign and are left out.

    Written out rather than ``scipy.stats.permutation_test`` (which gives the same p: a test holds
    them equal) because that took 240-450 ms a look at 16-64 pairs, and a confirmation looks up to
    seven times; one boolean matrix of sign patterns takes milliseconds."""
    values = np.asarray(logs, dtype=np.float64)
    nonzero = values[values != 0]
    n = nonzero.size
    if n == 0:
        return 1.0
    # a sign flip leaves |x| and so the ranks unchanged: rank once, standardise with the exact moments
    ranks = stats.rankdata(np.abs(nonzero))
    rank_centre, rank_scale = ranks.sum() / 2, float(np.sqrt((ranks**2).sum() / 4))

    def statistic(positive: np.ndarray) -> np.ndarray:
        signed_rank = positive @ ranks
        signs = positive.sum(axis=-1)
        return np.maximum(np.abs(signed_rank - rank_centre) / rank_scale, np.abs(signs - n / 2) / np.sqrt(n / 4))

    observed = statistic((nonzero > 0).astype(np.float64))
    exact = 2**n <= PERMUTATIONS
    if exact:
        patterns = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    else:
        patterns = np.random.default_rng(seed).random((PERMUTATIONS, n)) < 0.5
    as_extreme = int(np.count_nonzero(statistic(patterns.astype(np.float64)) >= observed * (1 - 1e-12)))
    return as_extreme / len(patterns) if exact else (as_extreme + 1) / (len(patterns) + 1)


def planned_looks(min_pairs: int, max_pairs: int) -> list[int]:
    """The pair counts a sequential paired test (``perfci.runner.interleave``) judges at:
    ``min_pairs``, each doubling, and ``max_pairs`` (a budget that runs out replaces a later look,
    never adds one)."""
    looks, n = [], max(1, min_pairs)
    while n < max_pairs:
        looks.append(n)
        n *= 2
    return [*looks, max_pairs]


def per_look_alpha(familywise: float, looks: Sequence[int]) -> float:
    """The alpha of each look of a sequential paired test: ``familywise`` split equally (Bonferroni)
    over the looks that can reject at that share; looks too small to reject spend nothing.
    0.0 when no look can ever reject (more pairs are needed)."""
    for count in range(1, len(looks) + 1):
        share = familywise / count
        if sum(paired_min_p(n) < share for n in looks) <= count:
            return share if any(paired_min_p(n) < share for n in looks) else 0.0
    return 0.0


def judge_processes(
    baseline: Sequence[float],
    head: Sequence[float],
    *,
    threshold: float,
    alpha: float = 0.01,
    resamples: int = 2000,
    seed: int = 0,
) -> Verdict:
    """Unpaired: one value per process on each side (lower is better); deterministic for a seed.
    With one process on a side there is no verdict (``unknown``: one process cannot tell a change
    from a lucky process)."""
    base = np.asarray(baseline, dtype=np.float64)
    new = np.asarray(head, dtype=np.float64)
    if base.size == 0 or new.size == 0:
        raise ValueError("baseline and head need at least one process value each")
    change = float(np.median(new) / np.median(base) - 1.0)
    if base.size < 2 or new.size < 2:
        return Verdict(
            "unknown",
            change,
            -np.inf,
            np.inf,
            1.0,
            threshold,
            np.inf,
            int(base.size),
            int(new.size),
            "one process on a side: not judged alone",
        )
    p_value = float(stats.mannwhitneyu(new, base, alternative="two-sided").pvalue)

    def ratio(b: np.ndarray, h: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(h, axis=axis) / np.median(b, axis=axis) - 1.0

    interval = stats.bootstrap(
        (base, new),
        ratio,
        n_resamples=resamples,
        confidence_level=CONFIDENCE,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    ).confidence_interval
    low, high = float(interval.low), float(interval.high)
    kind = _decide(change, low, high, p_value, threshold, alpha)
    return Verdict(
        kind,
        change,
        low,
        high,
        p_value,
        threshold,
        (high - low) / 2,
        int(base.size),
        int(new.size),
        _reason(kind, low, high, int(min(base.size, new.size)), "processes a side"),
    )


def judge_pairs(
    pair_changes: Sequence[float], *, threshold: float, alpha: float = 0.01, resamples: int = 2000, seed: int = 0
) -> Verdict:
    """Paired: per pair of processes (base and head back to back on one device), head's value over
    base's minus 1. A sign-flip permutation test of the log ratios (``paired_p_value``) says whether
    they differ; the median ratio with a bootstrap interval says by how much. The threshold is the
    effect that matters, never inflated by noise: noise widens the interval, which buys more pairs."""
    logs = np.log1p(np.asarray(pair_changes, dtype=np.float64))
    n = int(logs.size)
    if n == 0:
        raise ValueError("judge_pairs needs at least one pair")
    change = float(np.expm1(np.median(logs)))
    if n < 2:
        return Verdict("unknown", change, -np.inf, np.inf, 1.0, threshold, np.inf, n, n, "one pair: not judged alone")
    p_value = paired_p_value(logs, seed)
    if np.ptp(logs) == 0:
        low = high = change
    else:
        interval = stats.bootstrap(
            (logs,),
            np.median,
            n_resamples=resamples,
            confidence_level=CONFIDENCE,
            method="percentile",
            rng=np.random.default_rng(seed),
        ).confidence_interval
        low, high = float(np.expm1(interval.low)), float(np.expm1(interval.high))
    kind = _decide(change, low, high, p_value, threshold, alpha)
    return Verdict(
        kind, change, low, high, p_value, threshold, (high - low) / 2, n, n, _reason(kind, low, high, n, "pairs")
    )
