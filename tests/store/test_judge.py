"""Detection at ingest on both databases: steps, improvements, correctness, missing data, A/A quiet."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pytest

from perfci.alerts.markdown import render_markdown
from perfci.document import parse_document
from perfci.store.ingest import ingest_document
from perfci.store.judge import judge_run
from perfci.store.migrate import open_store
from perfci.store.queries import regressions
from perfci.testing import make_document


def _doc(
    commit: int,
    levels: list[float],
    seed: int,
    status: list[str] | None = None,
    suite: str = "smoke",
    processes: int = 1,
):
    """One run: per case, ``processes`` worker processes of 20 samples, each process on its own
    offset (0.2%) and each sample with 0.3% spread around it."""
    rng = random.Random(seed)
    data = make_document(commit_index=commit, cases=len(levels), samples=1, seed=seed)
    data["run"]["suite"] = suite
    for index, (result, level) in enumerate(zip(data["results"], levels, strict=True)):
        groups = []
        for _ in range(processes):
            offset = level * (1 + rng.gauss(0, 0.002))
            groups.append([offset * (1 + rng.gauss(0, 0.003)) for _ in range(20)])
        result["samples"] = [x for group in groups for x in group]
        if processes > 1:
            result["processes"] = [{"samples": group, "autotune": {"kernel": {"BLOCK_M": 64}}} for group in groups]
        if status and status[index] == "incorrect":
            result["status"] = "incorrect"
            result["correctness"].update(passed=False, rel_err=0.2)
    return data


def _ingest(store, data, policy=None):
    outcome = ingest_document(store, parse_document(data))
    return judge_run(store, outcome.run_uuid, policy).findings


def _sha(commit: int) -> str:
    return make_document(commit_index=commit)["run"]["commit"]["sha"]


def test_processes_carry_a_gating_step_improvement_and_correctness(db_url):
    store = open_store(db_url)
    quiet = []
    for commit in range(8):  # A/A: the same code measured 8 times: nothing flagged
        quiet += _ingest(store, _doc(commit, [1.0, 2.0, 3.0], seed=commit, processes=4))
    assert quiet == []
    step = _ingest(store, _doc(8, [1.05, 2.0 * 0.9, 3.0], seed=8, processes=4))
    assert {(f.case, f.kind) for f in step} == {("decode/bf16/case0", "latency"), ("decode/bf16/case1", "improvement")}
    latency = next(f for f in step if f.kind == "latency")
    assert latency.commit == _sha(8) and latency.baseline_commit == _sha(7)
    assert abs(latency.change - 0.05) < 0.01 and latency.verdict["test"]["p_value"] < 0.01
    assert _ingest(store, _doc(9, [1.05, 1.8, 3.0], seed=9, processes=4)) == []  # the new level is the new normal
    wrong = _ingest(store, _doc(10, [1.05, 1.8, 3.0], seed=10, status=["ok", "ok", "incorrect"], processes=4))
    assert [(f.case, f.kind) for f in wrong] == [("decode/bf16/case2", "correctness")]
    with store.read() as session:
        rows = regressions(session, status=None)
    assert {row["kind"] for row in rows} == {"latency", "improvement", "correctness"}
    report = render_markdown(step, device="NVIDIA H200")
    assert "Latency regressions" in report and "Improvements" in report and "+5." in report
    assert "perfci run --commit" in report and "<details>" in report
    assert render_markdown([], device="x") == ""
    store.dispose()


def test_one_process_is_suspected_until_its_history_confirms_it(db_url):
    """One process per run cannot tell a change from a process in another mode: a +5% result is
    suspected (shown, not gating); five results at the new level against ten before make the step's
    processes differ beyond chance (Mann-Whitney, corrected for where the step could be), and it is
    recorded as latency at its first commit."""
    store = open_store(db_url)
    for commit in range(10):
        assert _ingest(store, _doc(commit, [1.0], seed=commit)) == []
    outcome = ingest_document(store, parse_document(_doc(10, [1.05], seed=10)))
    judged = judge_run(store, outcome.run_uuid)
    (suspected,) = judged.findings
    assert suspected.kind == "suspected" and not suspected.gates and suspected.commit == _sha(10)
    assert [(u.case, u.reason) for u in judged.not_judged] == [
        ("decode/bf16/case0", "one process: confirm by re-measuring")
    ]
    for commit in range(11, 14):
        assert _ingest(store, _doc(commit, [1.05], seed=commit)) == []
    (confirmed,) = _ingest(store, _doc(14, [1.05], seed=14))
    assert confirmed.kind == "latency" and confirmed.commit == _sha(10) and confirmed.verdict["p_value"] < 0.001
    with store.read() as session:
        assert [(r["kind"], r["commit"]) for r in regressions(session, status=None)] == [("latency", _sha(10))]
    store.dispose()


def test_a_confirmed_change_is_not_suspected_again_by_the_history(db_url):
    """perfci run confirmed the step at commit 6 in process pairs; the change-point pass later finds
    the same step with too few results to prove it alone: that is not news."""
    from perfci.store.judge import record_confirmation

    store = open_store(db_url)
    for commit in range(6):
        _ingest(store, _doc(commit, [1.0], seed=commit))
    outcome = ingest_document(store, parse_document(_doc(6, [1.05], seed=6)))
    (suspected,) = judge_run(store, outcome.run_uuid).findings
    confirmed = replace(
        suspected, kind="latency", verdict={**suspected.verdict, "confirmation": {"kind": "regression"}}
    )
    record_confirmation(store, outcome.run_uuid, confirmed)
    assert _ingest(store, _doc(7, [1.05], seed=7)) == []
    assert _ingest(store, _doc(8, [1.05], seed=8)) == []  # PELT: 6 vs 3 results, p = 0.024: only suspected
    with store.read() as session:
        assert [(r["kind"], r["commit"]) for r in regressions(session, status=None)] == [("latency", _sha(6))]
    store.dispose()


def test_history_too_short_is_said_not_silent(db_url):
    store = open_store(db_url)
    for commit in range(3):
        outcome = ingest_document(store, parse_document(_doc(commit, [1.0 if commit < 2 else 1.76], seed=commit)))
        judged = judge_run(store, outcome.run_uuid)
    assert judged.findings == []
    assert [u.reason for u in judged.not_judged] == ["history 2/6"]
    store.dispose()


def test_interpreter_latency_is_reported_never_gating_unless_opted_in(db_url):
    from perfci.analysis.noise import ThresholdPolicy

    def interpreted(commit: int, level: float, processes: int = 4) -> dict:
        data = _doc(commit, [level], seed=commit, processes=processes)
        data["run"]["environment"].update(device_kind="interpreter", device_name="Triton interpreter")
        return data

    store = open_store(db_url)
    for commit in range(8):
        _ingest(store, interpreted(commit, 1.0))
    (gating,) = _ingest(store, interpreted(8, 1.3), ThresholdPolicy(gate_interpreter=True))
    assert gating.kind == "latency"
    (finding,) = _ingest(store, interpreted(9, 1.69, processes=6))  # evidence enough, but interpreter timing
    assert finding.kind == "suspected" and "interpreter timing" in finding.verdict["reason"]
    store.dispose()


def test_a_case_that_stops_reporting_is_flagged_only_between_like_runs(db_url):
    store = open_store(db_url)
    _ingest(store, _doc(0, [1.0, 2.0], seed=0))
    findings = _ingest(store, _doc(1, [1.0], seed=1))
    assert [(f.case, f.kind) for f in findings] == [("decode/bf16/case1", "missing")]
    assert _ingest(store, _doc(2, [1.0], seed=2, suite="tiny")) == []  # another tier is not a stopped case
    _ingest(store, _doc(3, [1.0, 2.0], seed=3))
    subset = _doc(4, [1.0], seed=4)
    subset["run"]["selection"] = ["case0"]  # `perfci run --cases case0`: the rest was not asked for
    assert _ingest(store, subset) == []
    bisect = _doc(5, [1.0], seed=5)
    bisect["run"]["trigger"] = "bisect"
    assert _ingest(store, bisect) == []
    # the next whole run is compared with the last whole run (commit 3), not with the subset
    assert _ingest(store, _doc(6, [1.0, 2.0], seed=6)) == []
    store.dispose()


def test_slow_creep_is_caught_by_the_step_detector(db_url):
    store = open_store(db_url)
    findings = []
    levels = [1.0] * 10 + [1.0 + 0.008 * i for i in range(1, 6)] + [1.04] * 10
    for commit, level in enumerate(levels):
        findings += _ingest(store, _doc(commit, [level], seed=commit))
    latency = [f for f in findings if f.kind == "latency"]
    assert latency, "a 4% creep over 5 commits must be reported"
    creep_shas = {_sha(i) for i in range(10, 16)}
    assert all(f.commit in creep_shas for f in findings)


def test_triage_expected_makes_the_change_the_new_baseline(db_url, tmp_path):
    from click.testing import CliRunner

    from perfci.cli import main

    store = open_store(db_url)
    for commit in range(8):
        _ingest(store, _doc(commit, [1.0], seed=commit, processes=3))
    step = _ingest(store, _doc(8, [1.06], seed=8, processes=3))
    assert [f.kind for f in step] == ["latency"], step
    with store.read() as session:
        (row,) = regressions(session)
    store.dispose()
    runner = CliRunner()
    assert runner.invoke(main, ["regressions", "--db", db_url]).exit_code == 1
    result = runner.invoke(
        main,
        ["triage", str(row["id"]), "expected", "--note", "new tiling, accepted", "--author", "ada", "--db", db_url],
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["regressions", "--db", db_url]).exit_code == 0
    with open_store(db_url).read() as session:
        (triaged,) = regressions(session, status="expected")
    assert triaged["note"] == "new tiling, accepted" and triaged["author"] == "ada"
    store = open_store(db_url)
    for commit in range(9, 20):  # the accepted level: no new finding, and the history window starts at commit 8
        assert _ingest(store, _doc(commit, [1.06], seed=commit, processes=3)) == []
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
        assert _ingest(store, _timed(_doc(commit, [1.0, 2.0], seed=commit, processes=3), "events")) == []
    assert _ingest(store, _timed(_doc(8, [0.7, 1.4], seed=8, processes=3), "kernels")) == []
    for commit in range(9, 16):  # the kernels history builds up; events results stay out of it
        assert _ingest(store, _timed(_doc(commit, [0.7, 1.4], seed=commit, processes=3), "kernels")) == []
    slower = _ingest(store, _timed(_doc(16, [0.77, 1.4], seed=16, processes=3), "kernels"))
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
