"""Property tests: random valid shapes, windows and layouts agree with the float64 reference."""

from __future__ import annotations

from unittest import mock

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernels.swa import prefill
from kernels.swa.prefill import CUDA_CONFIGS, INTERPRETER_CONFIGS
from perfci.suite.inputs import decode_inputs, prefill_inputs
from tests.kernels.helpers import DEVICE, assert_matches, prefill_written_rows, run_decode, run_prefill, tolerance

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
windows = st.tuples(st.one_of(st.none(), st.integers(0, 40)), st.one_of(st.none(), st.integers(0, 70)))
heads = st.sampled_from([(1, 1), (2, 1), (4, 2), (8, 2), (4, 4), (8, 1)])
cache_dtypes = st.sampled_from([None, None, torch.int8])
#: Every prefill config draws random problems too (packed GQA, TMA and plain walks).
CONFIGS = CUDA_CONFIGS if DEVICE == "cuda" else INTERPRETER_CONFIGS


@SETTINGS
@given(
    lengths=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 60)), min_size=1, max_size=4),
    window=windows,
    head=heads,
    head_dim=st.sampled_from([16, 32, 48]),
    page_size=st.sampled_from([4, 16, 32]),
    cache_dtype=cache_dtypes,
    interleave=st.booleans(),
    causal=st.booleans(),
    config=st.sampled_from(CONFIGS),
    split_band=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_prefill_matches_reference(
    lengths, window, head, head_dim, page_size, cache_dtype, interleave, causal, config, split_band, seed
):
    q_lens = [q for q, _ in lengths]
    kv_lens = [q + prefix if q else prefix for q, prefix in lengths]
    x = prefill_inputs(q_lens, kv_lens, *head, head_dim, page_size, cache_dtype=cache_dtype, seed=seed)
    # both ways of walking the band (one loop with a masking branch, or a loop per mask kind)
    with mock.patch.object(prefill, "split_band", lambda local: split_band):
        out, ref = run_prefill(
            x, config=config, global_window=window[0], local_window=window[1], gqa_interleave=interleave, causal=causal
        )
    assert_matches(out, ref, tolerance(x), prefill_written_rows(x))


@SETTINGS
@given(
    kv_lens=st.lists(st.integers(0, 200), min_size=1, max_size=5),
    window=windows,
    head=heads,
    head_dim=st.sampled_from([16, 32, 48]),
    page_size=st.sampled_from([4, 16, 32]),
    cache_dtype=cache_dtypes,
    interleave=st.booleans(),
    splits=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_decode_matches_reference(kv_lens, window, head, head_dim, page_size, cache_dtype, interleave, splits, seed):
    x = decode_inputs(kv_lens, *head, head_dim, page_size, cache_dtype=cache_dtype, seed=seed)
    out, ref = run_decode(x, splits=splits, global_window=window[0], local_window=window[1], gqa_interleave=interleave)
    assert_matches(out, ref, tolerance(x))
