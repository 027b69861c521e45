"""int8 prefill for bf16 queries in two steps: dequantize the cache pages the windows touch into a
transient bf16 cache, then run the bf16 prefill kernel on it.

Why: prefill is compute-bound, and the fused int8 path converts every K/V tile in every program that
reads it (TMA -> shared memory -> registers -> convert -> shared memory before each MMA), which left
int8 prefill at 1.37x the bf16 time on an H200 (docs/perf/kernels.md). Converting each touched page
once is one pass over 3 bytes per element (1 read as int8, 2 written as bf16) before a kernel at
bf16 speed. The price is transient memory, 4 bytes per touched (KV head, token, channel) for K and V
together: above ``DEQUANTIZE_BUDGET_BYTES``, for fp16 queries (k x scale may overflow fp16) and for
caches whose pages are not contiguous, the fused path runs instead.
"""

from __future__ import annotations

import numpy as np
import torch
import triton
import triton.language as tl

#: Largest transient bf16 K + V cache the two-step path allocates; beyond it the fused path runs.
DEQUANTIZE_BUDGET_BYTES = 1 << 30
BLOCK = 2048


def pages_contiguous(cache: torch.Tensor) -> bool:
    """Each page (KV head, slot, channel) is one contiguous block: the dequantize kernel walks it flat."""
    page_size, dim = cache.shape[2:]
    return cache.stride(3) == 1 and cache.stride(2) == dim and cache.stride(1) == page_size * dim


def touched_pages(
    q_lens: tuple[int, ...], kv_lens: tuple[int, ...], page_size: int, local: int, sinks: int, block_n: int
) -> np.ndarray:
    """(sequence, page index) rows, int32 ``(P, 2)``, of every page the prefill kernel can read with
    key tiles of ``block_n``: the sink tiles, and every tile from ``block_n`` keys below the first
    query's window to the last key (a program's band starts at its first row's window, rounded down
    to a tile). ``local`` is huge when unbounded or non-causal, ``sinks`` 0 when there are none.
    Array arithmetic, not a Python loop: 65k pages (B64 x 16k, pages of 16) took 12.5 ms of host
    time a call as a list of tuples, while the GPU waits."""
    q = np.asarray(q_lens, dtype=np.int64)
    kv = np.asarray(kv_lens, dtype=np.int64)
    live = (q > 0) & (kv > 0)
    first = np.maximum(kv - q - local - block_n, 0) // page_size
    sink_end = np.where(live, np.minimum(first, triton.cdiv(triton.cdiv(sinks, block_n) * block_n, page_size)), 0)
    per_sequence = sink_end + np.where(live, -(-kv // page_size) - first, 0)
    sequence = np.repeat(np.arange(len(q)), per_sequence)
    offset = np.arange(len(sequence)) - np.repeat(np.cumsum(per_sequence) - per_sequence, per_sequence)
    page = np.where(offset < sink_end[sequence], offset, first[sequence] + offset - sink_end[sequence])
    return np.stack([sequence, page], axis=1).astype(np.int32)


@triton.jit
def _dequantize_pages_kernel(
    K, V, KS, VS, K_OUT, V_OUT, BT, BT_OUT, PAIRS, stride_page, stride_bt, stride_bt_out,
    PAGE_ELEMS: tl.constexpr, HEAD_ELEMS: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK: tl.constexpr,
):  # fmt: skip
    """Page (sequence b, index j) = ``PAIRS[i]`` of the int8 caches, times the (KV head, channel)
    scales, into page i of the outputs; the first program of a page also writes i into the compact
    block table at (b, j), so the host builds nothing but the pair list."""
    i = tl.program_id(0)
    b = tl.load(PAIRS + 2 * i).to(tl.int64)
    j = tl.load(PAIRS + 2 * i + 1)
    if tl.program_id(1) == 0:
        tl.store(BT_OUT + b * stride_bt_out + j, i)
    src = tl.load(BT + b * stride_bt + j).to(tl.int64) * stride_page
    offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < PAGE_ELEMS
    dst = i.to(tl.int64) * PAGE_ELEMS
    scale = (offs // HEAD_ELEMS) * HEAD_DIM + offs % HEAD_DIM  # a page is (KV head, slot, channel)
    k = tl.load(K + src + offs, mask=mask, other=0).to(tl.float32) * tl.load(KS + scale, mask=mask, other=0.0)
    tl.store(K_OUT + dst + offs, k.to(K_OUT.dtype.element_ty), mask=mask)
    v = tl.load(V + src + offs, mask=mask, other=0).to(tl.float32) * tl.load(VS + scale, mask=mask, other=0.0)
    tl.store(V_OUT + dst + offs, v.to(V_OUT.dtype.element_ty), mask=mask)


def dequantized_cache(
    k_cache: torch.Tensor, v_cache: torch.Tensor, k_scale: torch.Tensor, v_scale: torch.Tensor,
    tables: torch.Tensor, pages: np.ndarray, dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """The listed pages as a compact ``dtype`` cache, and a block table into it (entries of pages not
    listed are 0: the kernel never reads them). Host work: the pair list, one copy of it to the
    device and the allocations (it runs after the checks' host read, while the GPU waits)."""
    _, heads, page_size, dim = k_cache.shape
    pairs = torch.from_numpy(pages.reshape(-1)).to(tables.device)
    compact_tables = torch.zeros(tuple(tables.shape), dtype=torch.int32, device=tables.device)
    k_out = torch.empty((len(pages), heads, page_size, dim), dtype=dtype, device=k_cache.device)
    v_out = torch.empty_like(k_out)
    page_elems = page_size * heads * dim
    _dequantize_pages_kernel[(len(pages), triton.cdiv(page_elems, BLOCK))](
        k_cache, v_cache, k_scale.float().contiguous(), v_scale.float().contiguous(), k_out, v_out, tables,
        compact_tables, pairs, k_cache.stride(0), tables.stride(0), compact_tables.stride(0),
        PAGE_ELEMS=page_elems, HEAD_ELEMS=page_size * dim, HEAD_DIM=dim, BLOCK=BLOCK,
    )  # fmt: skip
    return k_out, v_out, compact_tables
