"""Paged decode with sinks + a local window: read each live KV tile once per KV head.

One program per (sequence, KV head, split) handles every query head of that KV head's group, so K
and V are read once, not once per query head. Only live tiles are visited: the sinks [0, G) and
the band [p - L, p] of the query at p = seqlens[b] - 1, numbered as one virtual range so that a
sequence the windows cover entirely (G >= p - L) is walked as one dense range [0, kv_len). When
B x Hkv is too small to fill the GPU, the live range is split across programs and the partial
softmax states are merged by a second kernel. Split counts come from shapes only (no host sync),
so the op can be captured in a CUDA graph.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from kernels.swa.checks import UNBOUNDED, Windows, check_decode
from kernels.swa.intmath import cdiv, next_power_of_2
from kernels.swa.tiles import (
    MASK_FULL,
    NEG_BIG,
    KernelConfig,
    int8_words,
    int8_words_to_fp16,
    interpreted,
    kv_row_offsets,
    load_k_tile,
    load_v_tile,
    load_v_words,
    query_operands,
    softmax_scores,
    tile_scores,
    to_compute,
)

LOG2E = 1.4426950408889634
MAX_SPLITS = 64
#: A split gets at least this many KV tiles, so the merge never costs more than the work it spreads.
MIN_TILES_PER_SPLIT = 4
#: Live ranges shorter than this many tiles run in one program per (sequence, KV head).
MIN_TILES_TO_SPLIT = 16
#: int8 decode programs an SM holds at once (2 warps, 55 KB of shared memory each: four fit in 228 KB).
INT8_PROGRAMS_PER_SM = 4

CUDA_CONFIGS = (
    KernelConfig(block_m=16, block_n=64, num_warps=4, num_stages=3),
    KernelConfig(block_m=16, block_n=128, num_warps=4, num_stages=3),
    KernelConfig(block_m=16, block_n=32, num_warps=4, num_stages=2),
    KernelConfig(block_m=16, block_n=64, num_warps=8, num_stages=4),
    # Two warps: a 64-token int8 tile issues 2170 instructions across its warps instead of 2644
    # with four (fewer cross-warp softmax reductions and shared q fragments; kernel_sass.py).
    KernelConfig(block_m=16, block_n=64, num_warps=2, num_stages=3),
    KernelConfig(block_m=16, block_n=64, num_warps=2, num_stages=4),
    # K/V tiles sit behind a page-table load, which takes one pipeline stage: stages 3 and 4 keep one
    # tile in flight, 5 keeps two and 7 three (kernel_sass.py prints the rings).
    KernelConfig(block_m=16, block_n=64, num_warps=2, num_stages=5),
    KernelConfig(block_m=16, block_n=64, num_warps=2, num_stages=7),
    KernelConfig(block_m=16, block_n=64, num_warps=4, num_stages=5),
    KernelConfig(block_m=16, block_n=128, num_warps=4, num_stages=5),
    KernelConfig(block_m=16, block_n=32, num_warps=2, num_stages=5),
    KernelConfig(block_m=16, block_n=32, num_warps=2, num_stages=7),
    KernelConfig(block_m=16, block_n=32, num_warps=4, num_stages=5),
)
INTERPRETER_CONFIGS = (
    KernelConfig(block_m=16, block_n=16, num_warps=4, num_stages=1),
    KernelConfig(block_m=16, block_n=32, num_warps=4, num_stages=1),
)


def default_config(q: torch.Tensor, page_size: int, quantized: bool) -> KernelConfig:
    """Small pages: 32-token tiles stay inside a page; otherwise 64-token tiles (GPU kernel time on an
    H200: 10% faster than 128-token tiles for int8 too, ``benchmarks/kernels_bench.py``). int8 caches take
    two warps a program and keep two tiles in flight (five stages): 8% and 7% faster there; bf16 is the
    same with two warps and slower with five stages (fewer blocks an SM)."""
    if interpreted(q):
        return INTERPRETER_CONFIGS[0]
    if page_size <= 32:
        return CUDA_CONFIGS[2]
    return CUDA_CONFIGS[6] if quantized else CUDA_CONFIGS[0]


def choose_splits(
    batch: int,
    kv_heads: int,
    max_kv_len: int,
    windows: Windows,
    block_n: int,
    device: torch.device,
    quantized: bool = False,
) -> int:
    """Splits per (sequence, KV head) from shapes alone (no host sync, CUDA-graph safe).

    Tuned on an H200 with ``perfci run --suite smoke`` (docs/perf/runner.md) and
    ``benchmarks/decode_splits.py``: a live range of 16+ tiles always takes at least 2 splits (one
    program's chain of dependent tiles cannot hide its latency: bf16 B64 x kv16k went 0.322 -> 0.262 ms);
    beyond that, at least 4 tiles per split, and for bf16 about 2 programs per SM (4 per SM made B1 x
    kv32k 43% and B32 x kv4096 11% slower). int8 decode is latency-bound at 12.5% occupancy, so it
    fills its resident program slots once (:data:`INT8_PROGRAMS_PER_SM`), one split where B x Hkv
    programs fill them alone: B8 x kv32k 0.0371 -> 0.0320 ms at 8 splits instead of 5, B64 x kv16k
    0.1746 -> 0.1687 ms at 1 instead of 2. Short live ranges are never split (the
    merge costs more than the work: B64 x L127 0.025 vs 0.059 ms).
    """
    live = max_kv_len
    if windows.local < UNBOUNDED:
        live = min(max_kv_len, windows.sinks + max(windows.local, -1) + 1 + block_n)
    tiles = cdiv(max(live, 1), block_n) + 1
    if tiles < MIN_TILES_TO_SPLIT:
        return 1
    programs = max(batch * kv_heads, 1)
    floor = 2
    if device.type != "cuda":
        wanted = cdiv(4, programs)
    else:
        sms = torch.cuda.get_device_properties(device).multi_processor_count
        if quantized:  # programs that fill every slot at one split need no second one
            wanted, floor = INT8_PROGRAMS_PER_SM * sms // programs, 1
        else:
            wanted = cdiv(2 * sms, programs)
    return max(floor, min(MAX_SPLITS, wanted, cdiv(tiles, MIN_TILES_PER_SPLIT)))


@triton.jit
def _decode_kernel(
    Q,
    K,
    V,
    KS,
    VS,
    O,
    SEQ,
    BT,
    M_WS,
    L_WS,
    ACC_WS,
    stride_qb,
    stride_qh,
    stride_ob,
    stride_oh,
    stride_kp,
    stride_kh,
    stride_ks,
    stride_bt,
    qk_scale,
    local,
    sinks,
    capacity,
    GROUP: tl.constexpr,
    GROUP_PAD: tl.constexpr,
    NUM_KV_HEADS: tl.constexpr,
    INTERLEAVE: tl.constexpr,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_N: tl.constexpr,
    SPLITS: tl.constexpr,
    PAGE: tl.constexpr,
    PAGE_ALIGNED: tl.constexpr,
    QUANT: tl.constexpr,
    UPCAST: tl.constexpr,
    V_WORDS: tl.constexpr,
):
    b = tl.program_id(0)
    kvh = tl.program_id(1)
    split = tl.program_id(2)
    if UPCAST:
        COMPUTE_DTYPE: tl.constexpr = tl.float32
    elif QUANT:
        COMPUTE_DTYPE: tl.constexpr = tl.float16
    else:
        COMPUTE_DTYPE: tl.constexpr = Q.dtype.element_ty
    # int8 keys meet q on int8 tensor cores (the MMA's K dimension is 32 at least); V still converts
    SPLIT_Q: tl.constexpr = QUANT and BLOCK_D >= 32
    kv_len = tl.load(SEQ + b)
    # A length the block table cannot hold (or a negative one) is never read: it poisons the row with NaN.
    bad_len = (kv_len > capacity) | (kv_len < 0)
    kv_len = tl.where(bad_len, 0, kv_len)

    offs_g = tl.arange(0, GROUP_PAD)
    g_mask = offs_g < GROUP
    if INTERLEAVE:
        heads = kvh + offs_g * NUM_KV_HEADS
    else:
        heads = kvh * GROUP + offs_g
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_mask = offs_d < HEAD_DIM
    q = tl.load(
        Q + b.to(tl.int64) * stride_qb + heads[:, None] * stride_qh + offs_d[None, :],
        mask=g_mask[:, None] & d_mask[None, :],
        other=0.0,
    )
    q, q_lo, qk_scale = query_operands(
        q, KS, kvh, offs_d, d_mask, qk_scale, HEAD_DIM, QUANT, SPLIT_Q, UPCAST, COMPUTE_DTYPE
    )

    p_query = kv_len - 1
    band_lo = (tl.maximum(p_query - local, 0) // BLOCK_N) * BLOCK_N
    band_lo = tl.minimum(band_lo, tl.maximum(kv_len, 0))
    sink_hi = tl.minimum(sinks, band_lo)  # == band_lo when the windows cover the sequence: one dense range
    sink_tiles = tl.cdiv(sink_hi, BLOCK_N)
    band_tiles = tl.cdiv(tl.maximum(kv_len - band_lo, 0), BLOCK_N)
    total_tiles = sink_tiles + band_tiles
    per_split = tl.cdiv(total_tiles, SPLITS)
    t_lo = split * per_split
    t_hi = tl.minimum(t_lo + per_split, total_tiles)

    p_rows = tl.full([GROUP_PAD], 0, tl.int32) + p_query
    head = kvh.to(tl.int64) * stride_kh
    bt_row = BT + b.to(tl.int64) * stride_bt
    m_i = tl.full([GROUP_PAD], NEG_BIG, tl.float32)
    l_i = tl.zeros([GROUP_PAD], tl.float32)
    acc = tl.zeros([GROUP_PAD, BLOCK_D], tl.float32)
    for t in range(t_lo, t_hi):
        start = tl.where(t < sink_tiles, t * BLOCK_N, band_lo + (t - sink_tiles) * BLOCK_N)
        rows = kv_row_offsets(bt_row, start, offs_n, kv_len, PAGE, PAGE_ALIGNED, stride_kp, stride_ks, QUANT)
        n = start + offs_n
        k_t = load_k_tile(K, head, rows, n, kv_len, offs_d, d_mask)
        qk = tile_scores(q, q_lo, k_t, COMPUTE_DTYPE, SPLIT_Q)
        probs, alpha, m_i, l_i = softmax_scores(m_i, l_i, qk, n, kv_len, p_rows, local, sinks, qk_scale, MASK_FULL)
        if V_WORDS:
            v = int8_words_to_fp16(load_v_words(V, head, rows, n, kv_len, BLOCK_D, HEAD_DIM))
        else:
            v = to_compute(load_v_tile(V, head, rows, n, kv_len, offs_d, d_mask), COMPUTE_DTYPE)
        acc = acc * alpha[:, None] + tl.dot(probs.to(COMPUTE_DTYPE), v)

    if SPLITS == 1:
        out = tl.where(l_i[:, None] > 0, acc / tl.where(l_i > 0, l_i, 1.0)[:, None], 0.0)
        if QUANT:
            v_scale = tl.load(VS + kvh * HEAD_DIM + offs_d, mask=d_mask, other=0.0).to(tl.float32)
            out = out * v_scale[None, :]
        out = tl.where(bad_len, float("nan"), out)
        o_ptrs = O + b.to(tl.int64) * stride_ob + heads[:, None] * stride_oh + offs_d[None, :]
        tl.store(o_ptrs, out.to(O.dtype.element_ty), mask=g_mask[:, None] & d_mask[None, :])
    else:
        row = (b.to(tl.int64) * (NUM_KV_HEADS * GROUP) + heads) * SPLITS + split  # [B, Hq, SPLITS] layout
        tl.store(M_WS + row, m_i, mask=g_mask)
        tl.store(L_WS + row, tl.where(bad_len, float("nan"), l_i), mask=g_mask)
        tl.store(ACC_WS + row[:, None] * BLOCK_D + offs_d[None, :], acc, mask=g_mask[:, None])


@triton.jit
def _merge_kernel(
    O,
    VS,
    M_WS,
    L_WS,
    ACC_WS,
    stride_ob,
    stride_oh,
    NUM_Q_HEADS: tl.constexpr,
    GROUP: tl.constexpr,
    NUM_KV_HEADS: tl.constexpr,
    INTERLEAVE: tl.constexpr,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    SPLITS: tl.constexpr,
    SPLITS_PAD: tl.constexpr,
    QUANT: tl.constexpr,
):
    """Merge per-split softmax states (m, l, acc) of one (sequence, query head) into the output."""
    b = tl.program_id(0)
    h = tl.program_id(1)
    offs_s = tl.arange(0, SPLITS_PAD)
    s_mask = offs_s < SPLITS
    offs_d = tl.arange(0, BLOCK_D)
    d_mask = offs_d < HEAD_DIM
    row = (b.to(tl.int64) * NUM_Q_HEADS + h) * SPLITS + offs_s
    m = tl.load(M_WS + row, mask=s_mask, other=NEG_BIG)
    l_part = tl.load(L_WS + row, mask=s_mask, other=0.0)
    acc = tl.load(ACC_WS + row[:, None] * BLOCK_D + offs_d[None, :], mask=s_mask[:, None], other=0.0)
    m_max = tl.max(m, 0)
    weight = tl.math.exp2(m - m_max)
    total = tl.sum(l_part * weight, 0)
    out = tl.sum(acc * weight[:, None], 0)
    out = tl.where(total > 0, out / tl.where(total > 0, total, 1.0), 0.0)
    out = tl.where(total != total, float("nan"), out)  # a poisoned split (bad length) stays NaN
    if QUANT:
        if INTERLEAVE:
            kvh = h % NUM_KV_HEADS
        else:
            kvh = h // GROUP
        v_scale = tl.load(VS + kvh * HEAD_DIM + offs_d, mask=d_mask, other=0.0).to(tl.float32)
        out = out * v_scale
    tl.store(O + b.to(tl.int64) * stride_ob + h * stride_oh + offs_d, out.to(O.dtype.element_ty), mask=d_mask)


def paged_decode_with_config(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    seqlens: torch.Tensor,
    block_tables: torch.Tensor,
    *,
    config: KernelConfig | None = None,
    splits: int | None = None,
    local_window: int | None = None,
    global_window: int | None = None,
    softmax_scale: float | None = None,
    gqa_interleave: bool = False,
    k_scale: torch.Tensor | None = None,
    v_scale: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """:func:`paged_decode` with an explicit launch config and split count (for sweeps and tests)."""
    problem = check_decode(
        q,
        k_cache,
        v_cache,
        seqlens,
        block_tables,
        local_window=local_window,
        global_window=global_window,
        softmax_scale=softmax_scale,
        k_scale=k_scale,
        v_scale=v_scale,
        out=out,
        host_capacity_check=not getattr(q, "is_cuda", False),
    )
    q, layout, windows, tables, batch = problem.q, problem.layout, problem.windows, problem.tables, problem.batch
    _, q_heads, head_dim = q.shape
    result = problem.out if problem.out is not None else torch.empty_like(q)
    if batch == 0:
        return result

    config = config or default_config(q, layout.page_size, layout.quantized)
    capacity = tables.shape[1] * layout.page_size
    if splits is None:
        splits = choose_splits(
            batch, layout.num_kv_heads, capacity, windows, config.block_n, q.device, layout.quantized
        )
    if not 1 <= splits <= MAX_SPLITS:
        raise ValueError(f"splits must be in 1..{MAX_SPLITS}, got {splits}")
    group = q_heads // layout.num_kv_heads
    block_d = max(16, next_power_of_2(head_dim))
    if splits > 1:
        m_ws = torch.empty((batch, q_heads, splits), dtype=torch.float32, device=q.device)
        l_ws = torch.empty_like(m_ws)
        acc_ws = torch.empty((batch, q_heads, splits, block_d), dtype=torch.float32, device=q.device)
    else:
        m_ws = l_ws = acc_ws = None
    _decode_kernel[(batch, layout.num_kv_heads, splits)](
        q,
        k_cache,
        v_cache,
        k_scale,
        v_scale,
        result,
        seqlens,
        tables,
        m_ws,
        l_ws,
        acc_ws,
        q.stride(0),
        q.stride(1),
        result.stride(0),
        result.stride(1),
        k_cache.stride(0),
        k_cache.stride(1),
        k_cache.stride(2),
        tables.stride(0),
        problem.scale * LOG2E,
        windows.local,
        windows.sinks,
        capacity,
        GROUP=group,
        GROUP_PAD=max(config.block_m, next_power_of_2(group)),
        NUM_KV_HEADS=layout.num_kv_heads,
        INTERLEAVE=gqa_interleave,
        HEAD_DIM=head_dim,
        BLOCK_D=block_d,
        BLOCK_N=config.block_n,
        SPLITS=splits,
        PAGE=layout.page_size,
        PAGE_ALIGNED=layout.page_size % config.block_n == 0,
        QUANT=layout.quantized,
        UPCAST=interpreted(q),
        V_WORDS=int8_words(v_cache),
        num_warps=config.num_warps,
        num_stages=config.num_stages,
    )
    if splits > 1:
        _merge_kernel[(batch, q_heads)](
            result,
            v_scale,
            m_ws,
            l_ws,
            acc_ws,
            result.stride(0),
            result.stride(1),
            NUM_Q_HEADS=q_heads,
            GROUP=group,
            NUM_KV_HEADS=layout.num_kv_heads,
            INTERLEAVE=gqa_interleave,
            HEAD_DIM=head_dim,
            BLOCK_D=block_d,
            SPLITS=splits,
            SPLITS_PAD=max(2, next_power_of_2(splits)),
            QUANT=layout.quantized,
            num_warps=4,
        )
    return result


def paged_decode(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    seqlens: torch.Tensor,
    block_tables: torch.Tensor,
    *,
    local_window: int | None = None,
    global_window: int | None = None,
    softmax_scale: float | None = None,
    gqa_interleave: bool = False,
    k_scale: torch.Tensor | None = None,
    v_scale: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """One new query per sequence, ``q (B, Hq, D)`` at position ``seqlens[b] - 1``; keys/values in the
    paged cache. Returns ``(B, Hq, D)`` in q's dtype; ``seqlens[b] == 0`` gives zeros."""
    return paged_decode_with_config(
        q,
        k_cache,
        v_cache,
        seqlens,
        block_tables,
        local_window=local_window,
        global_window=global_window,
        softmax_scale=softmax_scale,
        gqa_interleave=gqa_interleave,
        k_scale=k_scale,
        v_scale=v_scale,
        out=out,
    )
