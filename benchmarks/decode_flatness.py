"""Is decode time flat in kv_len at a fixed window, and if not, is the page pool's span the cause?

Usage (GPU): python benchmarks/decode_flatness.py --out decode-flatness.json

Case: B32, 32x8 heads, d128, page 128, local window 4095 + 4 sinks, kv_len 8k / 32k / 128k. Two
variants, measured interleaved three times (CUDA-graph replay, median of 30 replays each):
- "pool sized to kv": the suite's inputs, whose page pool grows with kv_len (1 GB at 8k, 17 GB at
  128k); the live pages of every length are scattered over that pool.
- "one 128k pool": the 128k inputs for every length, with only seqlens shortened; the same live
  window sits in the same 17 GB span whatever kv_len says.
The kernel visits the same number of tiles in every case, so flat times are expected; if only the
first variant moves with kv_len, the span of the scattered pages (TLB reach) is what moves it.
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

SHAPE = {"q_heads": 32, "kv_heads": 8, "head_dim": 128, "page_size": 128}
BATCH, WINDOW, SINKS = 32, 4095, 4
LENGTHS = (8192, 32768, 131072)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    own = {kv: decode_inputs([kv] * BATCH, device="cuda", seed=1, **SHAPE) for kv in LENGTHS}
    big = own[max(LENGTHS)]
    calls = {}
    for kv in LENGTHS:
        x = own[kv]
        calls[("pool sized to kv", kv)] = lambda x=x: swa.paged_decode(
            *x.args(), local_window=WINDOW, global_window=SINKS
        )
        seqlens = torch.full((BATCH,), kv, dtype=torch.int32, device="cuda")
        calls[("one 128k pool", kv)] = lambda s=seqlens: swa.paged_decode(
            big.q, big.k_cache, big.v_cache, s, big.block_tables, local_window=WINDOW, global_window=SINKS
        )
    for call in calls.values():
        call()
    torch.cuda.synchronize()
    samples: dict[tuple[str, int], list[float]] = {key: [] for key in calls}
    for repeat in range(3):
        order = list(calls) if repeat % 2 == 0 else list(reversed(calls))
        for key in order:
            samples[key].append(statistics.median(time_with_graph(calls[key])))
    rows = [
        {"variant": variant, "kv_len": kv, "ms_per_repeat": values, "ms": statistics.median(values)}
        for (variant, kv), values in samples.items()
    ]
    for row in rows:
        print(f"{row['variant']:18} kv {row['kv_len']:6d}: {row['ms']:.4f} ms  {row['ms_per_repeat']}")
    args.out.write_text(json.dumps({"device": torch.cuda.get_device_name(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
