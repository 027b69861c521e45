"""The card's ceilings, measured on the card at every run (never taken from a datasheet)."""

from __future__ import annotations

import statistics

from perfci.measure.cuda_timing import time_cuda


def measure_ceilings(copy_bytes: int = 2 * 1024**3, gemm_n: int = 8192) -> dict[str, float]:
    """Device-to-device copy bandwidth (bytes read + written) and bf16 GEMM rate on random data."""
    import torch

    src = torch.empty(copy_bytes // 2, dtype=torch.bfloat16, device="cuda").normal_()
    dst = torch.empty_like(src)
    copy_ms = statistics.median(time_cuda(lambda: dst.copy_(src), "events"))
    a = torch.randn(gemm_n, gemm_n, dtype=torch.bfloat16, device="cuda")
    b = torch.randn(gemm_n, gemm_n, dtype=torch.bfloat16, device="cuda")
    gemm_ms = statistics.median(time_cuda(lambda: a @ b, "events"))
    return {
        "copy_gbps": 2 * copy_bytes / (copy_ms * 1e-3) / 1e9,
        "bf16_tflops": 2 * gemm_n**3 / (gemm_ms * 1e-3) / 1e12,
    }
