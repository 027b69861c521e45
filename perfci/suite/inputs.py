"""Seeded paged-cache inputs for the suite, the kernel tests and benchmarks.

Pages are shuffled across the pool, rows past each sequence's pages are -1, K/V differ per KV head
(so a wrong head mapping fails), int8 caches span the full range with per-(head, channel) scales.
Generated on the target device with a device generator, so GPU-sized caches build in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def default_device() -> str:
    """CUDA when present, else the CPU (where the kernels run under Triton's interpreter)."""
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class PagedInputs:
    q: torch.Tensor
    k_cache: torch.Tensor
    v_cache: torch.Tensor
    block_tables: torch.Tensor
    kv_lens: list[int]
    k_scale: torch.Tensor | None = None
    v_scale: torch.Tensor | None = None
    cu_seqlens_q: torch.Tensor | None = None
    seqlens_kv: torch.Tensor | None = None
    seqlens: torch.Tensor | None = None

    def args(self) -> tuple[torch.Tensor, ...]:
        """The kernels' positional arguments: (q, k_cache, v_cache, cu_seqlens_q, seqlens_kv,
        block_tables) for prefill inputs, (q, k_cache, v_cache, seqlens, block_tables) for decode."""
        if self.cu_seqlens_q is not None:
            return (self.q, self.k_cache, self.v_cache, self.cu_seqlens_q, self.seqlens_kv, self.block_tables)
        return (self.q, self.k_cache, self.v_cache, self.seqlens, self.block_tables)

    def cache_kwargs(self) -> dict:
        return {"k_scale": self.k_scale, "v_scale": self.v_scale}


def paged_cache(
    kv_lens: list[int],
    kv_heads: int,
    head_dim: int,
    page_size: int,
    dtype: torch.dtype,
    device: str,
    generator: torch.Generator,
    extra_pages: int = 3,
    pad_pages: int = 2,
):
    """K/V caches holding each sequence in shuffled physical pages, -1 beyond the used pages."""
    pages_per_seq = [-(-n // page_size) for n in kv_lens]
    used = sum(pages_per_seq)
    num_pages = used + extra_pages
    width = max([*pages_per_seq, 1]) + pad_pages
    order = torch.randperm(num_pages, generator=generator, device=device)[:used].to(torch.int32)
    rows = torch.arange(width, device=device)[None, :]
    counts = torch.tensor(pages_per_seq, device=device, dtype=torch.int64)[:, None]
    offsets = torch.cumsum(counts, 0) - counts
    used_mask = rows < counts
    tables = torch.full((len(kv_lens), width), -1, dtype=torch.int32, device=device)
    tables[used_mask] = order[(offsets + rows)[used_mask]] if used else order[:0]
    shape = (num_pages, kv_heads, page_size, head_dim)
    if dtype == torch.int8:
        k = torch.randint(-128, 128, shape, generator=generator, dtype=torch.int8, device=device)
        v = torch.randint(-128, 128, shape, generator=generator, dtype=torch.int8, device=device)
        # per-(KV head, channel) scales spanning two orders of magnitude
        k_scale = torch.rand((kv_heads, head_dim), generator=generator, device=device) * 0.02 + 0.0005
        v_scale = torch.rand((kv_heads, head_dim), generator=generator, device=device) * 0.02 + 0.0005
        return k, v, tables, k_scale, v_scale
    # distinct K/V per KV head (an offset per head) so a wrong head mapping fails loudly
    head_offset = torch.arange(kv_heads, dtype=torch.float32, device=device).view(1, kv_heads, 1, 1) * 0.5
    k = torch.empty(shape, dtype=dtype, device=device)
    v = torch.empty(shape, dtype=dtype, device=device)
    for cache, sign in ((k, 1.0), (v, -1.0)):
        for head in range(kv_heads):  # per head keeps the float32 temporary at 1/Hkv of the cache
            noise = torch.randn(shape[:1] + shape[2:], generator=generator, device=device)
            cache[:, head] = (noise + sign * head_offset[0, head]).to(dtype)
    return k, v, tables, None, None


def _seeded_cache(
    kv_lens: list[int], kv_heads: int, head_dim: int, page_size: int, dtype: torch.dtype, device: str | None, seed: int
) -> tuple[str, torch.Generator, tuple]:
    """The device, its seeded generator (q is drawn from it next) and the paged cache."""
    device = device or default_device()
    generator = torch.Generator(device=device).manual_seed(seed)
    return device, generator, paged_cache(kv_lens, kv_heads, head_dim, page_size, dtype, device, generator)


def _inputs(
    q_rows: int,
    kv_lens: list[int],
    q_heads: int,
    kv_heads: int,
    head_dim: int,
    page_size: int,
    dtype: torch.dtype,
    cache_dtype: torch.dtype | None,
    device: str | None,
    seed: int,
) -> PagedInputs:
    """The paged cache, then q (drawn after it from the same generator), without the length tensors."""
    device, generator, (k, v, tables, k_scale, v_scale) = _seeded_cache(
        kv_lens, kv_heads, head_dim, page_size, cache_dtype or dtype, device, seed
    )
    q = torch.randn((q_rows, q_heads, head_dim), generator=generator, device=device).to(dtype)
    return PagedInputs(q, k, v, tables, list(kv_lens), k_scale, v_scale)


def prefill_inputs(
    q_lens: list[int],
    kv_lens: list[int],
    q_heads: int,
    kv_heads: int,
    head_dim: int,
    page_size: int,
    dtype: torch.dtype = torch.bfloat16,
    cache_dtype: torch.dtype | None = None,
    device: str | None = None,
    seed: int = 0,
) -> PagedInputs:
    x = _inputs(sum(q_lens), kv_lens, q_heads, kv_heads, head_dim, page_size, dtype, cache_dtype, device, seed)
    cumulative = torch.tensor(q_lens).cumsum(0).tolist()
    x.cu_seqlens_q = torch.tensor([0, *cumulative], dtype=torch.int32, device=x.q.device)
    x.seqlens_kv = torch.tensor(kv_lens, dtype=torch.int32, device=x.q.device)
    return x


def decode_inputs(
    kv_lens: list[int],
    q_heads: int,
    kv_heads: int,
    head_dim: int,
    page_size: int,
    dtype: torch.dtype = torch.bfloat16,
    cache_dtype: torch.dtype | None = None,
    device: str | None = None,
    seed: int = 0,
) -> PagedInputs:
    x = _inputs(len(kv_lens), kv_lens, q_heads, kv_heads, head_dim, page_size, dtype, cache_dtype, device, seed)
    x.seqlens = torch.tensor(kv_lens, dtype=torch.int32, device=x.q.device)
    return x
