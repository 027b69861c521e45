"""The one path after a document exists, on SQLite and PostgreSQL: a regression the run's own
processes proved is bisected (``[detection] bisect``) before its alerts are queued, and the search
is stored with it; without the setting, on a pull request, or with nothing to search, it is not. A
suspicion that re-measuring refuted never becomes a level the next result is judged against."""

from __future__ import annotations

from typing import Any

import pytest

from perfci.config import DetectionConfig, PerfciConfig, Webhook
from perfci.document import parse_document
from perfci.findings import Finding, bisect_state
from perfci.pipeline import process_document
from perfci.store import outbox
from perfci.store.migrate import open_store
from perfci.store.queries import recorded_findings
from tests.store.test_judge import _doc, _sha

HOOK = Webhook(name="slack", url="http://127.0.0.1:9/hook", format="slack")


def _config(bisect: bool) -> PerfciConfig:
    return PerfciConfig(webhook=[HOOK], detection=DetectionConfig(bisect=bisect))


def _search(culprit: str) -> dict[str, Any]:
    return {"case": "decode/bf16/case0", "culprits": [{"commit": culprit, "share": 1.0, "verified": True}]}


class Bisector:
    """A ``bisect`` callable that names a culprit, or finds no range to search (``search=False``)."""

    def __init__(self, search: bool = True) -> None:
        self.asked: list[Finding] = []
        self.search = search

    def __call__(self, finding: Finding) -> dict[str, Any] | None:
        self.asked.append(finding)
        return _search(_sha(99)) if self.search else None


def _regressed_run(db_url: str, config: PerfciConfig, bisect: Bisector, trigger: str = "push"):
    """Eight runs at one level, then a run 10% slower, each with three processes a case."""
    store = open_store(db_url)
    for commit in range(8):
        process_document(store, config, parse_document(_doc(commit, [1.0], seed=commit, processes=3)), bisect=bisect)
    assert bisect.asked == []  # nothing gated: nothing searched
    regressed = _doc(8, [1.10], seed=8, processes=3)
    regressed["run"]["trigger"] = trigger
    return store, process_document(store, config, parse_document(regressed), bisect=bisect)


def test_a_regression_its_processes_proved_is_bisected_and_its_alert_names_the_culprit(db_url):
    bisect = Bisector()
    store, processed = _regressed_run(db_url, _config(bisect=True), bisect)
    (asked,) = bisect.asked
    assert (asked.kind, asked.commit, asked.baseline_commit) == ("latency", _sha(8), _sha(7))
    (finding,) = processed.findings
    assert finding.verdict["bisect"] == _search(_sha(99))
    with store.read() as session:
        (stored,) = recorded_findings(session, processed.run_uuid)
    assert bisect_state(stored.verdict) == {
        "state": "culprit",
        "culprits": [{"commit": _sha(99), "share": 1.0}],
        "range": None,
    }
    (delivery,) = outbox.deliveries(store, ids=processed.deliveries)
    assert f"culprit `{_sha(99)[:10]}` (bisected)" in delivery.payload["text"] + str(delivery.payload["blocks"])
    store.dispose()


@pytest.mark.parametrize(
    ("bisect_on", "trigger", "search"), [(False, "push", True), (True, "pr", True), (True, "push", False)]
)
def test_no_setting_a_pull_request_or_no_range_leaves_the_finding_as_judged(db_url, bisect_on, trigger, search):
    bisect = Bisector(search)
    store, processed = _regressed_run(db_url, _config(bisect_on), bisect, trigger)
    assert len(bisect.asked) == (1 if bisect_on and trigger == "push" else 0)
    (finding,) = processed.findings
    assert finding.kind == "latency" and "bisect" not in finding.verdict
    if trigger == "push":  # a pull request's findings are reported, not recorded
        with store.read() as session:
            assert [f.verdict.get("bisect") for f in recorded_findings(session, processed.run_uuid)] == [None]
    assert len(outbox.deliveries(store, ids=processed.deliveries)) == 1
    store.dispose()


def test_a_stall_re_measuring_refuted_does_not_hide_the_step_at_the_next_commit(db_url):
    """One process per result: a +49% stall is suspected and re-measured (the pairs' interval,
    -10..+10%, refutes it); the next commit's real +47% step is then judged against the level
    before the stall, with the stall's commit as its baseline, and re-measured there."""
    store, config = open_store(db_url), PerfciConfig()
    asked: list[tuple[str, str | None]] = []

    def confirm(suspects: list[Finding]) -> list[dict[str, Any]]:
        asked.extend((f.commit, f.baseline_commit) for f in suspects)
        return [
            {"kind": "unknown", "change": 0.0, "ci_low": -0.1, "ci_high": 0.1, "n_head": 64, "pairs": 64, "reason": "x"}
            for _ in suspects
        ]

    for commit, level in enumerate([1.0] * 9 + [1.49] + [1.47]):
        processed = process_document(store, config, parse_document(_doc(commit, [level], seed=commit)), confirm=confirm)
    (step,) = processed.findings
    assert step.kind == "suspected" and step.change == pytest.approx(0.47, abs=0.02)
    assert asked == [(_sha(9), _sha(8)), (_sha(10), _sha(9))]
    store.dispose()


def test_a_suspicion_the_pairs_show_faster_is_recorded_as_the_commits_improvement(db_url):
    """One process per result: a +30% offset process makes a commit suspected; its pairs show it 5%
    faster, so the commit's finding is that improvement (the suspicion is gone, the case judged);
    the next result is still judged against the level before the offset process."""
    store, config = open_store(db_url), PerfciConfig()
    faster = {"kind": "improvement", "change": -0.05, "ci_low": -0.06, "ci_high": -0.04, "n_head": 8, "pairs": 8}

    def confirm(suspects: list[Finding]) -> list[dict[str, Any]]:
        return [{**faster, "reason": "pairs faster"} for _ in suspects]

    for commit in range(9):
        process_document(store, config, parse_document(_doc(commit, [1.0], seed=commit)), confirm=confirm)
    processed = process_document(store, config, parse_document(_doc(9, [1.30], seed=9)), confirm=confirm)
    (finding,) = processed.findings
    assert (finding.kind, finding.change, finding.baseline_commit) == ("improvement", -0.05, _sha(8))
    assert finding.verdict["change"] == pytest.approx(0.30, abs=0.02)  # what the one process suggested
    assert processed.not_judged == []
    with store.read() as session:
        assert [(f.kind, f.change) for f in recorded_findings(session, processed.run_uuid)] == [("improvement", -0.05)]
    after = process_document(store, config, parse_document(_doc(10, [0.95], seed=10)), confirm=confirm)
    assert [(f.commit, f.baseline_commit) for f in after.findings] == [(_sha(10), _sha(9))]
    assert after.findings[0].change == pytest.approx(-0.05, abs=0.02)
    store.dispose()


@pytest.mark.parametrize("baseline_reads", [1.47, 1.0])
def test_a_step_its_commits_one_process_hid_is_found_there_when_its_baseline_re_measures_like_the_head(
    db_url, baseline_reads
):
    """One process per result: commit 9 made a +47% step but its one process read at the level;
    commit 10 is suspected against it and re-measured the same as it. When commit 9's fresh
    processes read like the head (+47% off its level), commit 9 is re-measured against commit 8,
    and the step is a gating regression at commit 9; when they read at the level, nothing more is
    measured and the suspicion stays."""
    store, config = open_store(db_url), PerfciConfig()
    asked: list[tuple[str, str | None]] = []

    def confirm(suspects: list[Finding]) -> list[dict[str, Any]]:
        asked.extend((f.commit, f.baseline_commit) for f in suspects)
        same = {"kind": "same", "change": 0.0, "ci_low": -0.04, "ci_high": 0.04, "base_value": baseline_reads}
        slower = {"kind": "regression", "change": 0.47, "ci_low": 0.4, "ci_high": 0.55, "base_value": 1.0}
        return [{**(slower if f.commit == _sha(9) else same), "n_head": 8, "pairs": 8, "reason": "x"} for f in suspects]

    for commit in range(10):
        hid = process_document(store, config, parse_document(_doc(commit, [1.0], seed=commit)), confirm=confirm)
    processed = process_document(store, config, parse_document(_doc(10, [1.47], seed=10)), confirm=confirm)
    kinds = {(f.commit, f.baseline_commit): (f.kind, f.change) for f in processed.findings}
    assert kinds.pop((_sha(10), _sha(9)))[0] == "suspected"
    if baseline_reads == 1.0:
        assert asked == [(_sha(10), _sha(9))] and kinds == {}
    else:
        assert asked == [(_sha(10), _sha(9)), (_sha(9), _sha(8))]
        assert kinds == {(_sha(9), _sha(8)): ("latency", 0.47)}
        (step,) = [f for f in processed.findings if f.kind == "latency"]
        assert "a step hidden at the baseline" in step.verdict["reason"]
        with store.read() as session:  # stored at its commit, where that commit's run shows it
            assert [(f.kind, f.change) for f in recorded_findings(session, hid.run_uuid)] == [("latency", 0.47)]
    store.dispose()
