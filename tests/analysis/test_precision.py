import random

import pytest

from perfci.analysis.precision import median_interval, relative_halfwidth


def test_interval_covers_the_true_median_about_95_percent_of_the_time():
    rng = random.Random(1)
    hits = 0
    for _ in range(400):
        samples = [rng.lognormvariate(0, 0.3) for _ in range(31)]
        low, high = median_interval(samples)
        hits += low <= 1.0 <= high  # the lognormal(0, s) median is exactly 1
    assert 0.92 <= hits / 400 <= 0.99


def test_halfwidth_shrinks_with_more_samples():
    rng = random.Random(2)
    few = [rng.gauss(1, 0.01) for _ in range(10)]
    many = few + [rng.gauss(1, 0.01) for _ in range(990)]
    assert relative_halfwidth(many) < relative_halfwidth(few)
    assert median_interval([3.0]) == (3.0, 3.0)
    with pytest.raises(ValueError):
        median_interval([])
