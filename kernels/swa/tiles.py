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
        return {"BLOCK_M": self.block_m, "BLOCK_N": self.block_n, "num_warps": self.num_warps,
                "num_stages": self.num_stages, "TMA": self.tma, "PACK_GQA": self.pack_gqa}  # fmt: skip


def interpreted(tensor: torch.Tensor) -> bool:
    """True when the kernels run under Triton's CPU interpreter (CPU tensors)."""
    return not tensor.is_cuda


@triton.jit
def kv_row_offsets(
    bt_row, start, offs_n, kv_len, PAGE: tl.constexpr, PAGE_ALIGNED: tl.constexpr, stride_page, stride_slot
):
    """int64 element offsets of tokens ``start + offs_n`` (page base + slot), without the head term."""
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


#: Which part of the mask of swa-kernels.md section 1 a KV tile needs (a constexpr per walk, so
#: each loop only pays for the comparisons its tiles can fail).
MASK_NONE = tl.constexpr(0)  # every row sees every key of the tile
MASK_CAUSAL = tl.constexpr(1)  # only n <= p can fail (diagonal tiles)
MASK_BAND = tl.constexpr(2)  # only the band's lower edge can fail: p - n <= L or n < G (and sink tiles)
MASK_FULL = tl.constexpr(3)  # everything, including n < kv_len


@triton.jit
def softmax_scores(
    m_i, l_i, q, k_t, n, kv_len, p_rows, local, sinks, qk_scale, MASK: tl.constexpr, COMPUTE_DTYPE: tl.constexpr
):
    """Scores of one KV tile and the online-softmax bookkeeping: returns (p, alpha, m_new, l_new);
    the caller finishes with ``acc * alpha + p @ v``. ``p_rows`` are the query positions; ``MASK``
    says which comparisons this tile needs. The softmax scale is applied inside the exponent's
    fused multiply-add (scale > 0, so the row max commutes with it)."""
    qk = tl.dot(q, k_t.to(COMPUTE_DTYPE))
    if MASK == MASK_CAUSAL:
        qk = tl.where(n[None, :] <= p_rows[:, None], qk, float("-inf"))
    elif MASK == MASK_BAND:
        qk = tl.where((p_rows[:, None] - n[None, :] <= local) | (n[None, :] < sinks), qk, float("-inf"))
    elif MASK == MASK_FULL:
        visible = (n[None, :] <= p_rows[:, None]) & (n < kv_len)[None, :]
        visible = visible & ((p_rows[:, None] - n[None, :] <= local) | (n[None, :] < sinks))
        qk = tl.where(visible, qk, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(qk, 1) * qk_scale)
    alpha = tl.math.exp2(m_i - m_new)
    p = tl.math.exp2(qk * qk_scale - m_new[:, None])
    return p, alpha, m_new, l_i * alpha + tl.sum(p, 1)
