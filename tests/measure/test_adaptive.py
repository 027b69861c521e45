"""Adaptive sampling stops at the precision asked for, at the budget, or at the sample cap (pure:
a fake round of samples)."""

from __future__ import annotations

import time

from perfci.measure.adaptive import sample_until_precise


def _steady_round(value: float = 1.0, seconds: float = 0.0):
    def measure() -> list[float]:
        time.sleep(seconds)
        return [value] * 5

    return measure


def test_a_steady_case_stops_at_the_precision_once_it_has_its_minimum():
    samples, how = sample_until_precise(_steady_round(), precision=0.005, budget_s=60, min_samples=20)
    assert how["stopped_by"] == "precision" and len(samples) == 20


def test_precision_zero_samples_for_the_whole_budget_even_when_every_sample_is_the_same():
    started = time.monotonic()
    samples, how = sample_until_precise(_steady_round(seconds=0.01), precision=0.0, budget_s=0.2, min_samples=20)
    assert how["stopped_by"] == "budget"
    assert time.monotonic() - started >= 0.2 and len(samples) > 20


def test_a_noisy_case_stops_at_the_sample_cap():
    values = iter(range(1, 10**6))
    samples, how = sample_until_precise(
        lambda: [float(next(values) % 7 + 1)], precision=1e-6, budget_s=60, min_samples=3, max_samples=50
    )
    assert how["stopped_by"] == "budget" and len(samples) == 50
