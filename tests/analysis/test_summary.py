import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfci.analysis.summary import summarize


@given(st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=200))
def test_summary_matches_numpy(samples):
    summary = summarize(samples)
    values = np.asarray(samples)
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    assert summary.n == len(samples)
    assert summary.median == pytest.approx(median, rel=1e-12)
    assert summary.q1 == pytest.approx(q1, rel=1e-12) and summary.q3 == pytest.approx(q3, rel=1e-12)
    assert summary.mean == pytest.approx(values.mean(), rel=1e-9)
    assert summary.stdev == pytest.approx(values.std(ddof=1) if len(samples) > 1 else 0.0, rel=1e-6, abs=1e-9)
    assert summary.minimum == values.min() and summary.maximum == values.max()


def test_empty_is_an_error():
    with pytest.raises(ValueError, match="samples"):
        summarize([])
