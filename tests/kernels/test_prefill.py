"""paged_prefill against the float64 reference on the edge cases of docs/spec/swa-kernels.md section 4."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels.swa import prefill as prefill_module
from kernels.swa.checks import UNBOUNDED
from kernels.swa.dequant import touched_pages
from kernels.swa.prefill import CUDA_CONFIGS, INTERPRETER_CONFIGS, default_config, gqa_pack, sink_block
from kernels.swa.tiles import KernelConfig
from perfci.suite.inputs import prefill_inputs
from tests.kernels.helpers import DEVICE, assert_matches, prefill_written_rows, run_prefill, tolerance

BLOCK = default_config(torch.empty(1, device=DEVICE), 32).block_n
CONFIGS = CUDA_CONFIGS if DEVICE == "cuda" else INTERPRETER_CONFIGS


def _check(x, **kwargs):
    out, ref = run_prefill(x, **kwargs)
    rows = prefill_written_rows(x)
    assert_matches(out, ref, tolerance(x), rows)
    assert torch.isnan(out[~rows]).all(), "rows of empty sequences must stay untouched"
    return out, ref


WINDOWS = [(None, None), (None, 5), (3, None), (0, 9), (0, None), (4, 9), (64, 9), (200, 9)]


@pytest.mark.parametrize("split_band", [False, True], ids=["one-band-loop", "walk-per-mask"])
@pytest.mark.parametrize(("global_window", "local_window"), WINDOWS)
def test_window_combinations_chunked_and_ragged(global_window, local_window, split_band, monkeypatch):
    # prefix > 0 (chunked), prefix 0, q_len 1, an empty sequence, kv_len < G for some; both ways of
    # walking the band (the band length picks one: prefill.split_band)
    monkeypatch.setattr(prefill_module, "split_band", lambda local: split_band)
    x = prefill_inputs([23, 40, 1, 0], [70, 40, 9, 0], q_heads=4, kv_heads=2, head_dim=32, page_size=16)
    _check(x, local_window=local_window, global_window=global_window)


@pytest.mark.parametrize("local_window", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 127, 128])
def test_local_window_sizes_around_the_tile(local_window):
    x = prefill_inputs([45, 33], [160, 33], q_heads=2, kv_heads=1, head_dim=32, page_size=16, seed=local_window)
    _check(x, local_window=local_window, global_window=4)


@pytest.mark.parametrize("local_window", [1023, 4095])
def test_long_windows(local_window):
    x = prefill_inputs([17], [local_window + 40], q_heads=2, kv_heads=1, head_dim=32, page_size=64, seed=3)
    _check(x, local_window=local_window, global_window=4)
    _check(x, local_window=local_window, global_window=None)


def test_first_visited_tile_fully_masked_rows():
    # chunk start unaligned to the tile, tiny window, no sinks: some rows' first tile holds no visible key
    x = prefill_inputs([37, 29], [37 + 5, 29 + 11], q_heads=2, kv_heads=1, head_dim=32, page_size=16, seed=1)
    out, _ = _check(x, local_window=1, global_window=None)
    assert (out.abs().sum(-1) > 0).all()
    _check(x, local_window=2, global_window=0)


@pytest.mark.parametrize("q_len", [1, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3])
@pytest.mark.parametrize("prefix", [0, 7])
def test_query_lengths(q_len, prefix):
    x = prefill_inputs([q_len, 3], [q_len + prefix, 3], q_heads=4, kv_heads=4, head_dim=32, page_size=16)
    _check(x, local_window=BLOCK, global_window=2)


@pytest.mark.parametrize("kv_len", [1, 15, 16, 17])
def test_kv_lengths_around_the_page(kv_len):
    x = prefill_inputs([1, kv_len], [kv_len, kv_len], q_heads=2, kv_heads=1, head_dim=32, page_size=16)
    _check(x, local_window=3, global_window=8)


def test_non_causal_ignores_windows():
    x = prefill_inputs([20, 9], [20, 30], q_heads=4, kv_heads=2, head_dim=32, page_size=16)
    out, _ = _check(x, causal=False, local_window=2, global_window=1)
    plain, _ = run_prefill(x, causal=False)
    assert torch.equal(out, plain)


@pytest.mark.parametrize("page_size", [1, 8, 16, 32, 64, 128, 256])
def test_page_sizes_shuffled_pages(page_size):
    x = prefill_inputs([30, 12], [300, 12], q_heads=2, kv_heads=1, head_dim=32, page_size=page_size, seed=page_size)
    _check(x, local_window=40, global_window=4)


@pytest.mark.parametrize("group", [1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize("pack_gqa", [False, True])
def test_gqa_groupings(group, interleave, pack_gqa):
    # packed programs take the largest power-of-two share of a group (6 -> 2 heads per program)
    x = prefill_inputs([19], [40], q_heads=2 * group, kv_heads=2, head_dim=32, page_size=16, seed=group)
    config = replace(default_config(x.q, 32), pack_gqa=pack_gqa)
    _check(x, config=config, local_window=9, global_window=2, gqa_interleave=interleave)


def test_gqa_pack_sizes():
    assert [gqa_pack(group, 64) for group in (1, 2, 3, 4, 6, 8, 12, 16)] == [1, 2, 1, 4, 2, 8, 4, 16]
    assert gqa_pack(16, 4) == 4


def test_mqa_and_non_power_of_two_head_dim():
    x = prefill_inputs([21], [50], q_heads=4, kv_heads=1, head_dim=96, page_size=16)
    _check(x, local_window=17, global_window=3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_query_dtypes_and_softmax_scale(dtype):
    x = prefill_inputs([18, 7], [40, 7], q_heads=4, kv_heads=2, head_dim=64, page_size=32, dtype=dtype)
    _check(x, local_window=9, global_window=2, softmax_scale=0.3)


def test_int8_cache_with_extremes_and_per_channel_scales():
    x = prefill_inputs([26, 5], [90, 5], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    x.k_cache[0, :, :, :4] = 127
    x.k_cache[1, :, :, 4:8] = -128
    x.v_scale[1] *= 40.0  # one head's scales far larger than the other's
    _check(x, local_window=20, global_window=4)


@pytest.mark.parametrize("dequantize", [False, True])
@pytest.mark.parametrize("causal", [True, False])
def test_int8_paths_on_chunked_prefill_with_long_prefixes(dequantize, causal):
    """Both int8 paths agree with the reference where the two-step path converts only the sink and
    window pages (a prefix far longer than the window) and where it converts every page (non-causal)."""
    x = prefill_inputs(
        [20, 7, 0], [300, 7, 40], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8, seed=3
    )
    _check(x, local_window=30, global_window=5, causal=causal, dequantize=dequantize)


def test_two_step_int8_with_a_row_strided_block_table():
    """The dequantize kernel reads the caller's block table by its row stride and writes its own compact one."""
    x = prefill_inputs([20, 7], [90, 7], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    rows, width = x.block_tables.shape
    x.block_tables = torch.zeros(rows, width + 5, dtype=torch.int32, device=DEVICE)[:, :width].copy_(x.block_tables)
    _check(x, local_window=30, global_window=2, dequantize=True)


def _pairs(pages) -> list[tuple[int, int]]:
    """(sequence, page) in the order the dequantize kernel numbers them."""
    ranges = zip(pages.sink_end, pages.first, pages.end, strict=True)
    return [(b, j) for b, (sink_end, first, end) in enumerate(ranges) for j in [*range(sink_end), *range(first, end)]]


def _touched_pages_one_by_one(q_lens, kv_lens, page_size, local, sinks, block_n) -> list[tuple[int, int]]:
    """The page list as a loop over sequences and pages says it (the oracle for the ranges)."""
    pages = []
    for b, (q_len, kv_len) in enumerate(zip(q_lens, kv_lens, strict=True)):
        if q_len <= 0 or kv_len <= 0:
            continue
        first = max(0, kv_len - q_len - local - block_n) // page_size
        sink_end = min(first, -(-(-(-sinks // block_n) * block_n) // page_size))
        pages += [(b, j) for j in range(sink_end)] + [(b, j) for j in range(first, -(-kv_len // page_size))]
    return pages


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 600)), max_size=6),
    page_size=st.sampled_from([1, 4, 16, 64]),
    local=st.one_of(st.integers(0, 700), st.just(UNBOUNDED)),
    sinks=st.integers(0, 100),
    block_n=st.sampled_from([16, 32, 64]),
)
def test_touched_pages_match_a_page_by_page_walk(lengths, page_size, local, sinks, block_n):
    q_lens = tuple(q for q, _ in lengths)
    kv_lens = tuple(q + prefix for q, prefix in lengths)
    pages = touched_pages(q_lens, kv_lens, page_size, local, sinks, block_n)
    assert pages.total == len(_pairs(pages))
    assert _pairs(pages) == _touched_pages_one_by_one(q_lens, kv_lens, page_size, local, sinks, block_n)


def test_two_step_int8_pages_and_fallbacks(monkeypatch):
    """Which pages the two-step path converts; fp16 queries and an exhausted budget take the fused path."""
    # prefix 280, window 30, 16-key tiles: keys from 280 - 30 - 16 = 234 (page 14) and the sink page 0
    assert _pairs(touched_pages((20, 7, 0), (300, 7, 40), 16, 30, 5, 16)) == [
        (0, 0),
        *((0, j) for j in range(14, 19)),
        (1, 0),
    ]
    assert _pairs(touched_pages((4,), (40,), 16, UNBOUNDED, 0, 64)) == [(0, 0), (0, 1), (0, 2)]  # non-causal: all
    x = prefill_inputs(
        [20, 7], [90, 7], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8, dtype=torch.float16
    )
    with pytest.raises(ValueError, match="dequantize=True needs bfloat16 q"):
        run_prefill(x, local_window=30, dequantize=True)
    _check(x, local_window=30, global_window=2)  # fp16 q: the fused path
    monkeypatch.setattr(prefill_module, "DEQUANTIZE_BUDGET_BYTES", 0)
    y = prefill_inputs([20, 7], [90, 7], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    _check(y, local_window=30, global_window=2)  # over budget: the fused path


def test_int8_cache_with_large_queries():
    """Queries of magnitude 1e4 must not overflow the GPU's fp16 MMA operands (q is rescaled)."""
    x = prefill_inputs([30, 17], [70, 17], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    x.q.mul_(1e4)
    x.k_scale[0] *= 1e-3
    _check(x, local_window=25, global_window=4)


@pytest.mark.parametrize(
    "config",
    CONFIGS,
    ids=lambda c: (
        f"m{c.block_m}n{c.block_n}w{c.num_warps}s{c.num_stages}{'tma' if c.tma else ''}{'pack' if c.pack_gqa else ''}"
    ),
)
@pytest.mark.parametrize(
    ("cache_dtype", "dequantize"),
    [(None, None), (torch.int8, False), (torch.int8, True)],
    ids=["bf16", "int8-fused", "int8-two-step"],
)
def test_every_config_is_correct(config, cache_dtype, dequantize):
    # head_dim 64 and page 64: the TMA configs take their TMA path
    x = prefill_inputs(
        [50, 13], [90, 13], q_heads=4, kv_heads=2, head_dim=64, page_size=64, cache_dtype=cache_dtype, seed=9
    )
    # sinks (G) of 4, 16 and 20 take sink tiles narrower than most configs' key tiles
    for windows in ((4, 20), (16, 3), (20, 30), (None, None), (0, 1)):
        out, ref = run_prefill(
            x, config=config, global_window=windows[0], local_window=windows[1], dequantize=dequantize
        )
        assert_matches(out, ref, tolerance(x))


SINK_WIDTHS = [
    (0, 64, 16),
    (1, 64, 16),
    (4, 64, 16),
    (16, 64, 16),
    (17, 64, 32),
    (64, 64, 64),
    (100, 64, 64),
    (4, 16, 16),
]


@pytest.mark.parametrize(("sinks", "block_n", "width"), SINK_WIDTHS)
def test_sink_tiles_are_as_narrow_as_the_sinks_allow(sinks, block_n, width):
    assert sink_block(sinks, block_n) == width


def test_deterministic():
    x = prefill_inputs([40, 9], [80, 9], q_heads=4, kv_heads=2, head_dim=32, page_size=16)
    first, _ = run_prefill(x, local_window=20, global_window=4)
    second, _ = run_prefill(x, local_window=20, global_window=4)
    assert torch.equal(first, second)


@pytest.mark.parametrize("tma", [False, True])
def test_garbage_past_kv_len_in_the_last_page_is_never_used(tma):
    """Slots past kv_len in a sequence's last page may hold NaN (a reused pool): never reaches out."""
    page_size = 16
    x = prefill_inputs([21, 6], [37, 6], q_heads=4, kv_heads=2, head_dim=64, page_size=page_size, seed=5)
    for b, kv_len in enumerate(x.kv_lens):
        last = int(x.block_tables[b, (kv_len - 1) // page_size])
        x.k_cache[last, :, kv_len % page_size :] = float("nan")
        x.v_cache[last, :, kv_len % page_size :] = float("nan")
    config = (
        KernelConfig(block_m=16, block_n=16, num_warps=4, num_stages=1, tma=tma)
        if DEVICE == "cpu"
        else KernelConfig(block_m=128, block_n=16, num_warps=8, num_stages=2, tma=tma)
    )
    out, ref = run_prefill(x, config=config, local_window=9, global_window=2)
    assert_matches(out, ref, tolerance(x))


@pytest.mark.parametrize("head_dim", [64, 128, 256])
@pytest.mark.parametrize("quantized", [False, True])
@pytest.mark.parametrize("band", [None, 0, 127, 255, 256, 1023, 2047, 2048, 4095])
def test_cuda_default_is_one_of_the_gpu_tested_configs(monkeypatch, head_dim, quantized, band):
    """The GPU tests check every CUDA_CONFIGS entry; a default outside that list would go untested."""
    from kernels.swa import prefill

    monkeypatch.setattr(prefill, "interpreted", lambda tensor: False)
    assert default_config(torch.empty(1), head_dim, quantized, local_window=band) in CUDA_CONFIGS


@pytest.mark.parametrize("cache_dtype", [None, torch.int8])
def test_head_dim_256_with_its_default_config(cache_dtype):
    """D=256 (a side set of the benchmark grid) takes its own default on CUDA: it must fit and be right."""
    x = prefill_inputs([40, 9], [600, 9], q_heads=4, kv_heads=2, head_dim=256, page_size=64, cache_dtype=cache_dtype)
    _check(x, local_window=300, global_window=4)
