"""Run a kernel and its float64 reference on the same inputs; judge by docs/spec/swa-kernels.md section 4."""

from __future__ import annotations

import torch

from kernels.swa import reference
from kernels.swa.decode import paged_decode_with_config
from kernels.swa.prefill import paged_prefill_with_config
from perfci.suite.inputs import PagedInputs

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
TOLERANCE = {torch.bfloat16: 1e-2, torch.float16: 5e-3}
INT8_TOLERANCE = 2e-2


def tolerance(x: PagedInputs) -> float:
    return INT8_TOLERANCE if x.k_scale is not None else TOLERANCE[x.q.dtype]


def assert_matches(out: torch.Tensor, ref: torch.Tensor, tol: float, rows: torch.Tensor | None = None) -> float:
    """rel = ||out - ref|| / ||ref|| <= tol, no NaN/Inf; ``rows`` selects the rows that must be written."""
    if rows is not None:
        out, ref = out[rows], ref[rows]
    assert torch.isfinite(out).all(), "NaN/Inf in the output (or a valid row was never written)"
    diff = (out.double() - ref).norm()
    norm = ref.norm()
    rel = (diff / norm).item() if norm > 0 else diff.item()
    assert rel <= tol, f"rel error {rel:.3e} > {tol:.0e}; max abs {(out.double() - ref).abs().max().item():.3e}"
    return rel


def run_prefill(x: PagedInputs, config=None, dequantize=None, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    """Kernel output (written into a NaN-poisoned buffer) and the float64 reference."""
    out = torch.full_like(x.q, float("nan"))
    paged_prefill_with_config(*x.args(), config=config, out=out, dequantize=dequantize, **x.cache_kwargs(), **kwargs)
    ref = reference.paged_prefill(*x.args(), **x.cache_kwargs(), **kwargs)
    return out, ref


def run_decode(x: PagedInputs, config=None, splits=None, **kwargs) -> tuple[torch.Tensor, torch.Tensor]:
    out = torch.full_like(x.q, float("nan"))
    paged_decode_with_config(*x.args(), config=config, splits=splits, out=out, **x.cache_kwargs(), **kwargs)
    ref = reference.paged_decode(*x.args(), **x.cache_kwargs(), **kwargs)
    return out, ref


def prefill_written_rows(x: PagedInputs) -> torch.Tensor:
    """Rows of sequences with q_len > 0 and kv_len > 0 (the others must stay untouched)."""
    cu = x.cu_seqlens_q.tolist()
    rows = torch.zeros(x.q.shape[0], dtype=torch.bool, device=x.q.device)
    for b, kv_len in enumerate(x.kv_lens):
        if kv_len > 0:
            rows[cu[b] : cu[b + 1]] = True
    return rows
