"""Host cost of paged_prefill's argument checks and of the two-step int8 path's page list (CPU only:
no kernel, no GPU).

    python benchmarks/checks_bench.py

Prints microseconds per `check_prefill` call (best of 5 x 1000) for a 2- and a 16-sequence batch,
then per `dequant.touched_pages` call plus `dequant.page_ranges` (the int32 tensor of per-sequence
ranges the two-step path copies to the GPU), for batches from 128 to 65,536 pages (best of 5). On a
GPU every microsecond here is spent after the call's host read of the lengths, with the GPU idle.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from kernels.swa.checks import check_prefill
from kernels.swa.dequant import page_ranges, touched_pages
from perfci.suite.inputs import prefill_inputs


def main() -> None:
    options = {
        "local_window": 1023,
        "global_window": 16,
        "causal": True,
        "softmax_scale": None,
        "k_scale": None,
        "v_scale": None,
        "out": None,
    }
    for lengths in ([4096] * 2, [1024] * 16):
        x = prefill_inputs(lengths, lengths, 32, 8, 128, 64)
        args = x.args()
        for _ in range(200):
            check_prefill(*args, **options)
        rounds = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(1000):
                check_prefill(*args, **options)
            rounds.append((time.perf_counter() - start) * 1e3)
        print(f"B={len(lengths)}: {min(rounds):.1f} us per call (best of 5 x 1000)")
    # (batch, tokens per sequence, page size): the kernels_bench prefill shapes, then long batches of small pages
    for batch, tokens, page in ((2, 4096, 64), (16, 1024, 64), (64, 16384, 16), (8, 131072, 16)):
        lengths = (tokens,) * batch
        calls = max(1, 20000 // (batch * tokens // page))
        rounds = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(calls):
                pages = touched_pages(lengths, lengths, page, 1023, 16, 64)
                page_ranges(pages)
            rounds.append((time.perf_counter() - start) * 1e6 / calls)
        print(f"page list B={batch} x {tokens}, pages of {page} ({pages.total} pages): {min(rounds):.1f} us per call")


if __name__ == "__main__":
    main()
