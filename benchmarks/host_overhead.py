"""Where the host time of one prefill call goes: the int8 paths against bf16, on the GPU.

Usage (GPU): python benchmarks/host_overhead.py --out host-overhead.json [--calls 50]

The prefill checks read the lengths on the host (a sync), so every host step after them is time
the GPU waits. For B2 x 4096, L1023, G16, page 64 (kernels_bench's case) and each path (bf16, int8
two-step, int8 fused) this records: the wall time of a call on the host, synchronised before and
after (median of ``--calls``); the call timed as kernels_bench's ``api`` field times it (CUDA events
after an L2 flush, triton's do_bench); and cProfile's functions over ten synchronised calls, by cumulative
time per call (a host read of the lengths shows up as the GPU queue draining: ``tolist``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from kernels.swa import prefill
from perfci.measure.cuda_timing import time_with_events
from perfci.suite.inputs import prefill_inputs

BATCH, Q_LEN, WINDOW, SINKS, PAGE = 2, 4096, 1023, 16, 64
PATHS = {"bf16": (None, None), "int8-two-step": (torch.int8, True), "int8-fused": (torch.int8, False)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    report = {"device": torch.cuda.get_device_name(), "paths": {}}
    for name, (cache_dtype, dequantize) in PATHS.items():
        x = prefill_inputs(
            [Q_LEN] * BATCH,
            [Q_LEN] * BATCH,
            q_heads=32,
            kv_heads=8,
            head_dim=128,
            page_size=PAGE,
            cache_dtype=cache_dtype,
            device="cuda",
            seed=1,
        )

        def call(x=x, dequantize=dequantize if cache_dtype is not None else None) -> None:
            prefill.paged_prefill_with_config(
                *x.args(), local_window=WINDOW, global_window=SINKS, **x.cache_kwargs(), dequantize=dequantize
            )

        for _ in range(3):
            call()
        torch.cuda.synchronize()
        host_ms, total_ms = [], []
        for _ in range(args.calls):
            torch.cuda.synchronize()
            start = time.perf_counter()
            call()
            launched = time.perf_counter()
            torch.cuda.synchronize()
            host_ms.append((launched - start) * 1e3)
            total_ms.append((time.perf_counter() - start) * 1e3)
        events_ms = statistics.median(time_with_events(call))
        profiler = cProfile.Profile()
        for _ in range(10):
            torch.cuda.synchronize()
            profiler.runcall(call)
        torch.cuda.synchronize()
        stats = pstats.Stats(profiler).stats
        functions = sorted(stats.items(), key=lambda item: item[1][3], reverse=True)[:25]
        report["paths"][name] = {
            "host_ms": statistics.median(host_ms),
            "call_to_sync_ms": statistics.median(total_ms),
            "events_after_flush_ms": events_ms,
            "functions": [
                {
                    "function": f"{Path(file).name}:{line}:{function}",
                    "calls": count / 10,
                    "own_us": own * 1e5,
                    "cumulative_us": cumulative * 1e5,
                }
                for (file, line, function), (_, count, own, cumulative, _) in functions
            ],
        }
        print(
            f"{name:16s} host {statistics.median(host_ms):.3f} ms, to sync {statistics.median(total_ms):.3f} ms, "
            f"events after a flush {events_ms:.3f} ms"
        )
        for row in report["paths"][name]["functions"]:
            print(
                f"    {row['function'][:70]:70s} x{row['calls']:<5.1f} own {row['own_us']:7.1f} us  "
                f"cum {row['cumulative_us']:7.1f} us"
            )
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
