"""`perfci bisect`'s Markdown report, from searches on made-up histories."""

from __future__ import annotations

from types import SimpleNamespace

from perfci.cli.bisect import _markdown
from perfci.runner.bisect import Comparison, bisect
from perfci.runner.culprits import culprits_json

SHAS = [f"{i:040x}" for i in range(5)]


def _row(outcome_of_midpoint: str) -> dict:
    def compare(base: int, head: int, threshold: float) -> Comparison:
        if (base, head) == (0, 4):
            return Comparison(base, head, "regression", 0.4, pairs=8)
        return Comparison(base, head, outcome_of_midpoint if head < 4 else "regression", 0.4, pairs=8)

    return culprits_json(bisect(5, compare, threshold=0.02), SHAS, SimpleNamespace(id="decode/x"))


def test_an_undecided_range_is_a_row_saying_so():
    report = _markdown([_row("unknown")], SHAS[0], SHAS[-1], "cuda")
    assert f"somewhere in {SHAS[0][:12]}..{SHAS[4][:12]} (a step the pairs could not decide" in report


def test_a_culprit_is_a_row_with_its_parent_and_share():
    report = _markdown([_row("same")], SHAS[0], SHAS[-1], "cuda")
    assert f"| `decode/x` | {SHAS[4][:12]} | {SHAS[3][:12]} | +40.0% | 100% | yes |" in report
