"""int8 prefill for bf16 queries in two steps: dequantize the cache pages the windows touch into a
transient bf16 cache, then run the bf16 prefill kernel on it.

Why: prefill is compute-bound, and the fused int8 path converts every V tile in every program that
reads it (TMA -> shared memory -> registers -> convert -> shared memory before each MMA; K meets q
on int8 tensor cores), which leaves it at about 1.3x the bf16 GPU time on an H200
(docs/perf/kernels.md). Converting each touched page once is one pass over 3 bytes per element (1
read as int8, 2 written as bf16) before a kernel at bf16 speed. The price is transient memory, 4
bytes per touched (KV head, token, channel) for K and V together: above
``DEQUANTIZE_BUDGET_BYTES``, for fp16 queries (k x scale may overflow fp16) and for caches whose
pages are not contiguous, the fused path runs instead.
"""

from __future__ import annotations

import array
import functools
import itertools
from dataclasses import dataclass

import torch
import triton
import triton.language as tl

from kernels.swa.intmath import cdiv

#: Largest transient bf16 K + V cache the two-step path allocates; beyond it the fused path runs.
DEQUANTIZE_BUDGET_BYTES = 1 << 30
BLOCK = 2048


def pages_contiguous(cache: torch.Tensor) -> bool:
    """Each page (KV head, slot, channel) is one contiguous block: the dequantize kernel walks it flat."""
    page_size, dim = cache.shape[2:]
    return cache.stride(3) == 1 and cache.stride(2) == dim and cache.stride(1) == page_size * dim


@dataclass(frozen=True)
class TouchedPages:
    """Per sequence, the cache pages the prefill kernel can read: pages [0, sink_end) and [first, end)
    of its block table (all three 0 for a sequence with no query or no key). Ranges, not a page list:
    the host work is per sequence, and the dequantize kernel expands them (65k pages as a Python list
    of pairs took 12.5 ms of host time a call, while the GPU waits)."""

    sink_end: tuple[int, ...]
    first: tuple[int, ...]
    end: tuple[int, ...]

    @functools.cached_property
    def counts(self) -> list[int]:
        """Touched pages per sequence (computed once: the plan, the budget check and the launch read it)."""
        return [s + e - f for s, f, e in zip(self.sink_end, self.first, self.end, strict=True)]

    @functools.cached_property
    def total(self) -> int:
        return sum(self.counts)


def touched_pages(
    q_lens: tuple[int, ...], kv_lens: tuple[int, ...], page_size: int, local: int, sinks: int, block_n: int
) -> TouchedPages:
    """The pages the prefill kernel can read with key tiles of ``block_n``: the sink tiles, and every
    tile from ``block_n`` keys below the first query's window to the last key (a program's band starts
    at its first row's window, rounded down to a tile). ``local`` is huge when unbounded or
    non-causal, ``sinks`` 0 when there are none."""
    sink_pages = cdiv(cdiv(sinks, block_n) * block_n, page_size)
    sink_end, first, end = [], [], []
    for q_len, kv_len in zip(q_lens, kv_lens, strict=True):
        live = q_len > 0 and kv_len > 0
        band_first = max(kv_len - q_len - local - block_n, 0) // page_size if live else 0
        sink_end.append(min(band_first, sink_pages))
        first.append(band_first)
        end.append(cdiv(kv_len, page_size) if live else 0)
    return TouchedPages(tuple(sink_end), tuple(first), tuple(end))


@triton.jit
def _dequantize_pages_kernel(
    K,
    V,
    KS,
    VS,
    K_OUT,
    V_OUT,
    BT,
    BT_OUT,
    RANGES,
    stride_page,
    stride_bt,
    stride_bt_out,
    PAGE_ELEMS: tl.constexpr,
    HEAD_ELEMS: tl.constexpr,
    HEAD_DIM: tl.constexpr,
    BLOCK: tl.constexpr,
):
    """The j-th touched page of sequence b (``RANGES[4 b:4 b + 4]`` = sink_end, first, end, offset: pages
    [0, sink_end) then [first, end)) of the int8 caches, times the (KV head, channel) scales, into
    page offset + j of the outputs; the first program of a page also writes that index into the
    compact block table, so the host builds nothing per page."""
    j = tl.program_id(0)
    b = tl.program_id(1)
    sink_end = tl.load(RANGES + 4 * b)
    first = tl.load(RANGES + 4 * b + 1)
    if j >= sink_end + tl.load(RANGES + 4 * b + 2) - first:
        return
    page = tl.where(j < sink_end, j, first + j - sink_end)
    i = tl.load(RANGES + 4 * b + 3) + j
    if tl.program_id(2) == 0:
        tl.store(BT_OUT + b * stride_bt_out + page, i)
    src = tl.load(BT + b * stride_bt + page).to(tl.int64) * stride_page
    offs = tl.program_id(2) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < PAGE_ELEMS
    dst = i.to(tl.int64) * PAGE_ELEMS
    scale = (offs // HEAD_ELEMS) * HEAD_DIM + offs % HEAD_DIM  # a page is (KV head, slot, channel)
    k = tl.load(K + src + offs, mask=mask, other=0).to(tl.float32) * tl.load(KS + scale, mask=mask, other=0.0)
    tl.store(K_OUT + dst + offs, k.to(K_OUT.dtype.element_ty), mask=mask)
    v = tl.load(V + src + offs, mask=mask, other=0).to(tl.float32) * tl.load(VS + scale, mask=mask, other=0.0)
    tl.store(V_OUT + dst + offs, v.to(V_OUT.dtype.element_ty), mask=mask)


def page_ranges(pages: TouchedPages) -> torch.Tensor:
    """(sink_end, first, end, offset) per sequence as a CPU int32 tensor, offset counting the touched
    pages of the sequences before it (the compact cache's page numbers). Built through an ``array``
    buffer: half the host time of ``torch.tensor`` on a list of tuples."""
    offsets = itertools.accumulate(pages.counts, initial=0)
    rows = zip(pages.sink_end, pages.first, pages.end, offsets, strict=False)  # offsets: one more, unused
    return torch.frombuffer(array.array("i", itertools.chain.from_iterable(rows)), dtype=torch.int32)


def dequantized_cache(
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    k_scale: torch.Tensor,
    v_scale: torch.Tensor,
    tables: torch.Tensor,
    pages: TouchedPages,
    dtype: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The touched pages as a compact ``dtype`` cache, and a block table into it (entries of pages not
    touched are 0: the kernel never reads them). Host work: four ints per sequence, one copy of them
    to the device and the allocations (it runs after the checks' host read, while the GPU waits)."""
    _, heads, page_size, dim = k_cache.shape
    counts, ranges = pages.counts, page_ranges(pages).to(tables.device)
    compact_tables = torch.zeros(tuple(tables.shape), dtype=torch.int32, device=tables.device)
    k_out = torch.empty((pages.total, heads, page_size, dim), dtype=dtype, device=k_cache.device)
    v_out = torch.empty_like(k_out)
    page_elems = page_size * heads * dim
    _dequantize_pages_kernel[(max(counts), len(counts), cdiv(page_elems, BLOCK))](
        k_cache,
        v_cache,
        k_scale.float().contiguous(),
        v_scale.float().contiguous(),
        k_out,
        v_out,
        tables,
        compact_tables,
        ranges,
        k_cache.stride(0),
        tables.stride(0),
        compact_tables.stride(0),
        PAGE_ELEMS=page_elems,
        HEAD_ELEMS=page_size * dim,
        HEAD_DIM=dim,
        BLOCK=BLOCK,
    )
    return k_out, v_out, compact_tables
