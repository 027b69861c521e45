"""Where a finding's bisect stands, as the pages and the API show it, and in words."""

from __future__ import annotations

from perfci.findings import bisect_state, describe

GOOD, MID, BAD = "a" * 40, "b" * 40, "c" * 40


def _confirmed(search: dict) -> dict:
    return {"reason": "slower", "confirmation": {"kind": "regression", "pairs": 8, "reason": "+5%", "bisect": search}}


def test_a_verified_culprit_is_named_with_its_share():
    search = {"culprits": [{"commit": MID, "share": 0.98, "verified": True}, {"commit": BAD, "verified": False}]}
    assert bisect_state(_confirmed(search)) == {
        "state": "culprit",
        "culprits": [{"commit": MID, "share": 0.98}],
        "range": None,
    }
    assert "bisected: culprit bbbbbbbbbbbb (98% of it)" in describe("latency", _confirmed(search))


def test_an_undecided_or_unreproduced_bisect_says_so():
    undecided = bisect_state(_confirmed({"culprits": [], "unresolved": [GOOD, BAD]}))
    assert undecided == {"state": "undecided", "culprits": [], "range": [GOOD, BAD]}
    assert bisect_state(_confirmed({"culprits": []}))["state"] == "not reproduced"
    assert bisect_state({"reason": "slower"}) is None and bisect_state(None) is None


def test_a_bisect_behind_a_regression_its_processes_proved_is_read_from_the_verdict_itself():
    verdict = {"reason": "+10.0%..+10.3% (99% interval, 5 processes a side)", "bisect": {"culprits": []}}
    verdict["bisect"]["culprits"].append({"commit": MID, "share": 1.0, "verified": True})
    assert bisect_state(verdict)["culprits"] == [{"commit": MID, "share": 1.0}]
    assert describe("latency", verdict).endswith("bisected: culprit bbbbbbbbbbbb (100% of it)")
