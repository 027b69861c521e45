"""Paged varlen prefill with sinks + a local window: work proportional to the visible keys.

One program per (query block, sequence, query head). A block of queries at absolute positions
[p0, p1] can only see keys in the sinks [0, G) and the band [p0 - L, p1]; tiles outside those are
never scheduled. Inside the band, tiles that every row of the block sees in full run without a
mask; only the edge tiles pay for masking. Non-causal attention is the same walk with every row
placed at position kv_len - 1 and no window.
"""

from __future__ import annotations

import dataclasses

import torch
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor

from kernels.swa.checks import UNBOUNDED, Problem, Windows, check_prefill
from kernels.swa.dequant import (
    DEQUANTIZE_BUDGET_BYTES,
    TouchedPages,
    dequantized_cache,
    pages_contiguous,
    touched_pages,
)
from kernels.swa.intmath import cdiv, next_power_of_2
from kernels.swa.tiles import (
    MASK_BAND,
    MASK_CAUSAL,
    MASK_EDGES,
    MASK_FULL,
    MASK_NONE,
    NEG_BIG,
    KernelConfig,
    interpreted,
    kv_row_offsets,
    load_k_tile,
    load_v_tile,
    query_operands,
    softmax_scores,
    tile_scores,
    to_compute,
)

LOG2E = 1.4426950408889634

#: Candidate configs on CUDA, all correctness-tested on the GPU and timed by the sweeps.
CUDA_CONFIGS = (
    KernelConfig(block_m=128, block_n=64, num_warps=8, num_stages=3),
    KernelConfig(block_m=128, block_n=128, num_warps=8, num_stages=2),
    KernelConfig(block_m=64, block_n=64, num_warps=4, num_stages=3),
    KernelConfig(block_m=64, block_n=32, num_warps=4, num_stages=2),
    KernelConfig(block_m=128, block_n=64, num_warps=8, num_stages=3, tma=True),
    KernelConfig(block_m=128, block_n=128, num_warps=8, num_stages=2, tma=True),
    KernelConfig(block_m=128, block_n=64, num_warps=4, num_stages=3, tma=True),
    KernelConfig(block_m=64, block_n=64, num_warps=4, num_stages=3, tma=True),
    KernelConfig(block_m=64, block_n=64, num_warps=4, num_stages=3, tma=True, pack_gqa=True),
    KernelConfig(block_m=128, block_n=64, num_warps=8, num_stages=3, tma=True, pack_gqa=True),
    KernelConfig(block_m=128, block_n=64, num_warps=4, num_stages=3, tma=True, pack_gqa=True),
    KernelConfig(block_m=128, block_n=128, num_warps=8, num_stages=2, tma=True, pack_gqa=True),
    KernelConfig(block_m=64, block_n=64, num_warps=4, num_stages=3, pack_gqa=True),
    KernelConfig(block_m=128, block_n=64, num_warps=8, num_stages=3, pack_gqa=True),
    KernelConfig(block_m=64, block_n=64, num_warps=4, num_stages=2, tma=True),
    KernelConfig(block_m=128, block_n=64, num_warps=4, num_stages=2, tma=True, pack_gqa=True),
    KernelConfig(block_m=256, block_n=64, num_warps=8, num_stages=2, tma=True, pack_gqa=True),
    KernelConfig(block_m=256, block_n=64, num_warps=8, num_stages=3, tma=True, pack_gqa=True),
    # 32-key tiles: 150-178 registers instead of 198, three blocks an SM instead of two
    KernelConfig(block_m=64, block_n=32, num_warps=4, num_stages=2, tma=True),
    KernelConfig(block_m=64, block_n=32, num_warps=4, num_stages=3, tma=True),
)
#: Under the interpreter small tiles keep numpy work per program low.
INTERPRETER_CONFIGS = (
    KernelConfig(block_m=16, block_n=16, num_warps=4, num_stages=1, pack_gqa=True),
    KernelConfig(block_m=16, block_n=16, num_warps=4, num_stages=1),
    KernelConfig(block_m=32, block_n=16, num_warps=4, num_stages=1),
    KernelConfig(block_m=16, block_n=16, num_warps=4, num_stages=1, tma=True),
    KernelConfig(block_m=32, block_n=16, num_warps=4, num_stages=1, pack_gqa=True),
    KernelConfig(block_m=16, block_n=16, num_warps=4, num_stages=1, tma=True, pack_gqa=True),
    # 32-key tiles: sink tiles (16 keys) narrower than the band's, as on the GPU
    KernelConfig(block_m=16, block_n=32, num_warps=4, num_stages=1, tma=True),
)


#: From this band length on, 128-row packed blocks win (fewer edge tiles per key visited)...
LONG_BAND = 2048
#: ...and under this one, 64x32 tiles (a block sees only a few tiles of keys; small tiles keep three blocks an SM).
SHORT_BAND = 256


def default_config(
    q: torch.Tensor, head_dim: int, quantized: bool = False, local_window: int | None = None
) -> KernelConfig:
    """The fastest config per band length in config sweeps on an H200 (``benchmarks/kernels_bench.py``,
    GPU kernel time, interleaved rounds): TMA loads with 128-row GQA-packed blocks on long bands and for int8
    caches (each int8 tile converted once for 4 heads outweighs the registers that block spills),
    64x64 TMA tiles with a 2-deep pipeline on medium bands, and 64x32 TMA tiles on short bands
    (150 registers: three blocks an SM; 5% faster than 256-row GQA-packed blocks at L127, measured
    on that one short-band case)."""
    if interpreted(q):
        return INTERPRETER_CONFIGS[0]
    if head_dim > 128:  # a 256-wide Q block and K/V stages of the larger tiles would overflow shared memory
        return KernelConfig(block_m=64, block_n=32, num_warps=4, num_stages=2)
    if quantized:
        return KernelConfig(block_m=128, block_n=64, num_warps=4, num_stages=2, tma=True, pack_gqa=True)
    band = UNBOUNDED if local_window is None else local_window
    if band >= LONG_BAND:
        return KernelConfig(block_m=128, block_n=64, num_warps=4, num_stages=3, tma=True, pack_gqa=True)
    if band < SHORT_BAND:
        return KernelConfig(block_m=64, block_n=32, num_warps=4, num_stages=2, tma=True)
    return KernelConfig(block_m=64, block_n=64, num_warps=4, num_stages=2, tma=True)


def split_band(local: int) -> bool:
    """Whether the band is walked as one loop per mask kind rather than one loop with a masking
    branch. One loop fills the K/V pipeline once per program: 4-7% faster on bands of 127 and
    1023 keys (H200, ``benchmarks/kernels_bench.py``), and up to 6% slower on 4095-key bands."""
    return local >= LONG_BAND


def sink_block(sinks: int, block_n: int) -> int:
    """Width of the sink tiles: the fewest keys (a power of two, 16 at least: the MMA's smallest
    N) that cover the sinks, at most ``block_n``. G = 4 or 16 sinks then cost a 16-key tile per
    program instead of a 64-key one, most of it masked."""
    return min(block_n, max(16, next_power_of_2(max(sinks, 1))))


def gqa_pack(group: int, block_m: int) -> int:
    """Query heads per program: the largest power of two dividing the GQA group (so a program's
    heads share one KV head in either grouping) that leaves the block at least one position."""
    pack = 1
    while group % (pack * 2) == 0 and pack * 2 <= block_m:
        pack *= 2
    return pack


@triton.constexpr_function
def walk_mask(walk: int, split_band: bool) -> int:
    """The mask of each of _prefill_kernel's walks, in key order: sinks, then a long band's lower
    edge, fully masked left part, middle and diagonal, or a shorter band with its edges masked in
    a branch and the tile past kv_len."""
    if split_band:
        return (MASK_BAND, MASK_BAND, MASK_FULL, MASK_NONE, MASK_CAUSAL)[walk]
    return (MASK_BAND, MASK_EDGES, MASK_FULL)[walk]


@triton.jit
def _walk(
    acc,
    m_i,
    l_i,
    q,
    q_lo,
    K,
    V,
    DESC_K,
    DESC_V,
    head,
    kvh,
    bt_row,
    lo,
    hi,
    offs_n,
    kv_len,
    offs_d,
    d_mask,
    p_rows,
    local,
    sinks,
    qk_scale,
    stride_kp,
    stride_ks,
    clear_lo,
    clear_hi,
    PAGE: tl.constexpr,
    PAGE_ALIGNED: tl.constexpr,
    BLOCK_N: tl.constexpr,
    MASK: tl.constexpr,
    COMPUTE_DTYPE: tl.constexpr,
    USE_TMA: tl.constexpr,
    NUM_KV_HEADS: tl.constexpr,
    SPLIT_Q: tl.constexpr,
):
    """Online softmax over the KV tiles [lo, hi), each masked as ``MASK`` says (MASK_EDGES: every
    tile outside [clear_lo, clear_hi), which every row sees whole). ``SPLIT_Q``: q and q_lo are
    tiles.split_query's int8 parts and K tiles stay int8."""
    # Only the diagonal and the fully masked walks can hold a tile that reaches past kv_len.
    PAST_KV_LEN: tl.constexpr = (MASK == MASK_CAUSAL) | (MASK == MASK_FULL)
    for start in range(lo, hi, BLOCK_N):
        n = start + offs_n
        if USE_TMA:  # the tile lies in one page: rows (page, kvh, slot..slot+BLOCK_N) of the cache as 2-D
            page = tl.load(bt_row + start // PAGE)
            row = (page * NUM_KV_HEADS + kvh) * PAGE + start % PAGE
            k_t = tl.trans(DESC_K.load([row, 0]))
        else:
            rows = kv_row_offsets(bt_row, start, offs_n, kv_len, PAGE, PAGE_ALIGNED, stride_kp, stride_ks)
            k_t = load_k_tile(K, head, rows, n, kv_len, offs_d, d_mask)
        qk = tile_scores(q, q_lo, k_t, COMPUTE_DTYPE, SPLIT_Q)
        probs, alpha, m_i, l_i = softmax_scores(
            m_i, l_i, qk, n, kv_len, p_rows, local, sinks, qk_scale, MASK, (start < clear_lo) | (start >= clear_hi)
        )
        if USE_TMA:
            v = DESC_V.load([row, 0])
            if PAST_KV_LEN:  # slots past kv_len hold whatever the pool holds (maybe NaN): 0 * NaN must not reach acc
                v = tl.where((n < kv_len)[:, None], v, 0.0)
        else:
            v = load_v_tile(V, head, rows, n, kv_len, offs_d, d_mask)
        acc = acc * alpha[:, None] + tl.dot(probs.to(COMPUTE_DTYPE), to_compute(v, COMPUTE_DTYPE))
    return acc, m_i, l_i


@triton.jit
def _prefill_kernel(
    Q,
    K,
    V,
    DESC_K,
    DESC_V,
    KS,
    VS,
    O,
    CU_Q,
    SEQ_KV,
    BT,
    stride_qt,
    stride_qh,
    stride_ot,
    stride_oh,
    stride_kp,
    stride_kh,
    stride_ks,
    stride_bt,
    qk_scale,
    local,
    sinks,
    GROUP: tl.constexpr,
    PACK: tl.constexpr,
    NUM_KV_HEADS: tl.constexpr,
    INTERLEAVE: tl.constexpr,
    HEAD_DIM: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    PAGE: tl.constexpr,
    PAGE_ALIGNED: tl.constexpr,
    CAUSAL: tl.constexpr,
    HAS_SEQ_KV: tl.constexpr,
    QUANT: tl.constexpr,
    UPCAST: tl.constexpr,
    USE_TMA: tl.constexpr,
    BLOCK_S: tl.constexpr,
    SPLIT_BAND: tl.constexpr,
):
    # A program's BLOCK_M rows are BLOCK_P query positions x PACK query heads of one KV head
    # (row r: position r // PACK, head r % PACK), so each K/V tile it loads serves PACK heads.
    BLOCK_P: tl.constexpr = BLOCK_M // PACK
    SUBGROUPS: tl.constexpr = GROUP // PACK
    pid_m = tl.program_id(0)
    b = tl.program_id(1)
    pid_h = tl.program_id(2)
    q_start = tl.load(CU_Q + b)
    q_len = tl.load(CU_Q + b + 1) - q_start
    m0 = pid_m * BLOCK_P
    if m0 >= q_len:
        return
    if HAS_SEQ_KV:
        kv_len = tl.load(SEQ_KV + b)
    else:
        kv_len = q_len
    if kv_len <= 0:
        return
    kvh = pid_h // SUBGROUPS
    offs_r = tl.arange(0, BLOCK_M)
    g = (pid_h % SUBGROUPS) * PACK + offs_r % PACK  # index of each row's head inside its KV group
    if INTERLEAVE:
        heads = kvh + g * NUM_KV_HEADS
    else:
        heads = kvh * GROUP + g
    if UPCAST:
        COMPUTE_DTYPE: tl.constexpr = tl.float32
    elif QUANT:  # int8 tiles convert to fp16 in 1.25 instructions a value (tiles.int8_to_fp16)
        COMPUTE_DTYPE: tl.constexpr = tl.float16
    else:
        COMPUTE_DTYPE: tl.constexpr = Q.dtype.element_ty

    offs_m = m0 + offs_r // PACK
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, BLOCK_D)
    d_mask = offs_d < HEAD_DIM
    row_mask = offs_m < q_len
    q_ptrs = Q + (q_start + offs_m).to(tl.int64)[:, None] * stride_qt + heads[:, None] * stride_qh + offs_d[None, :]
    q = tl.load(q_ptrs, mask=row_mask[:, None] & d_mask[None, :], other=0.0)
    # int8 keys meet q on int8 tensor cores (the MMA's K dimension is 32 at least); V still converts
    SPLIT_Q: tl.constexpr = QUANT and BLOCK_D >= 32
    q, q_lo, qk_scale = query_operands(
        q, KS, kvh, offs_d, d_mask, qk_scale, HEAD_DIM, QUANT, SPLIT_Q, UPCAST, COMPUTE_DTYPE
    )

    prefix = kv_len - q_len
    if CAUSAL:
        p_rows = prefix + offs_m
        p0 = prefix + m0
        p1 = tl.minimum(prefix + m0 + BLOCK_P, kv_len) - 1
    else:  # every row sees all kv_len keys: place it at the last position, no window
        p_rows = tl.full([BLOCK_M], 0, tl.int32) + kv_len - 1
        p0 = kv_len - 1
        p1 = kv_len - 1
    # Key ranges, in tiles: sinks [0, sink_hi); the band [band_lo, hi), of which [mid_lo, mid_hi) is
    # seen whole by every row (inside every row's window and causally visible to all) and needs no
    # mask; the band's lower edge before it and the diagonal after it are masked. Where the band is
    # narrower than the block the lower edge reaches past the keys every row sees causally (full_hi).
    hi = p1 + 1
    band_lo = (tl.maximum(p0 - local, 0) // BLOCK_N) * BLOCK_N
    band_lo = tl.minimum(band_lo, (hi // BLOCK_N) * BLOCK_N)
    sink_hi = tl.minimum(sinks, band_lo)
    full_lo = tl.cdiv(tl.maximum(p1 - local, 0), BLOCK_N) * BLOCK_N  # keys every row sees inside the band...
    full_hi = (tl.minimum(p0 + 1, kv_len) // BLOCK_N) * BLOCK_N  # ...and causally
    mid_lo = tl.maximum(band_lo, full_lo)
    mid_hi = tl.maximum(mid_lo, full_hi)

    head = kvh.to(tl.int64) * stride_kh
    bt_row = BT + b.to(tl.int64) * stride_bt
    m_i = tl.full([BLOCK_M], NEG_BIG, tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
    # The walks in key order, unrolled at compile time (each its own loop, its tiles masked as its
    # MASK says). First the sinks: their tiles lie wholly before the band (band_lo >= BLOCK_N when
    # there are any), so their keys at or past G are out of every window and their keys below G are
    # causally visible: a band mask. They are BLOCK_S keys wide (a few sinks do not pay for a whole
    # BLOCK_N tile), loaded through pointers when narrower than the TMA descriptors' tile.
    # Long bands (SPLIT_BAND): a walk per mask kind (lower edge, fully masked left part, middle,
    # diagonal), each paying only for the comparisons its tiles can fail. Shorter bands: the band up
    # to the last whole tile of keys as one loop, so its K/V pipeline fills once per program, the
    # tiles outside [mid_lo, mid_hi) taking the full mask in a branch; a tile that reaches past
    # kv_len (only the last query blocks see one) is walked on its own.
    for walk in tl.static_range(5 if SPLIT_BAND else 3):
        if walk == 0:
            walk_hi = sink_hi
        elif SPLIT_BAND:
            if walk == 1:
                left_hi = tl.minimum(mid_lo, hi)
                edge_hi = tl.maximum(band_lo, tl.minimum(left_hi, full_hi))
                lo = band_lo
                walk_hi = edge_hi
            elif walk == 2:
                lo = edge_hi
                walk_hi = left_hi
            elif walk == 3:
                lo = mid_lo
                walk_hi = mid_hi
            else:
                lo = mid_hi
                walk_hi = hi
        elif walk == 1:
            tail_lo = tl.maximum(band_lo, tl.minimum(hi, (kv_len // BLOCK_N) * BLOCK_N))
            lo = band_lo
            walk_hi = tail_lo
        else:
            lo = tail_lo
            walk_hi = hi
        # what differs between walks at compile time is chosen in the call (an assignment would
        # make a runtime value of it)
        acc, m_i, l_i = _walk(
            acc,
            m_i,
            l_i,
            q,
            q_lo,
            K,
            V,
            DESC_K,
            DESC_V,
            head,
            kvh,
            bt_row,
            0 if walk == 0 else lo,
            walk_hi,
            tl.arange(0, BLOCK_S) if walk == 0 else offs_n,
            kv_len,
            offs_d,
            d_mask,
            p_rows,
            local,
            sinks,
            qk_scale,
            stride_kp,
            stride_ks,
            mid_lo if walk == 1 and not SPLIT_BAND else 0,
            mid_hi if walk == 1 and not SPLIT_BAND else 0,
            PAGE,
            PAGE_ALIGNED,
            BLOCK_S if walk == 0 else BLOCK_N,
            walk_mask(walk, SPLIT_BAND),
            COMPUTE_DTYPE,
            (USE_TMA and BLOCK_S == BLOCK_N) if walk == 0 else USE_TMA,
            NUM_KV_HEADS,
            SPLIT_Q,
        )

    out = tl.where(l_i[:, None] > 0, acc / tl.where(l_i > 0, l_i, 1.0)[:, None], 0.0)
    if QUANT:
        v_scale = tl.load(VS + kvh * HEAD_DIM + offs_d, mask=d_mask, other=0.0).to(tl.float32)
        out = out * v_scale[None, :]
    o_ptrs = O + (q_start + offs_m).to(tl.int64)[:, None] * stride_ot + heads[:, None] * stride_oh + offs_d[None, :]
    tl.store(o_ptrs, out.to(O.dtype.element_ty), mask=row_mask[:, None] & d_mask[None, :])


def paged_prefill_with_config(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    cu_seqlens_q: torch.Tensor,
    seqlens_kv: torch.Tensor | None,
    block_tables: torch.Tensor,
    *,
    config: KernelConfig | None = None,
    local_window: int | None = None,
    global_window: int | None = None,
    causal: bool = True,
    softmax_scale: float | None = None,
    gqa_interleave: bool = False,
    k_scale: torch.Tensor | None = None,
    v_scale: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
    dequantize: bool | None = None,
) -> torch.Tensor:
    """:func:`paged_prefill` with an explicit launch config (benchmarks and config sweeps use it).
    ``dequantize`` picks the int8 path: True converts the touched pages first (kernels.swa.dequant),
    False converts each tile inside the kernel, None (default) converts first where it can."""
    problem = check_prefill(
        q,
        k_cache,
        v_cache,
        cu_seqlens_q,
        seqlens_kv,
        block_tables,
        local_window=local_window,
        global_window=global_window,
        causal=causal,
        softmax_scale=softmax_scale,
        k_scale=k_scale,
        v_scale=v_scale,
        out=out,
    )
    q, layout, windows, tables = problem.q, problem.layout, problem.windows, problem.tables
    _, q_heads, head_dim = q.shape
    result = problem.out if problem.out is not None else torch.empty_like(q)
    if problem.batch == 0 or problem.max_q_len == 0:
        return result

    local, sinks = _kernel_windows(windows, causal)
    plan = _plan(q, k_cache, problem, config, dequantize, local, sinks)
    config = plan.config
    if plan.path == "two-step":  # the touched pages once into a transient bf16 cache, then the bf16 kernel
        k_cache, v_cache, tables = dequantized_cache(k_cache, v_cache, k_scale, v_scale, tables, plan.pages, q.dtype)
        k_scale = v_scale = None
        layout = dataclasses.replace(layout, num_pages=plan.pages.total, quantized=False)
    page_aligned = layout.page_size % config.block_n == 0
    use_tma = (
        config.tma and page_aligned and head_dim in (64, 128) and k_cache.is_contiguous() and v_cache.is_contiguous()
    )
    desc_k = desc_v = None
    if use_tma:
        rows = layout.num_pages * layout.num_kv_heads * layout.page_size
        desc_k = TensorDescriptor(k_cache, [rows, head_dim], [head_dim, 1], [config.block_n, head_dim])
        desc_v = TensorDescriptor(v_cache, [rows, head_dim], [head_dim, 1], [config.block_n, head_dim])
    group = q_heads // layout.num_kv_heads
    pack = gqa_pack(group, config.block_m) if config.pack_gqa else 1
    grid = (cdiv(problem.max_q_len, config.block_m // pack), problem.batch, q_heads // pack)
    _prefill_kernel[grid](
        q,
        k_cache,
        v_cache,
        desc_k,
        desc_v,
        k_scale,
        v_scale,
        result,
        cu_seqlens_q,
        seqlens_kv,
        tables,
        q.stride(0),
        q.stride(1),
        result.stride(0),
        result.stride(1),
        k_cache.stride(0),
        k_cache.stride(1),
        k_cache.stride(2),
        tables.stride(0),
        problem.scale * LOG2E,
        local,
        sinks,
        GROUP=group,
        PACK=pack,
        NUM_KV_HEADS=layout.num_kv_heads,
        INTERLEAVE=gqa_interleave,
        HEAD_DIM=head_dim,
        BLOCK_D=max(16, next_power_of_2(head_dim)),
        BLOCK_M=config.block_m,
        BLOCK_N=config.block_n,
        PAGE=layout.page_size,
        PAGE_ALIGNED=page_aligned,
        CAUSAL=causal,
        HAS_SEQ_KV=seqlens_kv is not None,
        QUANT=layout.quantized,
        UPCAST=interpreted(q),
        USE_TMA=use_tma,
        BLOCK_S=sink_block(sinks, config.block_n),
        SPLIT_BAND=split_band(local),
        num_warps=config.num_warps,
        num_stages=config.num_stages,
    )
    return result


def int8_path(q: torch.Tensor, k_cache: torch.Tensor, dequantize: bool | None = None) -> str:
    """Which path an int8 prefill takes: "two-step" (pages dequantized first, then the bf16 kernel
    and its config; a call whose touched pages exceed the budget still runs fused) or "fused"; an
    explicit request it cannot honour fails."""
    possible = q.dtype == torch.bfloat16 and pages_contiguous(k_cache)
    if dequantize and not possible:
        raise ValueError("dequantize=True needs bfloat16 q and caches with contiguous pages; pass dequantize=None")
    return "two-step" if (possible if dequantize is None else dequantize) else "fused"


def _kernel_windows(windows: Windows, causal: bool) -> tuple[int, int]:
    """(local, sinks) as the kernel applies them: non-causal attention sees every key, no window."""
    return (windows.local, windows.sinks) if causal else (UNBOUNDED, 0)


@dataclasses.dataclass(frozen=True)
class LaunchPlan:
    """What a prefill call runs: its int8 path ("two-step", "fused"; None for bf16/fp16 caches), the
    kernel config, and for the two-step path the pages it dequantizes first."""

    path: str | None
    config: KernelConfig
    pages: TouchedPages | None = None


def _plan(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    problem: Problem,
    config: KernelConfig | None,
    dequantize: bool | None,
    local: int,
    sinks: int,
) -> LaunchPlan:
    """The one place the path and config are chosen: two-step runs the bf16 kernel with its config,
    unless the touched pages exceed the budget (then the fused kernel keeps its own default config)."""
    layout, head_dim = problem.layout, q.shape[2]
    if layout.quantized and int8_path(q, k_cache, dequantize) == "two-step":
        bf16_config = config or default_config(q, head_dim, False, local)
        pages = touched_pages(problem.q_lens, problem.kv_lens, layout.page_size, local, sinks, bf16_config.block_n)
        if pages.total and (pages.total * k_cache[0].numel() * 4 <= DEQUANTIZE_BUDGET_BYTES or dequantize):
            return LaunchPlan("two-step", bf16_config, pages)
    return LaunchPlan(
        "fused" if layout.quantized else None, config or default_config(q, head_dim, layout.quantized, local)
    )


def launch_plan(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    cu_seqlens_q: torch.Tensor,
    seqlens_kv: torch.Tensor | None,
    block_tables: torch.Tensor,
    *,
    local_window: int | None = None,
    global_window: int | None = None,
    causal: bool = True,
    k_scale: torch.Tensor | None = None,
    v_scale: torch.Tensor | None = None,
    dequantize: bool | None = None,
) -> LaunchPlan:
    """The path and config :func:`paged_prefill` runs for these arguments (checked as it checks them):
    what perfci's worker annotates a result with, so the annotation cannot drift from the launch."""
    problem = check_prefill(
        q,
        k_cache,
        v_cache,
        cu_seqlens_q,
        seqlens_kv,
        block_tables,
        local_window=local_window,
        global_window=global_window,
        causal=causal,
        softmax_scale=None,
        k_scale=k_scale,
        v_scale=v_scale,
        out=None,
    )
    return _plan(problem.q, k_cache, problem, None, dequantize, *_kernel_windows(problem.windows, causal))


def paged_prefill(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    cu_seqlens_q: torch.Tensor,
    seqlens_kv: torch.Tensor | None,
    block_tables: torch.Tensor,
    *,
    local_window: int | None = None,
    global_window: int | None = None,
    causal: bool = True,
    softmax_scale: float | None = None,
    gqa_interleave: bool = False,
    k_scale: torch.Tensor | None = None,
    v_scale: torch.Tensor | None = None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Varlen paged prefill: ``q (T, Hq, D)`` packed by ``cu_seqlens_q``; keys/values already in the
    paged cache (``seqlens_kv`` counts them, new tokens included; None means kv_len = q_len).
    Returns ``(T, Hq, D)`` in q's dtype. Semantics: docs/spec/swa-kernels.md sections 1-3."""
    return paged_prefill_with_config(
        q,
        k_cache,
        v_cache,
        cu_seqlens_q,
        seqlens_kv,
        block_tables,
        local_window=local_window,
        global_window=global_window,
        causal=causal,
        softmax_scale=softmax_scale,
        gqa_interleave=gqa_interleave,
        k_scale=k_scale,
        v_scale=v_scale,
        out=out,
    )
