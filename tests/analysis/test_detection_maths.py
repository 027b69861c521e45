"""The pure detection pieces on plain lists: verdicts, noise, steps."""

import numpy as np
import pytest

from perfci.analysis.changepoints import detect_steps
from perfci.analysis.noise import ThresholdPolicy, noise_upper_bound, run_to_run_noise, series_threshold
from perfci.analysis.verdict import judge

rng = np.random.default_rng(7)


def _samples(level: float, n: int = 200, cv: float = 0.005) -> list[float]:
    return list(level * (1 + rng.normal(0, cv, n)))


def test_verdict_kinds():
    base = _samples(1.0)
    assert judge(base, _samples(1.05), threshold=0.02).kind == "regression"
    assert judge(base, _samples(0.95), threshold=0.02).kind == "improvement"
    assert judge(base, _samples(1.0), threshold=0.02).kind == "same"
    # a real but tiny change, inside the threshold: never flagged
    tiny = judge(_samples(1.0, 2000), _samples(1.004, 2000), threshold=0.02)
    assert tiny.kind == "same" and tiny.p_value < 0.01
    few = judge([1.0, 1.1], [1.06, 0.98], threshold=0.02)
    assert few.kind == "unknown" and few.min_detectable_change > 0.02


def test_verdict_reports_change_interval_and_mdc():
    verdict = judge(_samples(1.0), _samples(1.10), threshold=0.02)
    assert verdict.ci_low < verdict.change < verdict.ci_high
    assert verdict.change == pytest.approx(0.10, abs=0.01)
    assert 0 < verdict.min_detectable_change < 0.01
    base, head = _samples(1.0), _samples(1.1)
    assert judge(base, head, threshold=0.02) == judge(base, head, threshold=0.02)


def test_noise_is_robust_to_a_step_and_an_outlier():
    medians = list(1.0 + rng.normal(0, 0.003, 60))
    medians[30:] = [m * 1.05 for m in medians[30:]]
    medians[10] *= 1.5
    noise = run_to_run_noise(medians)
    assert 0.002 < noise < 0.0045
    threshold, estimate = series_threshold(medians, ThresholdPolicy(min_change=0.01, k=5))
    assert estimate == noise and threshold == pytest.approx(5 * noise_upper_bound(noise, 60))
    assert noise < noise_upper_bound(noise, 60) < noise_upper_bound(noise, 6)
    assert series_threshold([1.0, 1.0], ThresholdPolicy())[0] == ThresholdPolicy().min_change


def test_steps_found_at_their_first_commit_and_noise_ignored():
    medians = list(1.0 + rng.normal(0, 0.003, 80))
    assert detect_steps(medians, 0.003, min_change=0.02) == []
    medians[50:] = [m * 1.04 for m in medians[50:]]
    (step,) = detect_steps(medians, 0.003, min_change=0.02)
    assert step.index == 50 and step.change == pytest.approx(0.04, abs=0.005)


def test_prefix_sum_cost_segments_exactly_like_ruptures_l2():
    import ruptures

    from perfci.analysis.changepoints import PrefixSumL2

    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(6, 80))
        step_at = int(rng.integers(1, n - 1))
        x = np.log(1 + 0.01 * rng.standard_normal(n) + (np.arange(n) >= step_at) * rng.choice([0.0, 0.03, 0.1]))
        penalty = 3 * 0.01**2 * np.log(n)
        expected = ruptures.Pelt(model="l2", min_size=2, jump=1).fit(x).predict(pen=penalty)
        assert ruptures.Pelt(custom_cost=PrefixSumL2(), min_size=2, jump=1).fit(x).predict(pen=penalty) == expected


def test_threshold_is_floored_scaled_by_noise_and_capped():
    from perfci.analysis.noise import ThresholdPolicy, series_threshold

    rng = np.random.default_rng(11)
    policy = ThresholdPolicy()
    quiet = list(1 + 0.0005 * rng.standard_normal(30))
    assert series_threshold(quiet, policy)[0] == policy.min_change
    medium = list(1 + 0.004 * rng.standard_normal(30))
    threshold, noise = series_threshold(medium, policy)
    assert policy.min_change < threshold < policy.max_change and noise is not None
    noisy = list(1 + 0.03 * rng.standard_normal(30))
    assert series_threshold(noisy, policy)[0] == policy.max_change  # a significant 5% change is always news
    assert series_threshold(noisy[:4], policy) == (policy.min_change, None)  # too little history: the floor
