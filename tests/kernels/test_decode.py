"""paged_decode against the float64 reference on the edge cases of docs/spec/swa-kernels.md section 4."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from kernels.swa.checks import Windows
from kernels.swa.decode import CUDA_CONFIGS, INTERPRETER_CONFIGS, choose_splits, default_config
from perfci.suite.inputs import decode_inputs
from tests.kernels.helpers import DEVICE, assert_matches, run_decode, tolerance

BLOCK = default_config(torch.empty(1, device=DEVICE), 16, quantized=False).block_n
CONFIGS = CUDA_CONFIGS if DEVICE == "cuda" else INTERPRETER_CONFIGS


def _check(x, splits=None, **kwargs):
    out, ref = run_decode(x, splits=splits, **kwargs)
    assert_matches(out, ref, tolerance(x))
    return out, ref


@pytest.mark.parametrize(
    ("global_window", "local_window"),
    [(None, None), (None, 5), (3, None), (0, 9), (0, None), (4, 9), (64, 9), (500, 9)],
)
@pytest.mark.parametrize("splits", [1, 3])
def test_window_combinations(global_window, local_window, splits):
    x = decode_inputs([70, 1, 0, 9, 130], q_heads=4, kv_heads=2, head_dim=32, page_size=16)
    out, _ = _check(x, splits=splits, local_window=local_window, global_window=global_window)
    assert (out[2] == 0).all(), "seqlens 0 gives zeros"


@pytest.mark.parametrize("local_window", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 127, 128, 1023, 4095])
def test_local_window_sizes(local_window):
    x = decode_inputs([local_window + 37, 5, 300], q_heads=4, kv_heads=1, head_dim=32, page_size=64, seed=local_window)
    _check(x, local_window=local_window, global_window=4)


@pytest.mark.parametrize("global_window", [4, 16])
@pytest.mark.parametrize("local_window", [7, 16])
def test_fast_path_boundary_mixed_batch(global_window, local_window):
    """kv_len in {G+L-1, G+L, G+L+1, G+L+2}: covered and uncovered sequences in one batch."""
    edge = global_window + local_window
    x = decode_inputs([edge - 1, edge, edge + 1, edge + 2, 3 * edge], q_heads=8, kv_heads=2, head_dim=32, page_size=16)
    for splits in (1, 2):
        _check(x, splits=splits, local_window=local_window, global_window=global_window)


@pytest.mark.parametrize("kv_len", [1, 15, 16, 17, 3])
def test_kv_lengths_around_the_page(kv_len):
    x = decode_inputs([kv_len, kv_len + 40], q_heads=2, kv_heads=1, head_dim=32, page_size=16)
    _check(x, local_window=5, global_window=8)


@pytest.mark.parametrize("page_size", [1, 8, 16, 32, 64, 128, 256])
def test_page_sizes_shuffled_pages(page_size):
    x = decode_inputs([300, 41, 2], q_heads=4, kv_heads=2, head_dim=32, page_size=page_size, seed=page_size)
    _check(x, local_window=60, global_window=4)


@pytest.mark.parametrize("group", [1, 2, 4, 8])
@pytest.mark.parametrize("interleave", [False, True])
def test_gqa_groupings(group, interleave):
    x = decode_inputs([40, 23], q_heads=2 * group, kv_heads=2, head_dim=32, page_size=16, seed=group)
    _check(x, local_window=9, global_window=2, gqa_interleave=interleave)


def test_mqa_group_larger_than_tile_and_odd_head_dim():
    x = decode_inputs([50, 7], q_heads=32, kv_heads=1, head_dim=96, page_size=16)
    _check(x, local_window=17, global_window=3)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_query_dtypes(dtype):
    x = decode_inputs([90, 12], q_heads=4, kv_heads=2, head_dim=64, page_size=32, dtype=dtype)
    _check(x, local_window=30, global_window=2, softmax_scale=0.2)


@pytest.mark.parametrize("splits", [1, 4])
def test_int8_cache(splits):
    x = decode_inputs([120, 9, 0], q_heads=8, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    x.k_cache[0, :, :, :4] = 127
    x.v_cache[1, :, :, 4:8] = -128
    x.k_scale[0] *= 50.0
    out, _ = _check(x, splits=splits, local_window=40, global_window=4)
    assert (out[2] == 0).all()


@pytest.mark.parametrize("head_dim", [16, 64])
def test_int8_keys_keep_the_query_precision(head_dim):
    """int8 keys meet q on int8 tensor cores as q = step * (hi + lo / 254) (tiles.split_query); D = 16
    keeps fp16 operands. An outlier channel (30x) and a head 20x smaller than its group's largest must
    not cost precision: fp16 q stays near fp16 rounding (about 3e-4 here), where q rounded to one int8
    part alone gives 8e-3 to 9e-2."""
    x = decode_inputs(
        [300, 77, 5],
        q_heads=8,
        kv_heads=2,
        head_dim=head_dim,
        page_size=16,
        dtype=torch.float16,
        cache_dtype=torch.int8,
        seed=3,
    )
    x.q[:, :, 0] *= 30.0
    x.q[:, 1] *= 0.05
    out, ref = run_decode(x, local_window=100, global_window=4, splits=2)
    assert_matches(out, ref, 1.5e-3)
    assert_matches(out[:, 1], ref[:, 1], 1.5e-3)


def offset_view(cache: torch.Tensor, offset: int) -> torch.Tensor:
    """The same values in a wider buffer, ``offset`` bytes in: strides of D + 4, a base address
    ``offset`` past a 4-byte boundary."""
    wide = torch.zeros(*cache.shape[:-1], cache.shape[-1] + 4, dtype=cache.dtype, device=cache.device)
    view = wide[..., offset : offset + cache.shape[-1]]
    view.copy_(cache)
    return view


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_int8_cache_at_any_alignment_with_large_queries(offset):
    """On the GPU an int8 V tile is read as 4-byte words only where every stride and the base allow
    it, else byte by byte; queries of magnitude 1e4 must not overflow the fp16 MMA operands."""
    x = decode_inputs([200, 64, 3], q_heads=8, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8, seed=7)
    x.k_cache, x.v_cache = offset_view(x.k_cache, offset), offset_view(x.v_cache, offset)
    x.q.mul_(1e4)
    x.k_scale[1] *= 1e-3  # one head's keys far smaller than the other's
    _check(x, local_window=60, global_window=4, splits=2)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"n{c.block_n}w{c.num_warps}s{c.num_stages}")
@pytest.mark.parametrize("splits", [1, 2, 5])
@pytest.mark.parametrize("cache_dtype", [None, torch.int8], ids=["bf16", "int8"])
def test_every_config_and_split_is_correct(config, splits, cache_dtype):
    x = decode_inputs([150, 33, 1], q_heads=8, kv_heads=2, head_dim=32, page_size=16, cache_dtype=cache_dtype, seed=4)
    for windows in ((4, 20), (None, None), (0, 1)):
        out, ref = run_decode(x, config=config, splits=splits, global_window=windows[0], local_window=windows[1])
        assert_matches(out, ref, tolerance(x))


def test_splits_follow_the_live_window_not_the_sequence():
    cpu = torch.device("cpu")
    assert choose_splits(1, 8, 1 << 20, Windows.from_args(127, 4), 64, cpu) == 1  # 4 live tiles: never split
    long_window = Windows.from_args(4095, 4)
    assert choose_splits(64, 8, 1 << 20, long_window, 64, cpu) == 2  # many programs: still 2 for latency
    assert choose_splits(1, 1, 1 << 20, long_window, 64, cpu) == 4  # few programs: the CPU target of 4
    assert choose_splits(1, 1, 1 << 20, long_window, 64, cpu) == choose_splits(1, 1, 1 << 30, long_window, 64, cpu)


def test_splits_on_an_h200_fill_the_card(monkeypatch):
    """The GPU rule with the H200's 132 SMs (``benchmarks/decode_splits.py``: each pick is the measured
    best or within 3% of it): bf16 about 2 programs an SM and at least 2 splits on a long live range,
    int8 its 4 resident slots once (one split where B x Hkv fills them), at least 4 tiles a split."""
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: SimpleNamespace(multi_processor_count=132))
    cuda, window = torch.device("cuda"), Windows.from_args(4095, 4)
    picks = {
        (batch, quantized): choose_splits(batch, 8, 32768, window, 64, cuda, quantized)
        for batch in (1, 8, 32, 64)
        for quantized in (False, True)
    }
    assert picks == {
        (1, False): 17,
        (1, True): 17,
        (8, False): 5,
        (8, True): 8,
        (32, False): 2,
        (32, True): 2,
        (64, False): 2,
        (64, True): 1,
    }


def test_deterministic():
    x = decode_inputs([150, 33], q_heads=8, kv_heads=2, head_dim=32, page_size=16)
    first, _ = run_decode(x, splits=3, local_window=50, global_window=4)
    second, _ = run_decode(x, splits=3, local_window=50, global_window=4)
    assert torch.equal(first, second)
