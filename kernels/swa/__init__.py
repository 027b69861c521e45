"""Sliding-window attention with sink tokens over a paged KV cache (docs/spec/swa-kernels.md is the contract)."""

from kernels.swa.decode import paged_decode
from kernels.swa.prefill import paged_prefill

__all__ = ["paged_decode", "paged_prefill"]
