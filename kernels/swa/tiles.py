"""Triton building blocks shared by prefill and decode: paged KV addressing and the masked tile.

Paged addressing: logical token n of a sequence lives in page ``block_table[n // PAGE]`` at slot
``n % PAGE``. When a KV tile never straddles a page (``PAGE % BLOCK_N == 0``) one page index per
tile is loaded; otherwise each row looks its page up. Offsets are int64 so pages far into a large
pool (past 2^31 elements) do not wrap. Rows at or beyond ``kv_len`` are never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import triton
import triton.language as tl

#: Running-max start value: finite, so a fully masked first tile gives exp2(-inf - m) = 0 and
#: alpha = exp2(m - m) = 1 instead of exp2(-inf + inf) = NaN (the "-inf minus -inf" bug).
NEG_BIG = tl.constexpr(-1.0e30)


@dataclass(frozen=True)
class KernelConfig:
    """One launch configuration; every listed config is tested for correctness, not only the default."""

    block_m: int
    block_n: int
    num_warps: int
    num_stages: int
    #: Load K/V tiles with the Hopper bulk tensor copy engine (TMA) where a tile sits in one page.
    tma: bool = False
    #: Prefill: a program's rows are positions x query heads of one KV group, so K/V tiles are
    #: loaded (and int8 ones converted) once per group of heads, not once per head.
    pack_gqa: bool = False

    @property
    def label(self) -> str:
        """Short name for command lines and tables, e.g. ``128x64w4s3-tma-pack``."""
        flags = ("-tma" if self.tma else "") + ("-pack" if self.pack_gqa else "")
        return f"{self.block_m}x{self.block_n}w{self.num_warps}s{self.num_stages}{flags}"

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "BLOCK_M": self.block_m,
            "BLOCK_N": self.block_n,
            "num_warps": self.num_warps,
            "num_stages": self.num_stages,
            "TMA": self.tma,
            "PACK_GQA": self.pack_gqa,
        }


def interpreted(tensor: torch.Tensor) -> bool:
    """True when the kernels run under Triton's CPU interpreter (CPU tensors)."""
    return not tensor.is_cuda


@triton.jit
def kv_row_offsets(
    bt_row,
    start,
    offs_n,
    kv_len,
    PAGE: tl.constexpr,
    PAGE_ALIGNED: tl.constexpr,
    stride_page,
    stride_slot,
    HOIST: tl.constexpr = False,
):
    """int64 element offsets of tokens ``start + offs_n`` (page base + slot), without the head term.
    ``HOIST`` (page-aligned tiles only) adds a loop-invariant per-row term to a scalar base: fewer
    instructions per tile but more live registers, which pays in int8 decode only (H200,
    ``benchmarks/kernels_bench.py``)."""
    if PAGE_ALIGNED and HOIST:
        page = tl.load(bt_row + start // PAGE).to(tl.int64)
        base = page * stride_page + (start % PAGE) * stride_slot
        return base + offs_n.to(tl.int64) * stride_slot
    n = start + offs_n
    if PAGE_ALIGNED:
        page = tl.load(bt_row + start // PAGE).to(tl.int64)
        pages = tl.full(n.shape, 0, tl.int64) + page
    else:
        pages = tl.load(bt_row + n // PAGE, mask=n < kv_len, other=0).to(tl.int64)
    return pages * stride_page + (n % PAGE).to(tl.int64) * stride_slot


@triton.jit
def load_k_tile(K, head, rows, n, kv_len, offs_d, d_mask):
    """K as (BLOCK_D, BLOCK_N) through per-row pointers; rows past ``kv_len`` read as zeros."""
    return tl.load(K + head + rows[None, :] + offs_d[:, None], mask=(n < kv_len)[None, :] & d_mask[:, None], other=0.0)


@triton.jit
def load_v_tile(V, head, rows, n, kv_len, offs_d, d_mask):
    """V as (BLOCK_N, BLOCK_D); loaded after the scores so the V tile is not live during QK^T."""
    return tl.load(V + head + rows[:, None] + offs_d[None, :], mask=(n < kv_len)[:, None] & d_mask[None, :], other=0.0)


#: Which part of the mask of docs/spec/swa-kernels.md section 1 a KV tile needs (a constexpr per walk, so
#: each loop only pays for the comparisons its tiles can fail).
MASK_NONE = tl.constexpr(0)  # every row sees every key of the tile
MASK_CAUSAL = tl.constexpr(1)  # only n <= p can fail (diagonal tiles)
MASK_BAND = tl.constexpr(2)  # only the band's lower edge can fail: p - n <= L or n < G (and sink tiles)
MASK_FULL = tl.constexpr(3)  # everything, including n < kv_len
MASK_EDGES = tl.constexpr(4)  # MASK_FULL on the tiles flagged ``edge`` (a runtime branch), none on the rest


def _int8x4_to_fp16x2(word: str, low: str, high: str) -> str:
    """PTX: the four int8 of ``word`` -> fp16 pairs (bytes 0, 1) in ``low`` and (2, 3) in ``high``.
    xor 0x80 makes each byte u = x + 128; u placed under the fp16 exponent of 1024 reads as 1024 + u;
    subtracting 1152 leaves x, exactly. 5 instructions per 4 values: Triton's own int8 -> bf16 cast
    takes 8 and its int8 -> fp16 cast one quarter-rate I2F per value. Needs registers u, hi, bias."""
    return f"""
        xor.b32 u, {word}, 0x80808080;
        mov.b32 hi, 0x64646464;
        mov.b32 bias, 0x64806480;
        prmt.b32 {low}, u, hi, 0x4140;
        prmt.b32 {high}, u, hi, 0x4342;
        sub.f16x2 {low}, {low}, bias;
        sub.f16x2 {high}, {high}, bias;"""


_INT8X4_TO_FP16 = tl.constexpr("{ .reg .b32 u, hi, bias;" + _int8x4_to_fp16x2("$2", "$0", "$1") + " }")
_INT32_TO_FP16X4 = tl.constexpr(
    "{ .reg .b32 u, hi, bias, lo01, lo23;"
    + _int8x4_to_fp16x2("$4", "lo01", "lo23")
    + " mov.b32 {$0, $1}, lo01; mov.b32 {$2, $3}, lo23; }"
)


@triton.jit
def int8_to_fp16(x):
    """int8 -> fp16 with the PTX of :func:`_int8x4_to_fp16x2`, four values a call. GPU only."""
    return tl.inline_asm_elementwise(
        asm=_INT8X4_TO_FP16, constraints="=r,=r,r", args=[x], dtype=tl.float16, is_pure=True, pack=4
    )


def int8_words(cache: torch.Tensor) -> bool:
    """Whether an int8 cache can be read as int32 words of four channels (GPU only: the conversion
    is inline PTX): every stride and the base address must be multiples of four bytes."""
    return (
        cache.dtype == torch.int8
        and not interpreted(cache)
        and all(stride % 4 == 0 for stride in cache.stride()[:-1])
        and cache.shape[-1] % 4 == 0
        and cache.data_ptr() % 4 == 0
    )


@triton.jit
def load_v_words(V, head, rows, n, kv_len, BLOCK_D: tl.constexpr, HEAD_DIM: tl.constexpr):
    """An int8 V tile as (BLOCK_N, BLOCK_D // 4) int32 words: loaded and converted in a row-major
    layout, so Triton transposes it for the MMA as 16-bit values (``ldmatrix.trans``), not byte
    by byte, as it does when the int8 tile itself feeds the dot."""
    offs_w = tl.arange(0, BLOCK_D // 4)
    words = V.to(tl.pointer_type(tl.int32)) + ((head + rows) >> 2)[:, None] + offs_w[None, :]
    return tl.load(words, mask=(n < kv_len)[:, None] & (offs_w < HEAD_DIM // 4)[None, :], other=0)


@triton.jit
def int8_words_to_fp16(w):
    """Four int8 packed in each int32 of ``w`` (..., W) -> fp16 (..., 4 W), in the same order."""
    e0, e1, e2, e3 = tl.inline_asm_elementwise(
        asm=_INT32_TO_FP16X4,
        constraints="=h,=h,=h,=h,r",
        args=[w],
        dtype=(tl.float16, tl.float16, tl.float16, tl.float16),
        is_pure=True,
        pack=1,
    )
    x = tl.join(tl.join(e0, e2), tl.join(e1, e3))
    return tl.reshape(x, (w.shape[0], w.shape[1] * 4))


@triton.jit
def to_compute(x, dtype: tl.constexpr):
    """A K/V tile in the MMA's operand type: int8 tiles on the GPU go through :func:`int8_to_fp16`."""
    if x.dtype == tl.int8 and dtype == tl.float16:
        return int8_to_fp16(x)
    else:
        return x.to(dtype)


@triton.jit
def _fold_key_scales(q, KS, kvh, offs_d, d_mask, HEAD_DIM: tl.constexpr):
    """q times the K channel scales, in fp32: sum_d q_d (k_d s_d) = sum_d (q_d s_d) k_d."""
    k_scale = tl.load(KS + kvh * HEAD_DIM + offs_d, mask=d_mask, other=0.0).to(tl.float32)
    return q.to(tl.float32) * k_scale[None, :]


@triton.jit
def quantized_query(q, KS, kvh, offs_d, d_mask, qk_scale, HEAD_DIM: tl.constexpr, dtype: tl.constexpr):
    """q for an int8 cache, in the MMA's operand type, and the softmax scale to use with it. The K
    channel scales fold into q. fp16 operands hold int8 keys exactly and carry 3 more mantissa bits
    than bf16, but overflow past 65504: q is divided by its largest magnitude and that factor moves
    into the softmax scale."""
    q = _fold_key_scales(q, KS, kvh, offs_d, d_mask, HEAD_DIM)
    if dtype == tl.float16:
        q_max = tl.max(tl.max(tl.abs(q), 1), 0)
        norm = tl.where(q_max > 0, q_max, 1.0)
        q = q / norm
        qk_scale = qk_scale * norm
    return q.to(dtype), qk_scale


#: :func:`split_query`'s low part counts steps of 1/254 of the high part's step: |lo| <= 127.
LO_STEPS = tl.constexpr(254)


@triton.jit
def split_query(q, KS, kvh, offs_d, d_mask, qk_scale, HEAD_DIM: tl.constexpr, dtype: tl.constexpr):
    """q for int8 keys multiplied on int8 tensor cores, so no K tile is converted: q (times the K
    channel scales) = step * (hi + lo / 254) with integer hi, lo in [-127, 127] and step = max|q| / 127.
    The error is at most step / 508 a channel: for any q of D <= 128 channels no more than fp16's
    rounding of q (max|q| <= sqrt(D) * rms(q)). Returns hi, lo in ``dtype`` (int8 on the GPU; fp32 under
    the interpreter, which holds the same integers) and the softmax scale for :func:`split_scores`."""
    q = _fold_key_scales(q, KS, kvh, offs_d, d_mask, HEAD_DIM)
    q_max = tl.max(tl.max(tl.abs(q), 1), 0)
    step = tl.where(q_max > 0, q_max / 127.0, 1.0)
    x = q / step
    hi = tl.floor(x + 0.5)
    lo = tl.floor((x - hi) * LO_STEPS + 0.5)
    return hi.to(dtype), lo.to(dtype), qk_scale * step / LO_STEPS


@triton.jit
def split_scores(q_hi, q_lo, k_t):
    """Unscaled scores of int8 keys ``k_t`` for :func:`split_query`'s parts: hi.k * 254 + lo.k, exact
    in int32 (|hi.k| <= 127 * 127 * 128). Under the interpreter the same integers in fp32 (the dots are
    exact below 2^24; the sum rounds like the GPU's one int32 -> fp32 conversion)."""
    if q_hi.dtype == tl.int8:
        acc = tl.dot(q_hi, k_t, out_dtype=tl.int32) * LO_STEPS
        return tl.dot(q_lo, k_t, acc, out_dtype=tl.int32).to(tl.float32)
    else:
        k = k_t.to(tl.float32)
        return tl.dot(q_hi, k) * LO_STEPS + tl.dot(q_lo, k)


@triton.jit
def query_operands(
    q,
    KS,
    kvh,
    offs_d,
    d_mask,
    qk_scale,
    HEAD_DIM: tl.constexpr,
    QUANT: tl.constexpr,
    SPLIT_Q: tl.constexpr,
    UPCAST: tl.constexpr,
    COMPUTE_DTYPE: tl.constexpr,
):
    """q as the QK^T operands of both kernels, (q, q_lo, softmax scale): :func:`split_query`'s int8 parts
    where ``SPLIT_Q`` (int8 keys on int8 tensor cores), else q in ``COMPUTE_DTYPE`` (K channel scales
    folded in for an int8 cache) with q_lo the same tensor, unused."""
    if SPLIT_Q:
        q, q_lo, qk_scale = split_query(
            q, KS, kvh, offs_d, d_mask, qk_scale, HEAD_DIM, tl.float32 if UPCAST else tl.int8
        )
    else:
        if QUANT:
            q, qk_scale = quantized_query(q, KS, kvh, offs_d, d_mask, qk_scale, HEAD_DIM, COMPUTE_DTYPE)
        else:
            q = q.to(COMPUTE_DTYPE)
        q_lo = q
    return q, q_lo, qk_scale


@triton.jit
def tile_scores(q, q_lo, k_t, COMPUTE_DTYPE: tl.constexpr, SPLIT_Q: tl.constexpr):
    """Unscaled scores of one K tile (``k_t``: BLOCK_D x BLOCK_N) for :func:`query_operands`' q."""
    if SPLIT_Q:
        qk = split_scores(q, q_lo, k_t)
    else:
        qk = tl.dot(q, to_compute(k_t, COMPUTE_DTYPE))
    return qk


@triton.jit
def _full_mask(qk, n, kv_len, p_rows, local, sinks):
    """Scores of keys ``n`` that rows at ``p_rows`` may not see set to -inf: causality, kv_len,
    and the window unless the key is a sink (docs/spec/swa-kernels.md section 1)."""
    visible = (n[None, :] <= p_rows[:, None]) & (n < kv_len)[None, :]
    visible = visible & ((p_rows[:, None] - n[None, :] <= local) | (n[None, :] < sinks))
    return tl.where(visible, qk, float("-inf"))


@triton.jit
def softmax_scores(m_i, l_i, qk, n, kv_len, p_rows, local, sinks, qk_scale, MASK: tl.constexpr, edge=False):
    """The online-softmax bookkeeping of one KV tile's unscaled scores ``qk``: returns (p, alpha,
    m_new, l_new); the caller finishes with ``acc * alpha + p @ v``. ``p_rows`` are the query
    positions; ``MASK`` says which comparisons this tile needs (``edge``: whether a MASK_EDGES tile
    is masked). The softmax scale is applied inside the exponent's fused multiply-add (scale > 0, so
    the row max commutes with it)."""
    if MASK == MASK_EDGES:
        if edge:
            qk = _full_mask(qk, n, kv_len, p_rows, local, sinks)
    elif MASK == MASK_CAUSAL:
        qk = tl.where(n[None, :] <= p_rows[:, None], qk, float("-inf"))
    elif MASK == MASK_BAND:
        qk = tl.where((p_rows[:, None] - n[None, :] <= local) | (n[None, :] < sinks), qk, float("-inf"))
    elif MASK == MASK_FULL:
        qk = _full_mask(qk, n, kv_len, p_rows, local, sinks)
    m_new = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
    alpha = tl.math.exp2(m_i - m_new)
    p = tl.math.exp2(qk * qk_scale - m_new[:, None])
    return p, alpha, m_new, l_i * alpha + tl.sum(p, 1)
