"""Every misuse raises a clear error naming the argument, before any kernel runs."""

from __future__ import annotations

import pytest
import torch

from kernels.swa import paged_decode, paged_prefill, reference
from perfci.suite.inputs import decode_inputs, prefill_inputs
from tests.kernels.helpers import DEVICE


def _decode(x, **overrides):
    args = {
        "q": x.q,
        "k_cache": x.k_cache,
        "v_cache": x.v_cache,
        "seqlens": x.seqlens,
        "block_tables": x.block_tables,
        **x.cache_kwargs(),
    }
    args.update(overrides)
    return paged_decode(**args)


def _prefill(x, **overrides):
    args = {
        "q": x.q,
        "k_cache": x.k_cache,
        "v_cache": x.v_cache,
        "cu_seqlens_q": x.cu_seqlens_q,
        "seqlens_kv": x.seqlens_kv,
        "block_tables": x.block_tables,
        **x.cache_kwargs(),
    }
    args.update(overrides)
    return paged_prefill(**args)


@pytest.fixture
def dx():
    return decode_inputs([20, 5], q_heads=4, kv_heads=2, head_dim=32, page_size=16)


@pytest.fixture
def px():
    return prefill_inputs([6, 3], [20, 3], q_heads=4, kv_heads=2, head_dim=32, page_size=16)


@pytest.mark.parametrize(
    ("overrides", "error", "name"),
    [
        ({"seqlens": "x"}, TypeError, "seqlens"),
        ({"local_window": -1}, ValueError, "local_window"),
        ({"global_window": -3}, ValueError, "global_window"),
        ({"local_window": 2.5}, ValueError, "local_window"),
        ({"softmax_scale": float("nan")}, ValueError, "softmax_scale"),
        ({"softmax_scale": 0.0}, ValueError, "softmax_scale"),
    ],
)
def test_decode_argument_errors(dx, overrides, error, name):
    with pytest.raises(error, match=name):
        _decode(dx, **overrides)


def test_decode_tensor_errors(dx):
    with pytest.raises(TypeError, match="seqlens must be an int32"):
        _decode(dx, seqlens=dx.seqlens.long())
    with pytest.raises(TypeError, match="block_tables must be int32"):
        _decode(dx, block_tables=dx.block_tables.long())
    with pytest.raises(ValueError, match="block_tables must be"):
        _decode(dx, block_tables=dx.block_tables[:1])
    with pytest.raises(TypeError, match="q dtype"):
        _decode(dx, q=dx.q.float())
    with pytest.raises(ValueError, match="multiple of k_cache KV heads"):
        _decode(dx, q=torch.zeros(2, 3, 32, dtype=torch.bfloat16, device=DEVICE))
    with pytest.raises(ValueError, match="head dim"):
        _decode(dx, q=torch.zeros(2, 4, 64, dtype=torch.bfloat16, device=DEVICE))
    with pytest.raises(TypeError, match="same dtype"):
        _decode(dx, v_cache=dx.v_cache.half())
    with pytest.raises(ValueError, match="k_scale/v_scale are only for int8"):
        _decode(dx, k_scale=torch.ones(2, 32, device=DEVICE), v_scale=torch.ones(2, 32, device=DEVICE))
    with pytest.raises(ValueError, match="page_size 12 cannot be tiled"):
        cache = torch.zeros(4, 2, 12, 32, dtype=torch.bfloat16, device=DEVICE)
        _decode(dx, k_cache=cache, v_cache=cache)
    too_long = torch.tensor([20, 999], dtype=torch.int32, device=DEVICE)
    if DEVICE == "cpu":
        with pytest.raises(ValueError, match="widen block_tables"):
            _decode(dx, seqlens=too_long)
    else:  # CUDA checks the capacity in the kernel (no host sync: graph capture): the row reads NaN
        out = _decode(dx, seqlens=too_long)
        assert torch.isnan(out[1]).all() and torch.isfinite(out[0]).all()
    with pytest.raises(ValueError, match="out must be"):
        _decode(dx, out=torch.empty(2, 4, 32, dtype=torch.float16, device=DEVICE))
    with pytest.raises(ValueError, match=r"k_cache .* and v_cache .* must have the same shape"):
        _decode(dx, v_cache=dx.v_cache[:-1])


def test_int8_scale_contract():
    x = decode_inputs([20], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    with pytest.raises(ValueError, match="need k_scale"):
        _decode(x, k_scale=None)
    with pytest.raises(ValueError, match=r"k_scale must have shape \(Hkv=2, D=32\)"):
        _decode(x, k_scale=torch.ones(4, 32, device=DEVICE))  # (Hq, D) is never accepted silently
    with pytest.raises(TypeError, match="v_scale must be float32 or bfloat16"):
        _decode(x, v_scale=torch.ones(2, 32, dtype=torch.float64, device=DEVICE))


def test_prefill_length_errors(px):
    with pytest.raises(TypeError, match="cu_seqlens_q"):
        _prefill(px, cu_seqlens_q=px.cu_seqlens_q.long())
    with pytest.raises(ValueError, match="cu_seqlens_q must start at 0 and end at T"):
        _prefill(px, cu_seqlens_q=torch.tensor([0, 6, 8], dtype=torch.int32, device=DEVICE))
    total = px.q.shape[0]
    with pytest.raises(ValueError, match="cu_seqlens_q must be non-decreasing"):
        _prefill(px, cu_seqlens_q=torch.tensor([0, total + 2, total], dtype=torch.int32, device=DEVICE))
    with pytest.raises(ValueError, match="seqlens_kv must be >= 0"):
        _prefill(px, seqlens_kv=torch.tensor([-1, 3], dtype=torch.int32, device=DEVICE))
    with pytest.raises(ValueError, match=r"seqlens_kv\[0\] = 4 is shorter"):
        _prefill(px, seqlens_kv=torch.tensor([4, 3], dtype=torch.int32, device=DEVICE))
    with pytest.raises(ValueError, match="seqlens_kv must be"):
        _prefill(px, seqlens_kv=torch.tensor([20], dtype=torch.int32, device=DEVICE))
    with pytest.raises(ValueError, match="widen block_tables"):
        _prefill(px, seqlens_kv=torch.tensor([900, 3], dtype=torch.int32, device=DEVICE))
    with pytest.raises(TypeError, match="causal"):
        _prefill(px, causal=1)


def test_reference_shares_the_checks(dx):
    with pytest.raises(ValueError, match="local_window"):
        reference.paged_decode(*dx.args(), local_window=-2)


def test_seqlens_none_means_kv_len_equals_q_len():
    x = prefill_inputs([9, 4], [9, 4], q_heads=2, kv_heads=1, head_dim=32, page_size=16)
    with_none = _prefill(x, seqlens_kv=None, local_window=3)
    explicit = _prefill(x, local_window=3)
    assert torch.equal(with_none, explicit)


def test_interpreter_upcasts_bf16_dot_operands():
    """Triton 3.6's interpreter gets tl.dot on bf16 wrong; the CPU path must take the fp32 route."""
    from kernels.swa.tiles import interpreted

    assert interpreted(torch.zeros(1, dtype=torch.bfloat16))
