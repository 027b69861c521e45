"""Useful work of an SWA case (docs/spec/swa-kernels.md section 5): exact FLOPs and minimum bytes.

Independent of ``kernels/`` on purpose: perfci measures old commits whose kernels may differ, with
today's model. Masked work inside boundary tiles is never counted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

UNBOUNDED = 1 << 40


def _windows(local_window: int | None, global_window: int | None) -> tuple[int, int]:
    """(L, G) as integers: L = -1 switches the band off, G = 0 the sinks (section 1's None rules)."""
    if local_window is None and global_window is None:
        return UNBOUNDED, 0
    return (-1 if local_window is None else local_window), (0 if global_window is None else global_window)


def visible_keys(positions: np.ndarray | int, local_window: int | None, global_window: int | None) -> np.ndarray:
    """n(q) = min(q, L) + 1 + clamp(q - L, 0, G): keys visible to the query at absolute position q."""
    local, sinks = _windows(local_window, global_window)
    q = np.asarray(positions, dtype=np.int64)
    band = np.minimum(q, local) + 1 if local >= 0 else np.zeros_like(q)
    return np.where(q < 0, 0, band + np.clip(q - max(local, -1), 0, sinks))


def prefill_pairs(
    q_lens: Sequence[int],
    kv_lens: Sequence[int],
    local_window: int | None,
    global_window: int | None,
    causal: bool = True,
) -> int:
    """Visible (query, key) pairs of a varlen prefill, summed over sequences (per query head)."""
    total = 0
    for q_len, kv_len in zip(q_lens, kv_lens, strict=True):
        if q_len == 0 or kv_len == 0:
            continue
        if not causal:
            total += q_len * kv_len
            continue
        positions = np.arange(kv_len - q_len, kv_len, dtype=np.int64)
        total += int(visible_keys(positions, local_window, global_window).sum())
    return total


def prefill_flops(pairs: int, q_heads: int, head_dim: int) -> int:
    """QK^T and PV: 2 multiply-adds = 4 FLOPs per visible pair, per query head and channel."""
    return 4 * q_heads * head_dim * pairs


def decode_min_bytes(
    kv_lens: Sequence[int],
    local_window: int | None,
    global_window: int | None,
    *,
    q_heads: int,
    kv_heads: int,
    head_dim: int,
    q_elem: int,
    kv_elem: int,
    page_size: int,
    quantized: bool,
) -> int:
    """Each visible K and V row read once per KV head, q read and out written once, the block-table
    entries of the touched pages, and the scales for int8."""
    lens = np.asarray(kv_lens, dtype=np.int64)
    live = np.where(lens > 0, visible_keys(lens - 1, local_window, global_window), 0)
    kv_bytes = int(live.sum()) * kv_heads * head_dim * 2 * kv_elem
    qo_bytes = 2 * len(kv_lens) * q_heads * head_dim * q_elem
    pages = int(np.ceil(live / page_size).sum()) * 4  # int32 entries (a lower bound: windows may straddle pages)
    scales = 2 * kv_heads * head_dim * 4 if quantized else 0
    return kv_bytes + qo_bytes + pages + scales


def roofline_seconds(flops: float, nbytes: float, peak_flops: float, peak_bytes_per_s: float) -> float:
    """The floor: the larger of compute time and memory time at the measured ceilings."""
    return max(flops / peak_flops, nbytes / peak_bytes_per_s)
