"""Interleaved A/B sampling with re-sampling while the verdict is unknown (no I/O: callables in).

Rounds alternate in ABBA order (A B, B A, A B, ...), so a linear drift of the device (clocks
warming, a neighbour's load ramping) adds the same amount to both sides instead of to one. After
each pair of rounds, once both sides hold ``min_samples``, the verdict is taken; ``unknown`` buys
another pair until the time budget or ``max_rounds`` is spent (Pinpoint's "measure more").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from perfci.analysis.verdict import Verdict


@dataclass
class InterleavedOutcome:
    base: list[float] = field(default_factory=list)
    head: list[float] = field(default_factory=list)
    verdict: Verdict | None = None
    rounds: int = 0
    #: "decided" (a verdict other than unknown), "budget" or "max_rounds" (still unknown at the end)
    stopped_by: str = ""
    #: the verdict after each look, to show that re-sampling happened and why it stopped
    looks: list[str] = field(default_factory=list)


def interleave(
    measure_base: Callable[[], list[float]], measure_head: Callable[[], list[float]],
    decide: Callable[[list[float], list[float]], Verdict], *, min_samples: int, budget_s: float,
    max_rounds: int = 400, clock: Callable[[], float] = time.monotonic,
) -> InterleavedOutcome:  # fmt: skip
    """Sample both sides alternately until a verdict other than unknown, or the budget ends."""
    outcome = InterleavedOutcome()
    start = clock()
    while True:
        first, second = (measure_base, measure_head) if outcome.rounds % 2 == 0 else (measure_head, measure_base)
        for side in (first, second):
            samples = side()
            (outcome.base if side is measure_base else outcome.head).extend(samples)
        outcome.rounds += 1
        if min(len(outcome.base), len(outcome.head)) < min_samples:
            if outcome.rounds >= max_rounds:
                outcome.stopped_by = "max_rounds"
                return outcome
            continue
        outcome.verdict = decide(outcome.base, outcome.head)
        outcome.looks.append(outcome.verdict.kind)
        if outcome.verdict.kind != "unknown":
            outcome.stopped_by = "decided"
            return outcome
        if clock() - start >= budget_s:
            outcome.stopped_by = "budget"
            return outcome
        if outcome.rounds >= max_rounds:
            outcome.stopped_by = "max_rounds"
            return outcome
