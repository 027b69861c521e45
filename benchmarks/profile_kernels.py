"""Run one suite case's kernel a few times, for Nsight Compute to profile (no timing of its own).

Usage (on a GPU machine):
    ncu --clock-control none --kernel-name regex:'prefill|decode' --launch-skip 2 --launch-count 1 \\
        --section SpeedOfLight --section Occupancy --section WarpStateStats --section ComputeWorkloadAnalysis \\
        --section MemoryWorkloadAnalysis --csv python3 benchmarks/profile_kernels.py CASE_ID[@CONFIG] ...

Each case's inputs are the suite's (perfci.suite.inputs, same seeds); the kernel runs 3 times per case,
with its default config or, after an ``@``, one of the op's ``CUDA_CONFIGS`` by label (``16x64w2s5``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from kernels.swa import decode, prefill
from perfci.suite.cases import tier
from perfci.suite.inputs import decode_inputs, prefill_inputs


def run(case_id: str, label: str | None = None, calls: int = 3) -> None:
    case = next((c for name in ("full", "smoke") for c in tier(name) if c.id == case_id), None)
    if case is None:
        raise SystemExit(f"{case_id}: not a case of the full or smoke tier")
    dtype = torch.bfloat16 if case.dtype == "bf16" else torch.float16
    cache_dtype = torch.int8 if case.cache == "int8" else None
    shape = {"q_heads": case.q_heads, "kv_heads": case.kv_heads, "head_dim": case.head_dim, "page_size": case.page_size}
    windows = {"local_window": case.local_window, "global_window": case.global_window}
    module = decode if case.op == "paged_decode" else prefill
    config = None
    if label is not None:
        config = next((c for c in module.CUDA_CONFIGS if c.label == label), None)
        if config is None:
            raise SystemExit(f"{label}: not one of {[c.label for c in module.CUDA_CONFIGS]}")
    if case.op == "paged_decode":
        x = decode_inputs(case.kv_lens(), dtype=dtype, cache_dtype=cache_dtype, device="cuda", seed=case.seed, **shape)
        call = lambda: decode.paged_decode_with_config(*x.args(), config=config, **x.cache_kwargs(), **windows)
    else:
        x = prefill_inputs(
            case.q_lens(), case.kv_lens(), dtype=dtype, cache_dtype=cache_dtype, device="cuda", seed=case.seed, **shape
        )
        call = lambda: prefill.paged_prefill_with_config(*x.args(), config=config, **x.cache_kwargs(), **windows)
    for _ in range(calls):
        call()
    torch.cuda.synchronize()
    print(f"ran {case_id} ({config.label if config else 'default'}) x{calls}", file=sys.stderr)


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        case_id, _, label = argument.partition("@")
        run(case_id, label or None)
