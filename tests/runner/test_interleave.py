"""Interleaving in process pairs: ABBA order, fresh pairs, looks at 2, 4, 8, ... pairs while
unknown, and the paired test that keeps one lucky (or unlucky) process from deciding a comparison."""

from __future__ import annotations

import itertools
from contextlib import contextmanager

import numpy as np

from perfci.analysis.verdict import Verdict, judge_pairs
from perfci.runner.interleave import interleave


def _verdict(kind: str) -> Verdict:
    return Verdict(kind, 0.0, -0.01, 0.01, 0.5, 0.02, 0.01, 1, 1)  # type: ignore[arg-type]


def _pairs(base_level, head_level, log: list[str] | None = None):
    """open_pair for simulated processes; *_level(pair_index) -> the process's level."""
    counter = itertools.count()
    rng = np.random.default_rng(1)

    @contextmanager
    def open_pair():
        index = next(counter)
        if log is not None:
            log.append(f"open{index}")
        b, h = base_level(index), head_level(index)

        def side(level, name):
            def measure():
                if log is not None:
                    log.append(name)
                return list(level * (1 + 0.002 * rng.standard_normal(5)))

            return measure

        yield side(b, "A"), side(h, "B")
        if log is not None:
            log.append(f"close{index}")

    return open_pair


def _decide(threshold=0.02):
    return lambda changes: judge_pairs(changes, threshold=threshold)


def test_rounds_alternate_abba_inside_fresh_process_pairs():
    log: list[str] = []
    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.0, log),
        lambda changes: _verdict("unknown"),
        rounds_per_pair=4,
        min_pairs=1,
        max_pairs=2,
        budget_s=1e9,
    )
    assert "".join(log) == "open0ABBAABBAclose0open1BAABBAABclose1"  # the first side alternates by pair
    assert outcome.stopped_by == "max_pairs" and outcome.pairs == 2 and outcome.rounds == 8


def test_a_drift_inside_each_pair_is_not_a_change_with_an_odd_number_of_rounds():
    """Identical sides on a machine where each round of a pair reads 3% faster than the one before
    (processes warming up): three ABBA rounds put the base side at rounds 1, 4 and 5, so with the
    same side first in every pair, eight pairs of one sign would be a change. The first side
    alternates by pair, so the pairs' changes alternate in sign and nothing is decided."""
    rounds: list[int] = []

    @contextmanager
    def open_pair():
        rounds.append(0)

        def measure():
            rounds[-1] += 1
            return [1.0 - 0.03 * rounds[-1]] * 5

        yield measure, measure

    outcome = interleave(open_pair, _decide(), rounds_per_pair=3, min_pairs=8, max_pairs=8, budget_s=1e9)
    assert outcome.verdict is not None and outcome.verdict.kind in ("same", "unknown")
    changes = outcome.pair_changes
    assert all(c > 0.03 for c in changes[::2]) and all(c < -0.03 for c in changes[1::2])


def test_unknown_doubles_the_pairs_until_decided():
    verdicts = iter(["unknown", "unknown", "regression"])
    seen: list[int] = []

    def decide(changes):
        seen.append(len(changes))
        return _verdict(next(verdicts))

    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.1), decide, rounds_per_pair=2, min_pairs=2, max_pairs=16, budget_s=1e9
    )
    assert seen == [2, 4, 8] and outcome.looks == ["2:unknown", "4:unknown", "8:regression"]
    assert outcome.pairs == 8 and outcome.stopped_by == "decided"


def test_the_budget_ends_an_unknown_comparison_after_min_pairs():
    ticks = itertools.count(0.0, 10.0)
    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.0),
        lambda changes: _verdict("unknown"),
        rounds_per_pair=2,
        min_pairs=2,
        max_pairs=10,
        budget_s=5.0,
        clock=lambda: next(ticks),
    )
    assert outcome.stopped_by == "budget" and outcome.pairs == 2


def test_the_budget_never_ends_a_comparison_before_the_pairs_could_show_a_change():
    ticks = itertools.count(0.0, 10.0)
    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.05),
        _decide(),
        rounds_per_pair=2,
        min_pairs=2,
        max_pairs=16,
        budget_s=5.0,  # spent after the first pair
        decisive_pairs=8,
        clock=lambda: next(ticks),
    )
    assert outcome.verdict.kind == "regression" and outcome.pairs == 8


def test_a_real_step_is_found_once_the_pairs_can_show_it():
    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.05), _decide(), rounds_per_pair=6, min_pairs=2, max_pairs=16, budget_s=1e9
    )
    assert outcome.verdict.kind == "regression" and outcome.pairs == 8  # the paired test needs 8 pairs for p < 0.01
    assert all(abs(c - 0.05) < 0.01 for c in outcome.pair_changes)
    assert outcome.looks == ["2:unknown", "4:unknown", "8:regression"]


def test_an_unchanged_commit_is_same_in_two_pairs():
    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.0), _decide(), rounds_per_pair=6, min_pairs=2, max_pairs=16, budget_s=1e9
    )
    assert outcome.verdict.kind == "same" and outcome.pairs == 2


def test_one_slow_process_in_an_unchanged_commit_is_not_a_regression():
    """A/A on a shared card: the head's first process lands 40% slow (seen on an H200)."""
    outcome = interleave(
        _pairs(lambda i: 1.0, lambda i: 1.4 if i == 0 else 1.0),
        _decide(),
        rounds_per_pair=6,
        min_pairs=2,
        max_pairs=16,
        budget_s=1e9,
    )
    assert outcome.verdict.kind != "regression"
    assert outcome.pair_changes[0] > 0.3 and abs(outcome.pair_changes[1]) < 0.01


def test_autotune_modes_per_process_never_make_an_aa_regression():
    """Each process of either side lands in one of two configs 7% apart (the replay's upstream int8
    prefill): 50 A/A comparisons of up to 16 pairs, none a regression."""
    generator = np.random.default_rng(11)
    regressions = 0
    for _ in range(50):
        mode = lambda i: 1.072 if generator.random() < 0.4 else 1.0
        outcome = interleave(_pairs(mode, mode), _decide(), rounds_per_pair=2, min_pairs=2, max_pairs=16, budget_s=1e9)
        regressions += outcome.verdict.kind == "regression"
    assert regressions == 0
