"""Is int8 decode bound by converting its tiles or by their size in bytes?

Usage (GPU): python benchmarks/decode_granularity.py --out decode-granularity.json [--rounds 3]

Three decodes of B64 x kv16k, 32x8 heads, local window 4095 + 4 sinks, page 128, default configs and
splits, timed by CUDA-graph replay in interleaved rounds. The cache is (page, KV head, slot, channel),
so a 64-token tile of one KV head is contiguous:
- bf16 cache, d128: 16 KB tiles (the reference);
- bf16 cache, d64: 8 KB tiles, the same bytes as int8 d128, no conversion;
- int8 cache, d128: 8 KB tiles, converted to fp16 in the kernel.
If bf16 d64 takes about half of bf16 d128, half-size tiles stream as well as full ones and int8's
shortfall is its conversion; if bf16 d64 is as slow as int8 d128, the tile size is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import kernels.swa as swa
from perfci.measure.cuda_timing import time_with_graph
from perfci.suite.inputs import decode_inputs

BATCH, KV_LEN, WINDOW, SINKS, PAGE = 64, 16384, 4095, 4, 128
VARIANTS = {"bf16-d128": (128, None), "bf16-d64": (64, None), "int8-d128": (128, torch.int8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    calls, nbytes = {}, {}
    for name, (head_dim, cache_dtype) in VARIANTS.items():
        x = decode_inputs(
            [KV_LEN] * BATCH,
            q_heads=32,
            kv_heads=8,
            head_dim=head_dim,
            page_size=PAGE,
            cache_dtype=cache_dtype,
            device="cuda",
            seed=1,
        )
        out = torch.empty_like(x.q)
        calls[name] = lambda x=x, out=out: swa.paged_decode(
            *x.args(), local_window=WINDOW, global_window=SINKS, **x.cache_kwargs(), out=out
        )
        live = min(KV_LEN, WINDOW + 1 + SINKS)
        nbytes[name] = BATCH * live * 8 * head_dim * x.k_cache.element_size() * 2  # K and V rows read
        calls[name]()
    torch.cuda.synchronize()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for repeat in range(args.rounds):
        for name in list(calls) if repeat % 2 == 0 else list(reversed(calls)):
            samples[name].append(statistics.median(time_with_graph(calls[name])))
    rows = []
    for name, values in samples.items():
        ms = statistics.median(values)
        rows.append(
            {
                "variant": name,
                "ms": ms,
                "ms_per_round": values,
                "kv_bytes": nbytes[name],
                "gbps": nbytes[name] / ms / 1e6,
            }
        )
        print(f"{name:10s} {ms:.4f} ms  {nbytes[name] / ms / 1e6:7.0f} GB/s of K/V rows", flush=True)
    args.out.write_text(json.dumps({"device": torch.cuda.get_device_name(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
