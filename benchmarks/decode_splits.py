"""How many programs should split a decode's live KV range? Time every split count on one GPU.

Usage (GPU): python benchmarks/decode_splits.py --out decode-splits.json [--rounds 3]

Cases: 32x8 heads, d128, page 128, local window 4095 + 4 sinks (65 live 64-token tiles per
sequence), bf16 and int8 caches, B = 1 / 8 / 32 / 64 at kv 32k (B64: kv 16k). Each split count
(a constexpr: one compiled kernel each) is timed by CUDA-graph replay (decode kernel plus the merge),
in interleaved rounds; the report gives the median per split count next to ``choose_splits``'s pick,
so the heuristic can be checked against the best count for each shape and cache type.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from kernels.swa.checks import Windows
from kernels.swa.decode import choose_splits, default_config, paged_decode_with_config
from perfci.measure.cuda_timing import time_with_graph
from perfci.suite.inputs import decode_inputs

SHAPE = {"q_heads": 32, "kv_heads": 8, "head_dim": 128, "page_size": 128}
WINDOW, SINKS = 4095, 4
CASES = [(1, 32768), (8, 32768), (32, 32768), (64, 16384)]
SPLITS = (1, 2, 3, 4, 5, 6, 8, 12, 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    calls, picks = {}, {}
    for batch, kv_len in CASES:
        for cache_dtype in (None, torch.int8):
            x = decode_inputs([kv_len] * batch, cache_dtype=cache_dtype, device="cuda", seed=1, **SHAPE)
            name = f"b{batch}-kv{kv_len}-{'int8' if cache_dtype else 'bf16'}"
            config = default_config(x.q, SHAPE["page_size"], cache_dtype is not None)
            picks[name] = choose_splits(
                batch,
                SHAPE["kv_heads"],
                kv_len,
                Windows(WINDOW, SINKS),
                config.block_n,
                x.q.device,
                cache_dtype is not None,
            )
            out = torch.empty_like(x.q)
            for splits in sorted({*SPLITS, picks[name]}):
                calls[(name, splits)] = lambda x=x, splits=splits, out=out: paged_decode_with_config(
                    *x.args(), splits=splits, local_window=WINDOW, global_window=SINKS, **x.cache_kwargs(), out=out
                )
    for call in calls.values():
        call()
    torch.cuda.synchronize()
    samples: dict[tuple[str, int], list[float]] = {key: [] for key in calls}
    for repeat in range(args.rounds):
        for key in list(calls) if repeat % 2 == 0 else list(reversed(calls)):
            samples[key].append(statistics.median(time_with_graph(calls[key])))
    report = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "cases": []}
    for name, pick in picks.items():
        times = {splits: statistics.median(values) for (case, splits), values in samples.items() if case == name}
        best = min(times, key=times.get)
        report["cases"].append(
            {
                "case": name,
                "chosen": pick,
                "chosen_ms": times[pick],
                "best": best,
                "best_ms": times[best],
                "ms_by_splits": times,
                "rounds": args.rounds,
            }
        )
        print(
            f"{name:20s} chosen {pick:2d}: {times[pick]:.4f} ms   best {best:2d}: {times[best]:.4f} ms   "
            + " ".join(f"{s}:{t:.4f}" for s, t in times.items()),
            flush=True,
        )
    args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
