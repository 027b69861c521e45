"""Interleaved A/B sampling in process pairs, a paired sequential design (no I/O: callables in).

A *pair* is one fresh process per side. Inside a pair, rounds alternate in ABBA order (A B, B A,
A B, ...), so a linear drift of the device (clocks warming, a neighbour's load ramping) adds the
same to both sides; and the side that goes first alternates from one pair to the next (ABBA..., then
BAAB...), so a position effect (the first round after the processes start reading slower, an odd
number of rounds leaving one side first more often) falls on each side in half of the pairs instead
of on one side in all of them, where the paired test would read it as a change. Each process lands
on its own offset (autotune config, clock state), so the evidence is one value per pair: the ratio
of the two processes' medians. The verdict is looked at after ``min_pairs`` pairs and then each
time the number of pairs doubles (2, 4, 8, 16, as Pinpoint doubles its attempts), and ``unknown``
buys more pairs until ``max_pairs`` or the time budget is spent.
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

    def process_values(self, side: str) -> list[float]:
        """One value per process of ``side``: the median of all its samples."""
        pairs = self.base if side == "base" else self.head
        return [statistics.median([x for samples in pair for x in samples]) for pair in pairs]

    def changes(self) -> list[float]:
        """Per pair: head's process value over base's, minus 1."""
        return [h / b - 1.0 for b, h in zip(self.process_values("base"), self.process_values("head"), strict=True)]


def abba(
    measure_base: Callable[[], list[float]],
    measure_head: Callable[[], list[float]],
    rounds: int,
    head_first: bool = False,
) -> Iterator[tuple[str, list[float]]]:
    """("base" | "head", samples) in ABBA order, ``rounds`` per side (BAAB order with ``head_first``)."""
    order = (("base", measure_base), ("head", measure_head))
    if head_first:
        order = order[::-1]
    for index in range(rounds):
        for side, measure in order if index % 2 == 0 else reversed(order):
            yield side, measure()


def interleave(
    open_pair: Callable[[], AbstractContextManager[Pair]],
    decide: Callable[[list[float]], Verdict],
    *,
    rounds_per_pair: int,
    min_pairs: int = 2,
    max_pairs: int = 16,
    budget_s: float = 60.0,
    decisive_pairs: int = 0,
    clock: Callable[[], float] = time.monotonic,
) -> InterleavedOutcome:
    """Pairs of fresh processes, ``rounds_per_pair`` ABBA rounds each; ``decide`` gets each pair's
    change at ``min_pairs`` and every doubling after, until decided, ``max_pairs`` or the budget. The
    budget never stops an undecided comparison before ``decisive_pairs``: with fewer pairs the test
    cannot show a change at all, so a clear one would be "unknown" for want of one more pair."""
    outcome = InterleavedOutcome()
    start = clock()
    next_look = min_pairs
    while True:
        base_rounds: list[list[float]] = []
        head_rounds: list[list[float]] = []
        with open_pair() as (measure_base, measure_head):
            for side, samples in abba(measure_base, measure_head, rounds_per_pair, head_first=outcome.pairs % 2 == 1):
                (base_rounds if side == "base" else head_rounds).append(samples)
        outcome.base.append(base_rounds)
        outcome.head.append(head_rounds)
        floor = max(min_pairs, decisive_pairs)
        last = outcome.pairs >= max_pairs or (clock() - start >= budget_s and outcome.pairs >= floor)
        if outcome.pairs >= next_look or last:
            next_look = 2 * outcome.pairs
            outcome.pair_changes = outcome.changes()
            outcome.verdict = decide(outcome.pair_changes)
            outcome.looks.append(f"{outcome.pairs}:{outcome.verdict.kind}")
            if outcome.verdict.kind != "unknown":
                outcome.stopped_by = "decided"
                return outcome
        if outcome.pairs >= max_pairs:
            outcome.stopped_by = "max_pairs"
            return outcome
        if clock() - start >= budget_s and outcome.pairs >= floor:
            outcome.stopped_by = "budget"
            return outcome
