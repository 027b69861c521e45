"""Exact mask boundaries, probed one key at a time: zero keys give uniform attention, so the output's
channel 0 is > 0 iff the probed key (the only one with V[..., 0] = 1) is visible."""

from __future__ import annotations

import pytest
import torch

from kernels.swa import paged_decode, paged_prefill
from perfci.suite.inputs import decode_inputs, prefill_inputs
from perfci.suite.model import visible_keys
from tests.kernels.helpers import DEVICE

KV_LEN = 60
G, L = 5, 20


def _probe(x, token: int) -> None:
    """Zero K; V channel 0 is 1 only at logical token ``token`` of sequence 0."""
    x.k_cache.zero_()
    x.v_cache.zero_()
    page_size = x.k_cache.shape[2]
    page = int(x.block_tables[0, token // page_size])
    x.v_cache[page, :, token % page_size, 0] = 1


@pytest.mark.parametrize(
    ("token", "visible"),
    [
        (KV_LEN - 1 - L, True),  # distance exactly L: visible (inclusive band)
        (KV_LEN - 2 - L, False),  # distance L + 1: not visible
        (G - 1, True),  # last sink
        (G, False),  # first non-sink, outside the band
        (KV_LEN - 1, True),  # the query's own position
    ],
)
def test_decode_boundaries(token, visible):
    x = decode_inputs([KV_LEN], q_heads=2, kv_heads=1, head_dim=16, page_size=16)
    _probe(x, token)
    out = paged_decode(*x.args(), local_window=L, global_window=G)
    expected = 1.0 / int(visible_keys(KV_LEN - 1, L, G)) if visible else 0.0
    assert out[0, :, 0].float().tolist() == pytest.approx([expected] * 2, rel=1e-2)


@pytest.mark.parametrize("q_row", [0, 7, 19])
@pytest.mark.parametrize("q_heads", [1, 4])  # 4 query heads on one KV head: the packed-GQA walk
def test_prefill_boundaries(q_row, q_heads):
    q_len = 20
    x = prefill_inputs([q_len], [KV_LEN], q_heads=q_heads, kv_heads=1, head_dim=16, page_size=16)
    position = KV_LEN - q_len + q_row
    for token, visible in (
        (position - L, True),
        (position - L - 1, False),
        (G - 1, True),
        (G, False),
        (position, True),
        (position + 1, False),
    ):
        if not 0 <= token < KV_LEN or (token < G and not visible):
            continue
        visible = visible or token < G
        _probe(x, token)
        out = paged_prefill(*x.args(), local_window=L, global_window=G)
        expected = 1.0 / int(visible_keys(position, L, G)) if visible else 0.0
        assert out[q_row, :, 0].float().tolist() == pytest.approx([expected] * q_heads, rel=1e-2), (token, visible)


@pytest.mark.skipif(DEVICE != "cpu", reason="the GPU suite covers this at realistic sizes")
def test_pages_past_two_to_the_31_elements_do_not_wrap():
    """A page whose first element sits past 2^31 (int32 offset overflow) is read correctly."""
    from kernels.swa import reference

    head_dim, page_size = 64, 16
    num_pages = (1 << 31) // (page_size * head_dim) + 4
    k_cache = torch.empty((num_pages, 1, page_size, head_dim), dtype=torch.int8)  # ~2 GiB virtual, untouched
    v_cache = torch.empty_like(k_cache)
    generator = torch.Generator().manual_seed(0)
    last_pages = [num_pages - 1, num_pages - 3]
    for page in last_pages:
        k_cache[page] = torch.randint(-128, 128, (1, page_size, head_dim), generator=generator, dtype=torch.int8)
        v_cache[page] = torch.randint(-128, 128, (1, page_size, head_dim), generator=generator, dtype=torch.int8)
    tables = torch.tensor([last_pages], dtype=torch.int32)
    seqlens = torch.tensor([2 * page_size], dtype=torch.int32)
    scale = torch.full((1, head_dim), 0.01)
    q = torch.randn((1, 2, head_dim), generator=generator).to(torch.bfloat16)
    out = paged_decode(q, k_cache, v_cache, seqlens, tables, local_window=100, k_scale=scale, v_scale=scale)
    ref = reference.paged_decode(q, k_cache, v_cache, seqlens, tables, local_window=100, k_scale=scale, v_scale=scale)
    assert ((out.double() - ref).norm() / ref.norm()).item() < 2e-2
