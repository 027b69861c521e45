"""The paired test on process pairs measured on an H200 (results/detection/h200-*-records.jsonl): a
+10% change and a confirmed +5% step are called at the looks they were called at, and no A/A
comparison (autotune configs differing between processes) is ever a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perfci.analysis.verdict import judge_pairs, per_look_alpha, planned_looks
from perfci.runner.compare import COMPARE_ALPHA

RECORDS = Path(__file__).resolve().parents[2] / "results" / "detection"


def _pair_changes(name: str, record_file: str) -> list[float]:
    for line in (RECORDS / record_file).read_text().splitlines():
        record = json.loads(line)
        if record["name"] == name:
            return _find(record)
    raise LookupError(name)


def _find(value: Any) -> list[float]:
    if isinstance(value, dict):
        if "pair_changes" in value:
            return value["pair_changes"]
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            if found := _find(item):
                return found
    return []


def _kinds(changes: list[float], familywise: float, max_pairs: int) -> dict[int, str]:
    """The verdict at each look a sequential comparison takes, up to the pairs measured."""
    looks = planned_looks(2, max_pairs)
    share = per_look_alpha(familywise, looks)
    return {n: judge_pairs(changes[:n], threshold=0.02, alpha=share).kind for n in looks if n <= len(changes)}


def test_a_real_ten_percent_change_is_called_at_eight_pairs():
    changes = _pair_changes("plus10", "h200-compare-records.jsonl")
    assert _kinds(changes, COMPARE_ALPHA, 8) == {2: "unknown", 4: "unknown", 8: "regression"}


@pytest.mark.parametrize("name", ["aa1", "aa2", "aa3", "aa4", "aa5"])
def test_aa_compares_with_differing_autotune_configs_are_never_a_regression(name):
    changes = _pair_changes(name, "h200-aa-records.jsonl")
    assert "regression" not in _kinds(changes, COMPARE_ALPHA, 16).values()


def test_a_confirmed_five_percent_step_confirms_at_sixteen_pairs():
    changes = _pair_changes("regressions", "h200-push-records.jsonl")
    kinds = _kinds(changes, 0.002, 64)
    assert kinds[16] == "regression" and "regression" not in (kinds[2], kinds[4], kinds[8])
