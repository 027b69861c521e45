"""Baselines: a PR is judged against its merge-base, a pinned baseline against that commit or run,
and PR results never enter a branch's history or the recorded regressions."""

from __future__ import annotations

import pytest

from perfci.document import DocumentError, parse_document
from perfci.store.ingest import ingest_document
from perfci.store.judge import judge_run
from perfci.store.migrate import open_store
from perfci.store.queries import regressions
from perfci.testing import make_document, sha_for
from tests.store.test_judge import _doc


def _ingest(store, data):
    return judge_run(store, ingest_document(store, parse_document(data)).run_uuid).findings


def _pr(commit: int, level: float, seed: int, base_commit: int) -> dict:
    data = _doc(commit, [level], seed=seed, processes=3)
    data["run"]["trigger"] = "pr"
    data["run"]["commit"]["branch"] = "feature"
    data["run"]["commit"]["sha"] = sha_for(f"pr-{commit}")
    data["run"]["baseline"] = {"commit": sha_for(f"commit-{base_commit}"), "reason": "merge-base with main"}
    return data


def _open(store) -> list[dict]:
    with store.read() as session:
        return regressions(session, status=None)


def test_a_pr_is_judged_against_its_merge_base_not_the_branch_tip(db_url):
    store = open_store(db_url)
    for commit in range(8):
        _ingest(store, _doc(commit, [1.0], seed=commit, processes=3))
    assert [f.kind for f in _ingest(store, _doc(8, [1.10], seed=8, processes=3))] == [
        "latency"
    ]  # main regressed after the fork
    recorded = len(_open(store))

    # the PR forked at commit 7 and did not change speed: the same as its merge-base, although main's
    # tip (commit 8) is 10% slower — against the tip it would look like an improvement
    assert _ingest(store, _pr(9, 1.0, seed=9, base_commit=7)) == []
    # a PR that is 6% slower than its merge-base is reported to its gate ...
    (finding,) = _ingest(store, _pr(10, 1.06, seed=10, base_commit=7))
    assert finding.kind == "latency" and finding.baseline_commit == sha_for("commit-7")
    assert abs(finding.change - 0.06) < 0.01
    # ... but not recorded: it is not the branch's history
    assert len(_open(store)) == recorded
    # and main's next commit is judged against main (1.10), never against the PR's results
    assert _ingest(store, _doc(11, [1.10], seed=11, processes=3)) == []
    store.dispose()


def test_a_pinned_baseline_commit_or_run(db_url):
    store = open_store(db_url)
    runs = []
    for commit in range(12):  # the release at commit 7 ran at 1.0; the branch drifted to 1.03 since
        data = _doc(commit, [1.0 if commit < 8 else 1.03], seed=commit, processes=3)
        runs.append(data["run"]["id"])
        _ingest(store, data)
    assert [f.kind for f in _ingest(store, _doc(12, [1.03], seed=12, processes=3))] == []  # nothing new
    pinned = _doc(13, [1.03], seed=13, processes=3)
    pinned["run"]["baseline"] = {"commit": sha_for("commit-7"), "reason": "pinned: v1.0"}
    (finding,) = [f for f in _ingest(store, pinned) if f.kind == "latency"]
    assert finding.baseline_commit == sha_for("commit-7") and abs(finding.change - 0.03) < 0.01
    by_run = _doc(14, [1.03], seed=14, processes=3)
    by_run["run"]["baseline"] = {"run": runs[6]}
    (finding,) = [f for f in _ingest(store, by_run) if f.kind == "latency"]
    assert finding.baseline_commit == sha_for("commit-6")
    store.dispose()


def test_a_baseline_needs_exactly_one_anchor():
    data = make_document()
    data["run"]["baseline"] = {"commit": sha_for("x"), "run": data["run"]["id"]}
    with pytest.raises(DocumentError, match="baseline"):
        parse_document(data)
    data["run"]["baseline"] = {"commit": "HEAD~1"}
    with pytest.raises(DocumentError, match=r"run\.baseline\.commit"):
        parse_document(data)
