"""The interleaving loop: ABBA order, re-sampling while unknown, stopping on a verdict or the budget."""

from __future__ import annotations

import itertools

from perfci.analysis.verdict import Verdict, judge
from perfci.runner.interleave import interleave


def _verdict(kind: str) -> Verdict:
    return Verdict(kind, 0.0, -0.01, 0.01, 0.5, 0.02, 0.01, 1, 1)  # type: ignore[arg-type]


def test_rounds_alternate_in_abba_order():
    order: list[str] = []
    outcome = interleave(lambda: order.append("A") or [1.0], lambda: order.append("B") or [1.0],
                         lambda b, h: _verdict("unknown"), min_samples=1, budget_s=1e9, max_rounds=4)  # fmt: skip
    assert "".join(order) == "ABBAABBA"
    assert outcome.stopped_by == "max_rounds" and outcome.rounds == 4


def test_unknown_takes_more_samples_until_decided():
    verdicts = iter(["unknown", "unknown", "regression"])
    outcome = interleave(lambda: [1.0, 1.0], lambda: [2.0, 2.0], lambda b, h: _verdict(next(verdicts)),
                         min_samples=4, budget_s=1e9)  # fmt: skip
    # 2 rounds to reach min_samples, then one look per round: unknown, unknown, regression
    assert outcome.looks == ["unknown", "unknown", "regression"]
    assert outcome.rounds == 4 and outcome.stopped_by == "decided"
    assert len(outcome.base) == len(outcome.head) == 8


def test_the_budget_ends_an_unknown_comparison():
    ticks = itertools.count(0.0, 1.0)  # every clock read advances one second
    outcome = interleave(lambda: [1.0], lambda: [1.0], lambda b, h: _verdict("unknown"), min_samples=2,
                         budget_s=5.0, clock=lambda: next(ticks))  # fmt: skip
    assert outcome.stopped_by == "budget" and outcome.verdict is not None and outcome.verdict.kind == "unknown"
    assert outcome.rounds < 10


def test_real_verdicts_separate_a_noisy_5_percent_step_with_more_samples():
    """With the real judge: a 5% step under 3% noise is unknown on a few samples, decided with more."""
    import numpy as np

    rng = np.random.default_rng(7)
    base = lambda: list(1.0 + 0.03 * rng.standard_normal(4))
    head = lambda: list(1.05 + 0.03 * rng.standard_normal(4))
    outcome = interleave(base, head, lambda b, h: judge(b, h, threshold=0.02), min_samples=4, budget_s=1e9)
    assert outcome.verdict is not None and outcome.verdict.kind == "regression"
    assert outcome.looks[0] == "unknown" and len(outcome.looks) >= 2
