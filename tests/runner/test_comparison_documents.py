"""A comparison's sides as results documents: one process entry per pair, what failed kept as failed."""

from __future__ import annotations

import pytest

from perfci.document import parse_document
from perfci.runner.compare import CaseComparison, SideReport
from perfci.runner.comparison_documents import comparison_documents
from perfci.runner.interleave import InterleavedOutcome
from perfci.suite.cases import SuiteCase
from perfci.testing import make_document

CASE = SuiteCase(op="paged_decode", batch=1, kv_len=64, local_window=15, global_window=None, page_size=16)
ENVIRONMENT = make_document()["run"]["environment"]


def _commit(label: str) -> dict:
    commit = make_document(commit_index=len(label))["run"]["commit"]
    return {**commit, "branch": None}


def test_each_pair_is_one_process_with_its_autotune_choice():
    choices = [{"_kernel": {"BLOCK_M": 64}}, {"_kernel": {"BLOCK_M": 128}}]
    correctness = {"rel_err": 0.001, "tolerance": 0.01, "passed": True}
    base = SideReport("ok", correctness=correctness, config={"BLOCK_N": 64}, autotune=choices)
    head = SideReport("ok", correctness=correctness, autotune=choices[::-1])
    interleaved = InterleavedOutcome(
        base=[[[1.0, 1.1], [1.05]], [[1.2], [1.15]]], head=[[[1.3], [1.31, 1.29]], [[1.4], [1.41]]]
    )
    comparison = CaseComparison(CASE, base, head, "regression", 0.02, "graph", interleaved)
    commits = {"base": _commit("a"), "head": _commit("bb")}
    documents = comparison_documents(comparison, commits, repo="tracked", environment=ENVIRONMENT, suite="tiny")
    parsed = [parse_document(document) for document in documents]
    assert [d.run.trigger for d in parsed] == ["bisect", "bisect"]
    assert [d.run.commit.sha for d in parsed] == [commits["base"]["sha"], commits["head"]["sha"]]
    (base_result,) = parsed[0].results
    assert base_result.case == CASE.id and base_result.status == "ok"
    assert [p.samples for p in base_result.processes] == [[1.0, 1.1, 1.05], [1.2, 1.15]]
    assert base_result.samples == [1.0, 1.1, 1.05, 1.2, 1.15]
    assert [p.autotune for p in base_result.processes] == choices
    assert base_result.process_values() == pytest.approx([1.05, 1.175])
    assert documents[0]["results"][0]["timing"] == {"mode": "graph"}
    assert documents[0]["run"]["selection"] == [CASE.id]
    assert documents[1]["results"][0]["processes"][0]["autotune"] == choices[1]


def test_a_side_that_crashed_is_a_failed_result_and_one_never_timed_is_left_out():
    base = SideReport("ok", correctness={"rel_err": 0.0, "tolerance": 0.01, "passed": True})
    head = SideReport("failed", error="worker exited with code -11 (SIGSEGV)")
    comparison = CaseComparison(CASE, base, head, "correctness", 0.02)
    commits = {"base": _commit("a"), "head": _commit("bb")}
    (document,) = comparison_documents(comparison, commits, repo="tracked", environment=ENVIRONMENT, suite=None)
    (result,) = parse_document(document).results
    assert document["run"]["commit"]["sha"] == commits["head"]["sha"]
    assert result.status == "failed" and "SIGSEGV" in (result.error or "") and result.samples is None
