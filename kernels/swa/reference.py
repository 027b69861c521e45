"""Float64 golden implementations of both ops: same signatures as the kernels, written for clarity.

Inputs are upcast to float64 (int8 caches dequantized with their per-(KV head, channel) scales),
the mask of docs/spec/swa-kernels.md section 1 is built explicitly, and rows with no visible key output 0
(never NaN). Without ``out`` the result is float64, so error measurements see the kernel's error only.
"""

from __future__ import annotations

import torch

from kernels.swa.checks import Windows, check_decode, check_prefill


def _gather(cache: torch.Tensor, scale: torch.Tensor | None, pages: torch.Tensor, length: int) -> torch.Tensor:
    """(Hkv, length, D) float64 of one sequence's keys or values, in logical order."""
    blocks = cache[pages.long()].to(torch.float64)  # (n_pages, Hkv, page, D)
    tokens = blocks.permute(1, 0, 2, 3).reshape(cache.shape[1], -1, cache.shape[3])[:, :length]
    if scale is not None:
        tokens = tokens * scale.to(torch.float64)[:, None, :]
    return tokens


def visible_mask(q_positions: torch.Tensor, kv_len: int, windows: Windows, causal: bool) -> torch.Tensor:
    """(len(q_positions), kv_len) bool: key k visible to the query at absolute position p."""
    k = torch.arange(kv_len, device=q_positions.device)[None, :]
    p = q_positions[:, None]
    if not causal:
        return torch.ones(p.shape[0], kv_len, dtype=torch.bool, device=q_positions.device)
    return (k <= p) & ((p - k <= windows.local) | (k < windows.sinks))


def _attend(
    q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, scale: float, kv_map: torch.Tensor
) -> torch.Tensor:
    """q (n, Hq, D) float64 against keys/values (Hkv, kv, D); mask (n, kv). Returns (n, Hq, D)."""
    k = keys[kv_map]  # (Hq, kv, D)
    v = values[kv_map]
    scores = torch.einsum("nhd,hkd->hnk", q, k) * scale
    scores = scores.masked_fill(~mask[None], float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True)
    row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
    weights = torch.exp(scores - row_max)  # exp(-inf) = 0 on masked keys
    total = weights.sum(dim=-1, keepdim=True)
    probs = torch.where(total > 0, weights / total.clamp_min(1e-300), torch.zeros_like(weights))
    return torch.einsum("hnk,hkd->nhd", probs, v)


def _kv_map(q_heads: int, kv_heads: int, gqa_interleave: bool, device: torch.device) -> torch.Tensor:
    heads = torch.arange(q_heads, device=device)
    return heads % kv_heads if gqa_interleave else heads // (q_heads // kv_heads)


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
    """Reference varlen paged prefill; see kernels.swa.paged_prefill for the contract."""
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
    q, layout, windows, scale, batch, tables = (
        problem.q,
        problem.layout,
        problem.windows,
        problem.scale,
        problem.batch,
        problem.tables,
    )
    q_heads = q.shape[1]
    starts = cu_seqlens_q.tolist()
    q_lens = [starts[i + 1] - starts[i] for i in range(batch)]
    kv_lens = q_lens if seqlens_kv is None else seqlens_kv.tolist()
    result = problem.out
    if result is None:  # float64 unless the caller gave a q-dtype buffer
        result = torch.zeros(q.shape, dtype=torch.float64, device=q.device)
    kv_map = _kv_map(q_heads, layout.num_kv_heads, gqa_interleave, q.device)
    for b in range(batch):
        q_len, kv_len = q_lens[b], kv_lens[b]
        if q_len == 0 or kv_len == 0:
            continue
        if q_len > kv_len:
            raise ValueError(f"sequence {b}: q_len {q_len} > kv_len {kv_len}; seqlens_kv includes the new tokens")
        pages = tables[b, : -(-kv_len // layout.page_size)]
        keys = _gather(k_cache, k_scale, pages, kv_len)
        values = _gather(v_cache, v_scale, pages, kv_len)
        positions = torch.arange(kv_len - q_len, kv_len, device=q.device)
        mask = visible_mask(positions, kv_len, windows, causal)
        chunk = q[starts[b] : starts[b + 1]].to(torch.float64)
        result[starts[b] : starts[b + 1]] = _attend(chunk, keys, values, mask, scale, kv_map).to(result.dtype)
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
    """Reference paged decode: one query per sequence at position seqlens[b] - 1."""
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
        host_capacity_check=True,
    )
    q, layout, windows, scale, tables = problem.q, problem.layout, problem.windows, problem.scale, problem.tables
    q_heads = q.shape[1]
    result = problem.out
    if result is None:  # float64 unless the caller gave a q-dtype buffer
        result = torch.zeros(q.shape, dtype=torch.float64, device=q.device)
    kv_map = _kv_map(q_heads, layout.num_kv_heads, gqa_interleave, q.device)
    for b, kv_len in enumerate(seqlens.tolist()):
        if kv_len == 0:
            result[b] = 0
            continue
        pages = tables[b, : -(-kv_len // layout.page_size)]
        keys = _gather(k_cache, k_scale, pages, kv_len)
        values = _gather(v_cache, v_scale, pages, kv_len)
        mask = visible_mask(torch.tensor([kv_len - 1], device=q.device), kv_len, windows, True)
        result[b] = _attend(q[b : b + 1].to(torch.float64), keys, values, mask, scale, kv_map)[0].to(result.dtype)
    return result
