"""Speculative midpoints: a bisect's comparisons run on several GPUs of this machine at once.

Before each search step the search names that step and the two that may follow it
(``perfci.runner.bisect``'s ``speculate``). The step is started at once; the other two only on GPUs
that are free then, so the step itself never waits behind a guess. Whichever way the step goes,
the next step is often measured already, and the search goes on without waiting for it. A guess
the search does not take still ran to its end (a comparison's worker processes are not cut off);
it is stored like every comparison. Each comparison runs both sides' processes on its one GPU, back
to back, as every pair must.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from perfci.runner.bisect import Comparison

#: (base, head, threshold, gpu) -> the comparison measured on that GPU
Measure = Callable[[int, int, float, str], Comparison]


class Speculation:
    """``compare`` and ``speculate`` for ``bisect`` over the GPUs in ``gpus``; ``prepare`` is called
    in the searching thread for every candidate before a comparison of it starts (worktrees are made
    there, not in the measuring threads)."""

    def __init__(self, measure: Measure, gpus: list[str], prepare: Callable[[int], object]) -> None:
        if not gpus:
            raise ValueError("speculation needs at least one GPU")
        self.measure, self.prepare = measure, prepare
        self.free = list(gpus)
        self.changed = threading.Condition()
        self.pool = ThreadPoolExecutor(len(gpus), thread_name_prefix="bisect-gpu")
        self.started: dict[tuple[int, int], Future[Comparison]] = {}

    def __enter__(self) -> Speculation:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.pool.shutdown(wait=True)  # the worktrees outlive every comparison that reads them

    def _start(self, pair: tuple[int, int], threshold: float, gpu: str) -> None:
        for index in pair:
            self.prepare(index)

        def run() -> Comparison:
            try:
                return self.measure(pair[0], pair[1], threshold, gpu)
            finally:
                with self.changed:
                    self.free.append(gpu)
                    self.changed.notify_all()

        self.started[pair] = self.pool.submit(run)

    def speculate(self, pairs: list[tuple[int, int]], threshold: float) -> None:
        """Start the first pair (waiting for a GPU if every one is busy), the rest on free GPUs."""
        needed, *guesses = pairs
        if needed not in self.started:
            self._start(needed, threshold, self._next_gpu())
        for pair in guesses:
            if pair not in self.started and (gpu := self._gpu(wait=False)) is not None:
                self._start(pair, threshold, gpu)

    def _next_gpu(self) -> str:
        gpu = self._gpu(wait=True)
        assert gpu is not None  # waited for one
        return gpu

    def _gpu(self, *, wait: bool) -> str | None:
        with self.changed:
            while not self.free:
                if not wait:
                    return None
                self.changed.wait()
            return self.free.pop(0)

    def compare(self, base: int, head: int, threshold: float) -> Comparison:
        """The comparison, from a started one or measured now on the next free GPU. A search judges
        every step at one threshold, so a started pair is the one asked for."""
        if (base, head) not in self.started:
            self._start((base, head), threshold, self._next_gpu())
        return self.started[base, head].result()

    @property
    def speculative(self) -> int:
        """How many comparisons were started (the search used some of them)."""
        return len(self.started)
