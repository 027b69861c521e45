"""Seeded paged-cache inputs for kernel tests and benchmarks: shuffled pages, -1 padding, distinct heads."""

from __future__ import annotations

from dataclasses import dataclass

import torch


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

    def cache_kwargs(self) -> dict:
        return {"k_scale": self.k_scale, "v_scale": self.v_scale}


def paged_cache(
    kv_lens: list[int], kv_heads: int, head_dim: int, page_size: int, dtype: torch.dtype, device: str,
    generator: torch.Generator, extra_pages: int = 3, pad_pages: int = 2,
):  # fmt: skip
    """K/V caches holding each sequence in shuffled physical pages, -1 beyond the used pages."""
    pages_per_seq = [-(-n // page_size) for n in kv_lens]
    used = sum(pages_per_seq)
    num_pages = used + extra_pages
    width = max([*pages_per_seq, 1]) + pad_pages
    order = torch.randperm(num_pages, generator=generator)[:used]
    tables = torch.full((len(kv_lens), width), -1, dtype=torch.int32)
    cursor = 0
    for b, count in enumerate(pages_per_seq):
        tables[b, :count] = order[cursor : cursor + count].to(torch.int32)
        cursor += count
    shape = (num_pages, kv_heads, page_size, head_dim)
    if dtype == torch.int8:
        k = torch.randint(-128, 128, shape, generator=generator, dtype=torch.int8)
        v = torch.randint(-128, 128, shape, generator=generator, dtype=torch.int8)
        # per-(KV head, channel) scales spanning two orders of magnitude
        k_scale = (torch.rand((kv_heads, head_dim), generator=generator) * 0.02 + 0.0005).float()
        v_scale = (torch.rand((kv_heads, head_dim), generator=generator) * 0.02 + 0.0005).float()
        return k.to(device), v.to(device), tables.to(device), k_scale.to(device), v_scale.to(device)
    # distinct K/V per KV head (an offset per head) so a wrong head mapping fails loudly
    head_offset = torch.arange(kv_heads, dtype=torch.float32).view(1, kv_heads, 1, 1) * 0.5
    k = torch.randn(shape, generator=generator) + head_offset
    v = torch.randn(shape, generator=generator) - head_offset
    return k.to(dtype).to(device), v.to(dtype).to(device), tables.to(device), None, None


def prefill_inputs(
    q_lens: list[int], kv_lens: list[int], q_heads: int, kv_heads: int, head_dim: int, page_size: int,
    dtype: torch.dtype = torch.bfloat16, cache_dtype: torch.dtype | None = None, device: str = "cpu", seed: int = 0,
) -> PagedInputs:  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    k, v, tables, k_scale, v_scale = paged_cache(
        kv_lens, kv_heads, head_dim, page_size, cache_dtype or dtype, device, generator
    )
    total = sum(q_lens)
    q = torch.randn((total, q_heads, head_dim), generator=generator).to(dtype).to(device)
    cu = torch.tensor([0, *torch.tensor(q_lens).cumsum(0).tolist()], dtype=torch.int32, device=device)
    return PagedInputs(q, k, v, tables, list(kv_lens), k_scale, v_scale, cu_seqlens_q=cu,
                       seqlens_kv=torch.tensor(kv_lens, dtype=torch.int32, device=device))  # fmt: skip


def decode_inputs(
    kv_lens: list[int], q_heads: int, kv_heads: int, head_dim: int, page_size: int,
    dtype: torch.dtype = torch.bfloat16, cache_dtype: torch.dtype | None = None, device: str = "cpu", seed: int = 0,
) -> PagedInputs:  # fmt: skip
    generator = torch.Generator().manual_seed(seed)
    k, v, tables, k_scale, v_scale = paged_cache(
        kv_lens, kv_heads, head_dim, page_size, cache_dtype or dtype, device, generator
    )
    q = torch.randn((len(kv_lens), q_heads, head_dim), generator=generator).to(dtype).to(device)
    return PagedInputs(q, k, v, tables, list(kv_lens), k_scale, v_scale,
                       seqlens=torch.tensor(kv_lens, dtype=torch.int32, device=device))  # fmt: skip
