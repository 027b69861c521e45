"""Argument validation shared by the kernels and the references: every misuse names its argument.

The kernels index memory with these shapes, so a wrong one must fail here, never as a silent wrong
answer or an out-of-bounds read. Validation reads only metadata (shapes, dtypes, devices): no
device synchronisation.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch

QUERY_DTYPES = (torch.bfloat16, torch.float16)
CACHE_DTYPES = (torch.bfloat16, torch.float16, torch.int8)
SCALE_DTYPES = (torch.float32, torch.bfloat16)
#: Stand-in for "no local window limit" (plain causal): larger than any sequence.
UNBOUNDED = 1 << 30
MAX_PAGE_SIZE = 4096


@dataclass(frozen=True)
class Windows:
    """The mask of docs/spec/swa-kernels.md section 1 as two integers the kernels can compare against.

    A key k is visible to query position p iff k <= p and (p - k <= local or k < sinks).
    ``local = -1`` switches the band off (only sinks set); ``sinks = 0`` switches sinks off.
    """

    local: int
    sinks: int

    @classmethod
    def from_args(cls, local_window: int | None, global_window: int | None) -> Windows:
        for name, value in (("local_window", local_window), ("global_window", global_window)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{name} must be None or an int >= 0, got {value!r}")
        if local_window is None and global_window is None:
            return cls(local=UNBOUNDED, sinks=0)
        return cls(
            local=-1 if local_window is None else min(local_window, UNBOUNDED),
            sinks=0 if global_window is None else min(global_window, UNBOUNDED),
        )


@dataclass(frozen=True)
class CacheLayout:
    num_pages: int
    num_kv_heads: int
    page_size: int
    head_dim: int
    quantized: bool


def _require_tensor(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    return value


def _require_int32_vector(name: str, value: object, length: int | None, device: torch.device) -> torch.Tensor:
    tensor = _require_tensor(name, value)
    if tensor.dtype != torch.int32:
        raise TypeError(f"{name} must be an int32 tensor, got {tensor.dtype}; convert with .to(torch.int32)")
    if tensor.dim() != 1 or (length is not None and tensor.shape[0] != length):
        want = f"({length},)" if length is not None else "1-D"
        raise ValueError(f"{name} must be of shape {want}, got {tuple(tensor.shape)}")
    if tensor.device != device:
        raise ValueError(f"{name} is on {tensor.device} but q is on {device}; put every tensor on one device")
    return tensor


def check_cache(
    k_cache: object,
    v_cache: object,
    k_scale: object,
    v_scale: object,
    *,
    q_heads: int,
    head_dim: int,
    device: torch.device,
) -> CacheLayout:
    """Layout of the paged K/V caches, their dtype contract and (for int8) the scale contract."""
    k = _require_tensor("k_cache", k_cache)
    v = _require_tensor("v_cache", v_cache)
    for name, tensor in (("k_cache", k), ("v_cache", v)):
        if tensor.dim() != 4:
            raise ValueError(f"{name} must be (num_pages, Hkv, page_size, D), got shape {tuple(tensor.shape)}")
        if tensor.dtype not in CACHE_DTYPES:
            raise TypeError(f"{name} dtype {tensor.dtype} is not supported; use bf16, fp16 or int8")
        if tensor.device != device:
            raise ValueError(f"{name} is on {tensor.device} but q is on {device}; put every tensor on one device")
        if tensor.stride(-1) != 1:
            raise ValueError(f"{name} must be contiguous in its last dimension (D)")
    if k.shape != v.shape:
        raise ValueError(f"k_cache {tuple(k.shape)} and v_cache {tuple(v.shape)} must have the same shape")
    if k.stride() != v.stride():
        raise ValueError(f"k_cache strides {k.stride()} and v_cache strides {v.stride()} must match")
    if k.dtype != v.dtype:
        raise TypeError(f"k_cache ({k.dtype}) and v_cache ({v.dtype}) must have the same dtype")
    num_pages, kv_heads, page_size, cache_dim = k.shape
    if cache_dim != head_dim:
        raise ValueError(f"k_cache head dim {cache_dim} differs from q head dim {head_dim}")
    if kv_heads == 0 or q_heads % kv_heads != 0:
        raise ValueError(f"query heads ({q_heads}) must be a multiple of k_cache KV heads ({kv_heads})")
    if page_size < 1 or page_size > MAX_PAGE_SIZE or page_size & (page_size - 1):
        raise ValueError(f"k_cache page_size {page_size} cannot be tiled; use a power of two from 1 to {MAX_PAGE_SIZE}")
    quantized = k.dtype == torch.int8
    if quantized:
        for name, scale in (("k_scale", k_scale), ("v_scale", v_scale)):
            if scale is None:
                raise ValueError(f"int8 k_cache/v_cache need {name} of shape (Hkv={kv_heads}, D={head_dim})")
            tensor = _require_tensor(name, scale)
            if tuple(tensor.shape) != (kv_heads, head_dim):
                raise ValueError(
                    f"{name} must have shape (Hkv={kv_heads}, D={head_dim}) (one scale per KV head and channel), "
                    f"got {tuple(tensor.shape)}"
                )
            if tensor.dtype not in SCALE_DTYPES:
                raise TypeError(f"{name} must be float32 or bfloat16, got {tensor.dtype}")
            if tensor.device != device:
                raise ValueError(f"{name} is on {tensor.device} but q is on {device}")
    elif k_scale is not None or v_scale is not None:
        raise ValueError(f"k_scale/v_scale are only for int8 caches; this cache is {k.dtype}")
    return CacheLayout(num_pages, kv_heads, page_size, head_dim, quantized)


def check_query(q: object, rank: int, layout: str) -> torch.Tensor:
    tensor = _require_tensor("q", q)
    if tensor.dim() != rank:
        raise ValueError(f"q must be {layout}, got shape {tuple(tensor.shape)}")
    if tensor.dtype not in QUERY_DTYPES:
        raise TypeError(f"q dtype {tensor.dtype} is not supported; use bf16 or fp16")
    if tensor.stride(-1) != 1:
        raise ValueError("q must be contiguous in its last dimension (D)")
    if tensor.shape[-1] < 1 or tensor.shape[-1] > 256:
        raise ValueError(f"q head dim {tensor.shape[-1]} is not supported; use 1 to 256")
    return tensor


def check_block_tables(block_tables: object, batch: int, device: torch.device) -> torch.Tensor:
    tensor = _require_tensor("block_tables", block_tables)
    if tensor.dtype != torch.int32:
        raise TypeError(f"block_tables must be int32, got {tensor.dtype}; convert with .to(torch.int32)")
    if tensor.dim() != 2 or tensor.shape[0] != batch:
        raise ValueError(f"block_tables must be (B={batch}, max_pages_per_seq), got {tuple(tensor.shape)}")
    if tensor.device != device:
        raise ValueError(f"block_tables is on {tensor.device} but q is on {device}")
    if tensor.stride(-1) != 1:
        raise ValueError("block_tables must be contiguous in its last dimension")
    return tensor


def check_out(out: object, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor | None:
    if out is None:
        return None
    tensor = _require_tensor("out", out)
    if tuple(tensor.shape) != shape or tensor.dtype != dtype or tensor.device != device:
        raise ValueError(
            f"out must be {shape} {dtype} on {device} (like q), "
            f"got {tuple(tensor.shape)} {tensor.dtype} on {tensor.device}"
        )
    if tensor.stride(-1) != 1:
        raise ValueError("out must be contiguous in its last dimension (D)")
    return tensor


def softmax_scale_or_default(softmax_scale: float | None, head_dim: int) -> float:
    if softmax_scale is None:
        return 1.0 / math.sqrt(head_dim)
    if not isinstance(softmax_scale, int | float) or not math.isfinite(softmax_scale) or softmax_scale <= 0:
        raise ValueError(f"softmax_scale must be a finite float > 0, got {softmax_scale!r}")
    return float(softmax_scale)


def check_capacity(name: str, block_tables: torch.Tensor, page_size: int, lengths: torch.Tensor) -> None:
    """Lengths must fit in each sequence's block-table row (one host read; skipped on CUDA-graph capture)."""
    if lengths.numel() == 0:
        return
    if lengths.is_cuda and torch.cuda.is_current_stream_capturing():
        return
    _check_extremes(name, block_tables, page_size, *torch.stack(lengths.aminmax()).tolist())


def _check_extremes(name: str, block_tables: torch.Tensor, page_size: int, shortest: int, longest: int) -> None:
    capacity = block_tables.shape[1] * page_size
    if shortest < 0:
        raise ValueError(f"{name} has a negative length ({shortest})")
    if longest > capacity:
        raise ValueError(
            f"{name} has a sequence of {longest} tokens but block_tables holds {block_tables.shape[1]} pages x "
            f"{page_size} = {capacity}; widen block_tables"
        )


@dataclass(frozen=True)
class Problem:
    """Validated arguments of one call: what both the kernel and the reference need."""

    q: torch.Tensor
    layout: CacheLayout
    windows: Windows
    scale: float
    batch: int
    tables: torch.Tensor
    out: torch.Tensor | None
    max_q_len: int = 1
    #: Prefill: per-sequence query and key counts as host ints (from the one host read of the checks).
    q_lens: tuple[int, ...] = ()
    kv_lens: tuple[int, ...] = ()


def _check_lengths(
    cu_seqlens_q: torch.Tensor, seqlens_kv: torch.Tensor | None, total: int, tables: torch.Tensor, page_size: int
) -> tuple[list[int], list[int]]:
    """Host-side validation of the varlen metadata, read in one transfer (each host read stalls the
    caller until the GPU's queue drains) and checked as Python ints (torch ops on a few dozen
    values cost more than the loop); returns the q and kv lengths (they size the grid)."""
    metadata = cu_seqlens_q if seqlens_kv is None else torch.cat((cu_seqlens_q, seqlens_kv))
    host = metadata.to("cpu", torch.int64).tolist()
    starts = host[: cu_seqlens_q.shape[0]]
    if starts[0] != 0 or starts[-1] != total:
        raise ValueError(f"cu_seqlens_q must start at 0 and end at T={total}, got {starts[0]}..{starts[-1]}")
    q_lens = [end - start for start, end in itertools.pairwise(starts)]
    if any(n < 0 for n in q_lens):
        raise ValueError("cu_seqlens_q must be non-decreasing")
    kv_lens = q_lens
    if seqlens_kv is not None:
        kv_lens = host[cu_seqlens_q.shape[0] :]
        if any(n < 0 for n in kv_lens):
            raise ValueError("seqlens_kv must be >= 0")
        for index, (kv_len, q_len) in enumerate(zip(kv_lens, q_lens, strict=True)):
            if kv_len < q_len and q_len > 0 and kv_len > 0:
                raise ValueError(
                    f"seqlens_kv[{index}] = {kv_len} is shorter than its q_len {q_len}; "
                    "seqlens_kv counts every key including the new tokens"
                )
    if kv_lens:
        _check_extremes("seqlens_kv", tables, page_size, min(kv_lens), max(kv_lens))
    return q_lens, kv_lens


def _check_common(
    q: object,
    q_layout: str,
    k_cache: object,
    v_cache: object,
    k_scale: object,
    v_scale: object,
    local_window: int | None,
    global_window: int | None,
    softmax_scale: float | None,
) -> tuple[torch.Tensor, CacheLayout, Windows, float]:
    """What prefill and decode check alike: q, the caches and scales, the windows, the softmax scale."""
    q = check_query(q, 3, q_layout)
    _, q_heads, head_dim = q.shape
    layout = check_cache(k_cache, v_cache, k_scale, v_scale, q_heads=q_heads, head_dim=head_dim, device=q.device)
    return q, layout, Windows.from_args(local_window, global_window), softmax_scale_or_default(softmax_scale, head_dim)


def check_prefill(
    q: object,
    k_cache: object,
    v_cache: object,
    cu_seqlens_q: object,
    seqlens_kv: object,
    block_tables: object,
    *,
    local_window: int | None,
    global_window: int | None,
    causal: object,
    softmax_scale: float | None,
    k_scale: object,
    v_scale: object,
    out: object,
) -> Problem:
    """Every argument of paged_prefill (one host read of the varlen metadata)."""
    q, layout, windows, scale = _check_common(
        q, "(T, Hq, D)", k_cache, v_cache, k_scale, v_scale, local_window, global_window, softmax_scale
    )
    cu_seqlens_q = _require_int32_vector("cu_seqlens_q", cu_seqlens_q, None, q.device)
    if cu_seqlens_q.shape[0] < 1:
        raise ValueError("cu_seqlens_q must be of shape (B+1,) and start with 0, got an empty tensor")
    batch = cu_seqlens_q.shape[0] - 1
    if seqlens_kv is not None:
        seqlens_kv = _require_int32_vector("seqlens_kv", seqlens_kv, batch, q.device)
    tables = check_block_tables(block_tables, batch, q.device)
    checked_out = check_out(out, tuple(q.shape), q.dtype, q.device)
    if not isinstance(causal, bool):
        raise TypeError(f"causal must be a bool, got {causal!r}")
    q_lens, kv_lens = _check_lengths(cu_seqlens_q, seqlens_kv, q.shape[0], tables, layout.page_size)
    return Problem(
        q, layout, windows, scale, batch, tables, checked_out, max(q_lens, default=0), tuple(q_lens), tuple(kv_lens)
    )


def check_decode(
    q: object,
    k_cache: object,
    v_cache: object,
    seqlens: object,
    block_tables: object,
    *,
    local_window: int | None,
    global_window: int | None,
    softmax_scale: float | None,
    k_scale: object,
    v_scale: object,
    out: object,
    host_capacity_check: bool,
) -> Problem:
    """Every argument of paged_decode. ``host_capacity_check=False`` skips the one check that reads
    seqlens on the host (CUDA: the kernel poisons such rows with NaN instead of syncing)."""
    q, layout, windows, scale = _check_common(
        q, "(B, Hq, D)", k_cache, v_cache, k_scale, v_scale, local_window, global_window, softmax_scale
    )
    batch = q.shape[0]
    seqlens = _require_int32_vector("seqlens", seqlens, batch, q.device)
    tables = check_block_tables(block_tables, batch, q.device)
    checked_out = check_out(out, tuple(q.shape), q.dtype, q.device)
    if host_capacity_check:
        check_capacity("seqlens", tables, layout.page_size, seqlens)
    return Problem(q, layout, windows, scale, batch, tables, checked_out)
