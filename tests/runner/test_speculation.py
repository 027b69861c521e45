"""Speculative midpoints: the search names its next steps; comparisons run on several GPUs at once."""

from __future__ import annotations

import itertools
import threading
import time
from functools import partial

from perfci.runner.bisect import Comparison, bisect
from perfci.runner.speculation import Speculation


def _levels(n: int, at: int) -> list[float]:
    return [1.0 if i < at else 1.1 for i in range(n)]


def _outcome(levels: list[float], base: int, head: int, threshold: float) -> Comparison:
    change = levels[head] / levels[base] - 1
    return Comparison(base, head, "regression" if change >= threshold else "same", change, pairs=8)


def test_the_search_names_each_step_and_the_two_that_may_follow():
    levels = _levels(17, 11)
    named: list[list[tuple[int, int]]] = []
    result = bisect(17, partial(_outcome, levels), threshold=0.02, speculate=lambda pairs, _: named.append(pairs))
    assert [c.index for c in result.culprits] == [11]
    for (_step, *following), later in itertools.pairwise(named):
        assert len(following) <= 2 and later[0] in following  # the next step was among the guesses
    assert named[0] == [(0, 8), (0, 4), (8, 12)]


def test_comparisons_run_on_free_gpus_ahead_of_the_search_never_two_on_one_gpu():
    levels = _levels(33, 21)
    busy: dict[str, int] = {}
    most = {"at_once": 0}
    lock = threading.Lock()

    def measure(base: int, head: int, threshold: float, gpu: str) -> Comparison:
        with lock:
            busy[gpu] = busy.get(gpu, 0) + 1
            assert busy[gpu] == 1, f"two comparisons on GPU {gpu}"
            most["at_once"] = max(most["at_once"], sum(busy.values()))
        time.sleep(0.02)
        with lock:
            busy[gpu] -= 1
        return _outcome(levels, base, head, threshold)

    prepared: list[int] = []
    with Speculation(measure, ["0", "1", "2"], prepared.append) as ahead:
        result = bisect(33, ahead.compare, threshold=0.02, speculate=ahead.speculate)
    sequential = bisect(33, partial(_outcome, levels), threshold=0.02)
    assert [c.index for c in result.culprits] == [c.index for c in sequential.culprits] == [21]
    assert [(s.base, s.head) for s in result.steps] == [(s.base, s.head) for s in sequential.steps]
    assert ahead.speculative > len(result.steps)  # guesses ran besides the steps the search took
    assert most["at_once"] >= 2 and set(busy) <= {"0", "1", "2"}
    assert set(prepared) >= {s.head for s in result.steps}
