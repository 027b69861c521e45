"""Interleaved A/B sampling in process pairs, with more pairs while the verdict is unknown (no I/O:
callables in).

A *pair* is one fresh process per side. Inside a pair, rounds alternate in ABBA order (A B, B A,
A B, ...), so a linear drift of the device (clocks warming, a neighbour's load ramping) adds the
same to both sides. Each process lands on its own offset, so one pair cannot separate a change from
a lucky process: the verdict is taken after ``min_pairs`` pairs from every pair's round medians
(``judge_process_pairs``), and ``unknown`` buys another pair until ``max_pairs`` or the time
budget is spent (Pinpoint's "measure more").
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from perfci.analysis.verdict import Verdict

#: (measure one base round, measure one head round): each returns that round's samples
Pair = tuple[Callable[[], list[float]], Callable[[], list[float]]]


@dataclass
class InterleavedOutcome:
    #: per pair, per round: the samples (base and head)
    base: list[list[list[float]]] = field(default_factory=list)
    head: list[list[list[float]]] = field(default_factory=list)
    verdict: Verdict | None = None
    pair_changes: list[float] = field(default_factory=list)
    #: "decided" (a verdict other than unknown), "budget" or "max_pairs" (still unknown at the end)
    stopped_by: str = ""
    #: the verdict after each look, to show that re-sampling happened and why it stopped
    looks: list[str] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return len(self.base)

    @property
    def rounds(self) -> int:
        return sum(len(pair) for pair in self.base)

    def round_medians(self, side: str) -> list[list[float]]:
        return [[statistics.median(r) for r in pair] for pair in (self.base if side == "base" else self.head)]


def abba(measure_base: Callable[[], list[float]], measure_head: Callable[[], list[float]], rounds: int,
         ) -> Iterator[tuple[str, list[float]]]:  # fmt: skip
    """("base" | "head", samples) in ABBA order, ``rounds`` per side."""
    for index in range(rounds):
        order = (("base", measure_base), ("head", measure_head))
        for side, measure in order if index % 2 == 0 else reversed(order):
            yield side, measure()


def interleave(
    open_pair: Callable[[], AbstractContextManager[Pair]],
    decide: Callable[[list[list[float]], list[list[float]]], tuple[Verdict, list[float]]], *, rounds_per_pair: int,
    min_pairs: int = 2, max_pairs: int = 6, budget_s: float = 60.0, clock: Callable[[], float] = time.monotonic,
) -> InterleavedOutcome:  # fmt: skip
    """Pairs of fresh processes, ``rounds_per_pair`` ABBA rounds each, until decided or out of budget."""
    outcome = InterleavedOutcome()
    start = clock()
    while True:
        base_rounds: list[list[float]] = []
        head_rounds: list[list[float]] = []
        with open_pair() as (measure_base, measure_head):
            for side, samples in abba(measure_base, measure_head, rounds_per_pair):
                (base_rounds if side == "base" else head_rounds).append(samples)
        outcome.base.append(base_rounds)
        outcome.head.append(head_rounds)
        if outcome.pairs >= min_pairs:
            outcome.verdict, outcome.pair_changes = decide(outcome.round_medians("base"), outcome.round_medians("head"))
            outcome.looks.append(outcome.verdict.kind)
            if outcome.verdict.kind != "unknown":
                outcome.stopped_by = "decided"
                return outcome
        if outcome.pairs >= max_pairs:
            outcome.stopped_by = "max_pairs"
            return outcome
        if clock() - start >= budget_s and outcome.pairs >= min_pairs:
            outcome.stopped_by = "budget"
            return outcome
