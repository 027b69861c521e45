"""CUDA timing: per-repetition events with the L2 flushed, or CUDA-graph replay for microsecond ops.

Compilation and autotuning happen in the caller's warm-up call, outside both timed regions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

TimingMode = Literal["events", "graph"]


def time_with_events(fn: Callable[[], object], *, warmup_ms: float = 25.0, rep_ms: float = 100.0) -> list[float]:
    """Milliseconds per call, one sample per repetition; L2 is flushed before each (triton's do_bench)."""
    import triton.testing

    return list(triton.testing.do_bench(fn, warmup=warmup_ms, rep=rep_ms, return_mode="all"))


def time_with_graph(fn: Callable[[], object], *, replay_ms: float = 2.0, replays: int = 30) -> list[float]:
    """Milliseconds per call: a graph of n back-to-back calls (about ``replay_ms`` long) is replayed
    ``replays`` times; each replay gives one sample (its time / n). No launch gaps, no L2 flush."""
    import torch

    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        fn()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(10):
            fn()
        end.record()
        torch.cuda.synchronize()
        estimate = max(start.elapsed_time(end) / 10, 1e-4)
        calls = max(1, min(2000, int(replay_ms / estimate)))
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            for _ in range(calls):
                fn()
        torch.cuda.synchronize()
        graph.replay()  # warm replay
        samples = []
        for _ in range(replays):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            graph.replay()
            end.record()
            torch.cuda.synchronize()
            samples.append(start.elapsed_time(end) / calls)
    return samples


def time_cuda(fn: Callable[[], object], mode: TimingMode, rep_ms: float = 100.0) -> list[float]:
    if mode == "graph":
        return time_with_graph(fn)
    return time_with_events(fn, rep_ms=rep_ms)
