"""A commit's cases in warm worker processes: one process measures them in turn, a crash or a hang
costs its case only, and the next case starts a fresh process (under the interpreter)."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from perfci.runner.execute import ExecutionSettings, run_cases
from perfci.suite.cases import tier
from tests.runner.tracked_repo import ROOT

pytestmark = pytest.mark.slow

#: kernels that note which process ran each call (``$PERFCI_TEST_CALLS``), and crash or hang on the
#: decode batch named by ``$PERFCI_TEST_CRASH_BATCH`` / ``$PERFCI_TEST_HANG_BATCH``
KERNELS = """
import os, signal, time
from kernels.swa import reference


def _note(op, q):
    with open(os.environ["PERFCI_TEST_CALLS"], "a") as calls:
        calls.write(f"{op}-{q.shape[0]} {os.getpid()}\\n")


def paged_decode(q, k_cache, v_cache, seqlens, block_tables, *, out=None, **kwargs):
    _note("decode", q)
    if q.shape[0] == int(os.environ.get("PERFCI_TEST_CRASH_BATCH", "-1")):
        os.kill(os.getpid(), signal.SIGSEGV)
    if q.shape[0] == int(os.environ.get("PERFCI_TEST_HANG_BATCH", "-1")):
        time.sleep(3600)
    out.copy_(reference.paged_decode(q, k_cache, v_cache, seqlens, block_tables, **kwargs))
    return out


def paged_prefill(q, k_cache, v_cache, cu_seqlens_q, seqlens_kv, block_tables, *, out=None, causal=True, **kwargs):
    _note("prefill", q)
    ref = reference.paged_prefill(q, k_cache, v_cache, cu_seqlens_q, seqlens_kv, block_tables, causal=causal, **kwargs)
    out.copy_(ref)
    return out
"""

#: decode batch 3, decode batch 2, prefill of 2 x 40 tokens (tiny tier, bf16)
CASES = tier("tiny")[:3]


@pytest.fixture
def worktree(tmp_path, monkeypatch) -> Path:
    tree = tmp_path / "tree"
    (tree / "kernels" / "swa").mkdir(parents=True)
    (tree / "kernels" / "__init__.py").write_text("")
    for name in ("reference.py", "checks.py"):
        shutil.copy(ROOT / "kernels" / "swa" / name, tree / "kernels" / "swa" / name)
    (tree / "kernels" / "swa" / "__init__.py").write_text(KERNELS)
    monkeypatch.setenv("PERFCI_TEST_CALLS", str(tmp_path / "calls.txt"))
    return tree


def _processes_by_case(worktree: Path) -> dict[str, set[str]]:
    """Which processes ran each case's calls (case: its op and its q's first dimension)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for line in Path(worktree.parent / "calls.txt").read_text().splitlines():
        call, pid = line.split()
        seen[call].add(pid)
    return seen


def test_one_warm_process_measures_every_case_of_the_commit(worktree):
    assert [c.op for c in CASES] == ["paged_decode", "paged_decode", "paged_prefill"]
    results = run_cases(CASES, worktree, ExecutionSettings(device="interpreter", budget_s=0.2, timeout_s=120))
    assert [r["status"] for r in results] == ["ok"] * 3
    by_case = _processes_by_case(worktree)
    assert set(by_case) == {"decode-3", "decode-2", "prefill-80"}
    assert len(set().union(*by_case.values())) == 1
    # a later case's phases start at its request: no process start, no imports again
    first, *later = [r["timing"]["phases"] for r in results]
    assert all(p["boot_s"] < first["boot_s"] / 4 for p in later)
    assert [r["timing"]["warm"] for r in results] == [False, True, True]


def test_fresh_processes_give_each_case_its_own(worktree):
    settings = ExecutionSettings(device="interpreter", budget_s=0.2, timeout_s=120, warm=False)
    results = run_cases(CASES, worktree, settings)
    assert [r["status"] for r in results] == ["ok"] * 3
    assert not any(r["timing"]["warm"] for r in results)
    pids = [next(iter(p)) for p in _processes_by_case(worktree).values()]
    assert len(set(pids)) == 3


def test_a_crash_costs_its_case_and_the_next_case_gets_a_fresh_process(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_CRASH_BATCH", "2")
    results = run_cases(CASES, worktree, ExecutionSettings(device="interpreter", budget_s=0.2, timeout_s=120))
    assert [r["status"] for r in results] == ["ok", "failed", "ok"]
    assert "signal 11" in results[1]["error"]
    by_case = _processes_by_case(worktree)
    assert by_case["decode-3"] == by_case["decode-2"]  # the crashing case ran in the warm process
    assert by_case["prefill-80"].isdisjoint(by_case["decode-3"])


def test_a_hang_times_out_alone_and_each_of_several_processes_measures_every_case(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_HANG_BATCH", "2")
    settings = ExecutionSettings(device="interpreter", budget_s=0.2, timeout_s=40, processes=2)
    results = run_cases(CASES, worktree, settings)
    assert [r["status"] for r in results] == ["ok", "timeout", "ok"]
    assert "no answer within 40 s" in results[1]["error"] and "process 1 of 2" in results[1]["error"]
    assert [len(r["processes"]) for r in (results[0], results[2])] == [2, 2]
    by_case = _processes_by_case(worktree)
    assert len(by_case["decode-3"]) == 2  # two processes, each measuring the case once
    # the hanging process was killed and replaced; the other one stayed warm through every case
    assert len(by_case["prefill-80"] & by_case["decode-3"]) == 1
