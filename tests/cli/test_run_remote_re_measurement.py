"""A remote runner re-measures and bisects for the server as a local run does: where the head reads
the same as its baseline but the baseline's fresh processes read like the head, the baseline is
re-measured against the level's result before it, and that verdict travels with the head's; a
slowdown the run's own processes proved is bisected here and the search posted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from perfci.cli import run as run_cli
from perfci.config import DetectionConfig, PerfciConfig
from perfci.document import parse_document
from perfci.findings import Finding, bisect_state
from perfci.testing import make_document, sha_for

BASELINE, EARLIER = sha_for("baseline"), sha_for("earlier")


def _pairs(kind: str, change: float, base_value: float) -> dict[str, Any]:
    return {"kind": kind, "change": change, "ci_low": change - 0.01, "ci_high": change + 0.01, "base_value": base_value}


@pytest.mark.parametrize(("trigger", "baseline_reads"), [("push", 1.1), ("pr", 1.1), ("push", 1.0)])
def test_the_baseline_behind_a_suspicion_is_re_measured_and_its_verdict_posted(monkeypatch, trigger, baseline_reads):
    data = make_document(cases=1)
    data["run"]["trigger"] = trigger
    document = parse_document(data)
    case, head = data["results"][0]["case"], data["run"]["commit"]["sha"]
    suspicion = Finding(case, "suspected", head, BASELINE, 0.10, {"level": 1.0, "earlier_commit": EARLIER})
    asked: list[tuple[str, str | None]] = []

    def confirm(suspects: list[Finding]) -> list[dict[str, Any]]:
        asked.extend((f.commit, f.baseline_commit) for f in suspects)
        return [
            _pairs("regression", 0.1, 1.0) if f.commit == BASELINE else _pairs("same", 0.0, baseline_reads)
            for f in suspects
        ]

    posted: dict[str, Any] = {}

    def post(url: str, token: str | None, run_id: str, verdicts: dict[str, Any]) -> list[Finding]:
        posted.update(verdicts)
        return []

    monkeypatch.setattr(run_cli, "post_confirmations", post)
    config = PerfciConfig(detection=DetectionConfig(gate_interpreter=True))
    found = run_cli._confirm_there("http://server/api/runs", None, document, [suspicion], [], config, confirm)
    if baseline_reads == 1.0:
        assert asked == [(head, BASELINE)] and "baseline_remeasured" not in posted[case]
        return
    assert asked == [(head, BASELINE), (BASELINE, EARLIER)]
    if trigger == "pr":  # applied here, not recorded there
        assert posted == {} and {(f.commit, f.kind) for f in found} == {(head, "suspected"), (BASELINE, "latency")}
    else:
        assert posted[case]["kind"] == "same" and posted[case]["baseline_remeasured"]["kind"] == "regression"


@pytest.mark.parametrize(("trigger", "bisect_on"), [("push", True), ("pr", True), ("push", False)])
def test_a_slowdown_the_runs_processes_proved_is_bisected_here_and_the_search_posted(monkeypatch, trigger, bisect_on):
    data = make_document(cases=1)
    data["run"]["trigger"] = trigger
    document = parse_document(data)
    case, head = data["results"][0]["case"], data["run"]["commit"]["sha"]
    proved = Finding(case, "latency", head, BASELINE, 0.10, {"reason": "the processes of both sides differ"})
    search = {"case": case, "culprits": [{"commit": EARLIER, "share": 1.0, "verified": True}], "unresolved": None}
    asked: list[Finding] = []

    def bisect(finding: Finding) -> dict[str, Any]:
        asked.append(finding)
        return search

    posted: dict[str, Any] = {}

    def post(url: str, token: str | None, run_id: str, searches: dict[str, Any]) -> list[Finding]:
        posted.update(searches)
        return [replace(proved, verdict={**proved.verdict, "bisect": searches[case]})]

    monkeypatch.setattr(run_cli, "post_bisects", post)
    config = PerfciConfig(detection=DetectionConfig(bisect=bisect_on))
    (found,) = run_cli._bisect_there("http://server/api/runs", None, document, [proved], [], config, bisect)
    if not bisect_on:
        assert asked == [] and posted == {} and found == proved
        return
    assert asked == [proved] and bisect_state(found.verdict)["culprits"] == [{"commit": EARLIER, "share": 1.0}]
    assert posted == ({} if trigger == "pr" else {case: search})  # a pull request's search is applied here
