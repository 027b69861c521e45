"""Detection at ingest on both databases: steps, improvements, correctness, missing data, A/A quiet."""

from __future__ import annotations

import json
import random

import pytest

from perfci.alerts.markdown import render_markdown
from perfci.document import parse_document
from perfci.store.engine import open_store
from perfci.store.ingest import ingest_document
from perfci.store.judge import judge_run
from perfci.store.queries import regressions
from tests.factories import make_document


def _doc(commit: int, levels: list[float], seed: int, status: list[str] | None = None, suite: str = "smoke"):
    rng = random.Random(seed)
    data = make_document(commit_index=commit, cases=len(levels), samples=60, seed=seed)
    data["run"]["suite"] = suite
    for index, (result, level) in enumerate(zip(data["results"], levels, strict=True)):
        result["samples"] = [level * (1 + rng.gauss(0, 0.003)) for _ in range(60)]
        if status and status[index] == "incorrect":
            result["status"] = "incorrect"
            result["correctness"].update(passed=False, rel_err=0.2)
    return data


def _ingest(store, data):
    outcome = ingest_document(store, parse_document(data))
    return judge_run(store, outcome.run_uuid)


def test_step_improvement_correctness_and_quiet_history(db_url):
    store = open_store(db_url)
    quiet = []
    for commit in range(8):  # A/A: the same code measured 8 times: nothing flagged
        quiet += _ingest(store, _doc(commit, [1.0, 2.0, 3.0], seed=commit))
    assert quiet == []
    step = _ingest(store, _doc(8, [1.05, 2.0 * 0.9, 3.0], seed=8))
    kinds = {(f.case, f.kind) for f in step}
    assert kinds == {("decode/bf16/case0", "latency"), ("decode/bf16/case1", "improvement")}
    latency = next(f for f in step if f.kind == "latency")
    sha = make_document(commit_index=8)["run"]["commit"]["sha"]
    assert latency.commit == sha and latency.baseline_commit == make_document(commit_index=7)["run"]["commit"]["sha"]
    assert abs(latency.change - 0.05) < 0.01 and latency.verdict["p_value"] < 0.01
    assert _ingest(store, _doc(9, [1.05, 1.8, 3.0], seed=9)) == []  # the new level is the new normal
    wrong = _ingest(store, _doc(10, [1.05, 1.8, 3.0], seed=10, status=["ok", "ok", "incorrect"]))
    assert [(f.case, f.kind) for f in wrong] == [("decode/bf16/case2", "correctness")]
    with store.read() as session:
        rows = regressions(session, status=None)
    assert {row["kind"] for row in rows} == {"latency", "improvement", "correctness"}
    report = render_markdown(step, device="NVIDIA H200")
    assert "Latency regressions" in report and "Improvements" in report and "+5." in report
    assert "perfci run --commit" in report and "<details>" in report
    assert render_markdown([], device="x") == ""
    store.dispose()


def test_a_case_that_stops_reporting_is_flagged(db_url):
    store = open_store(db_url)
    _ingest(store, _doc(0, [1.0, 2.0], seed=0))
    findings = _ingest(store, _doc(1, [1.0], seed=1))
    assert [(f.case, f.kind) for f in findings] == [("decode/bf16/case1", "missing")]
    assert _ingest(store, _doc(2, [1.0], seed=2, suite="tiny")) == []  # another tier is not a stopped case
    store.dispose()


def test_slow_creep_is_caught_by_the_step_detector(db_url):
    store = open_store(db_url)
    findings = []
    levels = [1.0] * 10 + [1.0 + 0.008 * i for i in range(1, 6)] + [1.04] * 10
    for commit, level in enumerate(levels):
        findings += _ingest(store, _doc(commit, [level], seed=commit))
    latency = [f for f in findings if f.kind == "latency"]
    assert latency, "a 4% creep over 5 commits must be reported"
    creep_shas = {make_document(commit_index=i)["run"]["commit"]["sha"] for i in range(10, 16)}
    assert all(f.commit in creep_shas for f in latency)
    store.dispose()


def test_triage_expected_makes_the_change_the_new_baseline(db_url, tmp_path):
    from click.testing import CliRunner

    from perfci.cli import main

    store = open_store(db_url)
    for commit in range(8):
        _ingest(store, _doc(commit, [1.0], seed=commit))
    step = _ingest(store, _doc(8, [1.06], seed=8))
    assert [f.kind for f in step] == ["latency"], step
    with store.read() as session:
        (row,) = regressions(session)
    store.dispose()
    runner = CliRunner()
    assert runner.invoke(main, ["regressions", "--db", db_url]).exit_code == 1
    result = runner.invoke(main, ["triage", str(row["id"]), "expected", "--note", "new tiling, accepted",
                                  "--author", "ada", "--db", db_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["regressions", "--db", db_url]).exit_code == 0
    with open_store(db_url).read() as session:
        (triaged,) = regressions(session, status="expected")
    assert triaged["note"] == "new tiling, accepted" and triaged["author"] == "ada"
    store = open_store(db_url)
    for commit in range(9, 20):  # the accepted level: no new finding, and the history window starts at commit 8
        assert _ingest(store, _doc(commit, [1.06], seed=commit)) == []
    store.dispose()
    runner.invoke(main, ["triage", str(row["id"]), "fixed", "--note", "reverted", "--author", "bo", "--db", db_url])
    shown = runner.invoke(main, ["triage", str(row["id"]), "--db", db_url])
    assert shown.exit_code == 0, shown.output
    steps = [(e["status"], e["author"], e["note"]) for e in json.loads(shown.output)]
    assert steps == [("open", "perfci", None), ("expected", "ada", "new tiling, accepted"), ("fixed", "bo", "reverted")]
    bad = runner.invoke(main, ["triage", "99999", "fixed", "--db", db_url])
    assert bad.exit_code == 2 and "does not exist" in bad.output
    assert runner.invoke(main, ["triage", str(row["id"]), "wontfix", "--db", db_url]).exit_code == 2


def _timed(data, mode: str | None):
    for result in data["results"]:
        if mode is not None:
            result["timing"] = {"mode": mode}
    return data


def test_results_are_judged_only_against_history_timed_the_same_way(db_url):
    """A case that changes timing mode (events -> kernel records, graph <-> events) starts a new
    history: 30% faster because the host's idle time is no longer counted is not an improvement."""
    store = open_store(db_url)
    for commit in range(8):
        assert _ingest(store, _timed(_doc(commit, [1.0, 2.0], seed=commit), "events")) == []
    assert _ingest(store, _timed(_doc(8, [0.7, 1.4], seed=8), "kernels")) == []
    for commit in range(9, 16):  # the kernels history builds up; events results stay out of it
        assert _ingest(store, _timed(_doc(commit, [0.7, 1.4], seed=commit), "kernels")) == []
    slower = _ingest(store, _timed(_doc(16, [0.77, 1.4], seed=16), "kernels"))
    assert [(f.case, f.kind) for f in slower] == [("decode/bf16/case0", "latency")]
    assert slower[0].baseline_commit == make_document(commit_index=15)["run"]["commit"]["sha"]
    # documents that carry no timing mode form their own history, as before
    assert _ingest(store, _timed(_doc(17, [0.5, 1.0], seed=17), None)) == []
    store.dispose()


@pytest.mark.parametrize("regression_id", ["2147483648", str(2**63)])
def test_triage_of_an_id_beyond_the_stores_range_is_exit_2(db_url, regression_id):
    from click.testing import CliRunner

    from perfci.cli import main

    result = CliRunner().invoke(main, ["triage", regression_id, "open", "--db", db_url])
    assert result.exit_code == 2 and "REGRESSION_ID" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
