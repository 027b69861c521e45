"""The judge's robust sigma is scipy's normal-scaled MAD, computed without scipy's per-call checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from perfci.analysis.noise import robust_sigma


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=80))
def test_robust_sigma_is_scipys_normal_scaled_mad(values):
    deviations = np.asarray(values)
    assert robust_sigma(deviations) == pytest.approx(stats.median_abs_deviation(deviations, scale="normal"), abs=1e-9)


def test_fewer_than_two_values_have_no_spread():
    assert robust_sigma(np.asarray([3.0])) == 0.0
