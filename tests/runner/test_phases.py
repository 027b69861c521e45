"""A run's time by phase: summed over the cases that report it, a process's start the rest."""

from __future__ import annotations

import pytest

from perfci.runner.phases import breakdown, describe


def _result(**phases: float) -> dict:
    return {"status": "ok", "timing": {"mode": "kernels", "phases": phases}}


def test_phases_sum_over_cases_and_the_rest_is_the_process_start():
    results = [
        _result(load_s=1.0, inputs_s=0.5, first_call_s=2.0, check_s=1.5, sampling_s=2.0, process_s=10.0),
        _result(load_s=1.0, inputs_s=0.5, first_call_s=0.5, check_s=1.0, sampling_s=3.0, process_s=8.0),
        {"status": "failed", "error": "signal 11"},  # a crash reports nothing
    ]
    totals = breakdown(results)
    assert totals["process_s"] == 18.0 and totals["sampling_s"] == 5.0
    assert totals["start_s"] == pytest.approx(3.0 + 2.0)
    assert totals["cases"] == 2
    line = describe(results)
    assert line.startswith("time: 2 cases, 18.0 s: sampling 5.0 s (28%)")
    assert "process start and exit 5.0 s (28%)" in line and "first call (compile) 2.5 s" in line


def test_no_phases_no_breakdown():
    assert breakdown([{"status": "ok", "timing": {"mode": "kernels"}}]) is None
    assert describe([]) is None
