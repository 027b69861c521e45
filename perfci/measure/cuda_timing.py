"""CUDA timing: per-repetition events with the L2 flushed, CUDA-graph replay for microsecond ops, or
CUPTI's records of the kernels each call launches.

Compilation and autotuning happen in the caller's warm-up call, outside every timed region.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable
from typing import Any, Literal

TimingMode = Literal["events", "graph", "kernels"]

#: The label of each timed call in the profiler's records.
CALL_LABEL = "perfci.timed_call"
#: Bytes zeroed before each call so that it starts with a cold L2 (triton's do_bench flushes as much).
FLUSH_BYTES = 256 * 1024 * 1024


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


def kernel_profiler() -> Any:
    """A profiler recording CPU and CUDA activities: autograd's (Kineto's), the one under
    ``torch.profiler.profile``, whose start also imports ``torch._inductor`` (with dynamo, sympy and
    FSDP, hundreds of modules): seconds in every new process before its first record, for nothing
    these records use."""
    from torch.autograd.profiler import profile

    return profile(use_device="cuda", use_kineto=True)


def time_with_kernel_records(
    fn: Callable[[], object], *, warmup_ms: float = 25.0, rep_ms: float = 100.0
) -> list[float]:
    """Milliseconds of GPU time per call: the durations of the kernels the call launches, summed, as
    CUPTI records them (Kineto), L2 flushed before each call.

    Events around a call also count host time once the GPU has run dry: a call that reads its
    varlen lengths on the host waits for the flush, and the GPU then idles through the rest of its
    Python until the launch (0.1-0.4 ms, varying with the host's load, seen on a shared H200). The
    kernel records leave that out, for our kernels and for peers alike."""
    import time

    import torch
    from torch.autograd.profiler import record_function

    flush = torch.empty(FLUSH_BYTES, dtype=torch.int8, device="cuda")
    start, calls = time.perf_counter(), 0
    while calls < 3 or (time.perf_counter() - start) * 1e3 < warmup_ms:
        flush.zero_()
        fn()
        torch.cuda.synchronize()
        calls += 1
    host_ms_per_call = (time.perf_counter() - start) * 1e3 / calls  # an upper bound of the GPU time
    repetitions = max(5, min(1000, int(rep_ms / host_ms_per_call)))
    with kernel_profiler() as profiler:
        for _ in range(repetitions):
            flush.zero_()
            with record_function(CALL_LABEL):
                fn()
        torch.cuda.synchronize()
    samples = busy_ms_per_call(profiler.function_events)
    if len(samples) != repetitions or min(samples) <= 0:
        raise RuntimeError(
            f"the profiler recorded GPU work for {len(samples)} of {repetitions} timed calls "
            f"(shortest {min(samples, default=0):.4f} ms): CUPTI kernel records are unavailable here; "
            "time with mode 'events' instead"
        )
    return samples


def busy_ms_per_call(events: list) -> list[float]:
    """Per timed call, the summed durations of the GPU activities (kernels, copies, memsets) inside
    its span on the GPU timeline: the GPU-side twin of its ``record_function`` label, which runs
    from the call's first GPU activity to its last. Gaps inside the span (the GPU idling while the
    host works) are not summed. Triton's launches are no torch op, so the CPU-side label's own
    device time would miss them."""
    from torch.autograd import DeviceType

    on_gpu = sorted((e for e in events if e.device_type == DeviceType.CUDA), key=lambda e: e.time_range.start)
    spans = [e.time_range for e in on_gpu if e.name == CALL_LABEL]
    work = [e.time_range for e in on_gpu if e.name != CALL_LABEL and not e.is_user_annotation]
    starts = [r.start for r in work]
    samples = []
    for span in spans:
        index, busy = bisect.bisect_left(starts, span.start), 0.0
        while index < len(work) and work[index].start < span.end:
            busy += work[index].elapsed_us()
            index += 1
        samples.append(busy / 1e3)
    return samples


@functools.cache
def kernel_records_available() -> bool:
    """Whether this process's profiler records CUDA kernels (CUPTI present and working)."""
    import torch

    x = torch.ones(1024, device="cuda")
    try:
        time_with_kernel_records(lambda: x.mul_(1.0), warmup_ms=0.0, rep_ms=0.0)
    except RuntimeError:
        return False
    return True


def time_cuda(fn: Callable[[], object], mode: TimingMode, rep_ms: float = 100.0) -> list[float]:
    if mode == "kernels":
        return time_with_kernel_records(fn, rep_ms=rep_ms)
    if mode == "graph":
        return time_with_graph(fn)
    return time_with_events(fn, rep_ms=rep_ms)
