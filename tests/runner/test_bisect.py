"""The culprit search on made-up histories (a compare callable that knows each commit's level)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from perfci.runner.bisect import Comparison, bisect
from perfci.store import models
from perfci.store.migrate import open_store
from tests.runner.tracked_repo import CASE, commit_kernel, commit_notes, import_history, perfci, run_tiny


def _history(levels: list[float], *, crash: set[int] = frozenset(), incorrect_from: int | None = None, noisy=()):
    """compare(base, head, threshold) from each candidate's level: a change of the threshold or more
    is a regression; ``noisy`` pairs of indices answer unknown; ``crash`` heads are skipped."""
    calls: list[tuple[int, int]] = []

    def compare(base: int, head: int, threshold: float) -> Comparison:
        calls.append((base, head))
        if head in crash:
            return Comparison(base, head, "skip", reason="kernels do not import")
        if incorrect_from is not None and head >= incorrect_from > base:
            return Comparison(base, head, "correctness")
        if (base, head) in noisy:
            return Comparison(base, head, "unknown", pairs=16)
        change = levels[head] / levels[base] - 1
        outcome = "regression" if change >= threshold else "improvement" if change <= -threshold else "same"
        return Comparison(base, head, outcome, change, pairs=8)

    return compare, calls


@pytest.mark.parametrize("at", range(1, 9))
def test_one_culprit_is_found_wherever_it_is_and_verified_against_its_parent(at):
    compare, calls = _history([1.0 if i < at else 1.10 for i in range(9)])
    result = bisect(9, compare, threshold=0.02)
    assert result.kind == "latency" and [c.index for c in result.culprits] == [at]
    (culprit,) = result.culprits
    assert culprit.parent == at - 1 and culprit.verified and culprit.share == pytest.approx(1.0)
    assert len(calls) <= 2 + 3 + 1  # confirm, log2(8) steps, verify, whether more remains


def test_two_culprits_each_with_its_share():
    levels = [1.0, 1.0, 1.0, 1.06, 1.06, 1.06, 1.06 * 1.04, 1.06 * 1.04]
    result = bisect(len(levels), _history(levels)[0], threshold=0.02)
    assert [(c.index, c.parent) for c in result.culprits] == [(3, 2), (6, 5)]
    shares = [c.share for c in result.culprits]  # of the change's logarithm: they add up to the whole
    whole = math.log(1.06 * 1.04)
    assert shares == [pytest.approx(math.log(1.06) / whole), pytest.approx(math.log(1.04) / whole)]
    assert sum(shares) == pytest.approx(1.0)


def test_a_change_that_does_not_reproduce_files_nothing():
    compare, calls = _history([1.0] * 6)
    result = bisect(6, compare, threshold=0.02)
    assert not result.reproduced and result.culprits == [] and calls == [(0, 5)]


def test_commits_that_crash_are_skipped_like_git_bisect_skip():
    result = bisect(7, _history([1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1], crash={3})[0], threshold=0.02)
    assert [c.index for c in result.culprits] == [5] and result.skipped == [3]
    assert result.culprits[0].parent == 4
    levels = [1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.1]
    # the parent itself crashes: the culprit is 3 or 4, as git bisect says it ("only skipped left")
    result = bisect(len(levels), _history(levels, crash={3})[0], threshold=0.02)
    assert result.culprits == [] and result.unresolved == (2, 4) and result.skipped == [3]


def test_a_culprit_hidden_behind_skipped_commits_is_a_range():
    levels = [1.0, 1.0, 1.1, 1.1, 1.1]
    result = bisect(len(levels), _history(levels, crash={1, 2, 3})[0], threshold=0.02)
    assert result.culprits == [] and result.unresolved == (0, 4) and result.skipped == [1, 2, 3]


def test_correctness_bisect_finds_the_first_incorrect_commit():
    result = bisect(8, _history([1.0] * 8, incorrect_from=5)[0], threshold=0.02)
    assert result.kind == "correctness" and [c.index for c in result.culprits] == [5]
    assert result.culprits[0].share is None and result.culprits[0].verified


def test_a_midpoint_the_pairs_cannot_decide_leaves_the_range_open():
    levels = [1.0, 1.0, 1.0, 1.0, 1.1]
    result = bisect(len(levels), _history(levels, noisy={(0, 2)})[0], threshold=0.02)
    assert result.culprits == [] and result.unresolved == (0, 4)


def _noisy_history(levels: list[float], noise: float):
    """compare as the paired test judges: the change's interval is ±``noise``; a regression when it
    lies above the threshold, the same when within it, otherwise unknown. Records each threshold."""
    thresholds: list[tuple[int, int, float]] = []

    def compare(base: int, head: int, threshold: float) -> Comparison:
        thresholds.append((base, head, threshold))
        change = levels[head] / levels[base] - 1
        low, high = change - noise, change + noise
        outcome = "regression" if low >= threshold else "same" if -threshold < low and high < threshold else "unknown"
        return Comparison(base, head, outcome, change, pairs=8, ci_high=high)

    return compare, thresholds


def test_an_undecided_step_far_under_the_confirmed_change_counts_as_like_good():
    """A 30x slowdown measured with noise as wide as the threshold: every midpoint like GOOD is
    undecided at the threshold, but its interval tops out far under a quarter of the confirmed
    change (in logarithms: 30^0.25 = 2.3x), so the search goes on; every step is judged at the
    threshold asked for."""
    levels = [1.0, 1.0, 1.0, 1.0, 1.0, 30.0, 30.0]
    compare, thresholds = _noisy_history(levels, noise=0.3)
    result = bisect(len(levels), compare, threshold=0.3)
    assert [c.index for c in result.culprits] == [5] and result.unresolved is None
    assert result.like_good_below == pytest.approx(30**0.25 - 1)
    assert {t for _, _, t in thresholds} == {0.3}
    assert result.culprits[0].share == pytest.approx(1.0)
    # an undecided step whose interval reaches a quarter of the change leaves the range open
    wide, _ = _noisy_history(levels, noise=1.5)
    assert bisect(len(levels), wide, threshold=0.3).unresolved == (0, 6)


def test_a_second_smaller_culprit_the_pairs_show_is_found_with_its_share_of_the_change():
    """+3300% at one commit, a further +97% at a later one (a slower and a slowest kernel under the
    interpreter): the second carries 16% of the change in logarithms, under the quarter an undecided
    step is read against, but its steps are decided regressions, so both culprits are named and
    their shares add up to the whole."""
    levels = [1.0] * 10 + [34.0] * 14 + [67.0] * 8
    compare, _ = _noisy_history(levels, noise=0.3)
    result = bisect(len(levels), compare, threshold=0.3)
    assert [c.index for c in result.culprits] == [10, 24] and result.unresolved is None
    assert [c.share for c in result.culprits] == [pytest.approx(0.84, abs=0.01), pytest.approx(0.16, abs=0.01)]
    assert sum(c.share for c in result.culprits) == pytest.approx(1.0)


def test_a_small_change_is_searched_at_the_threshold_and_every_culprit_found():
    levels = [1.0, 1.0, 1.02, 1.02, 1.02 * 1.10]
    result = bisect(len(levels), _history(levels)[0], threshold=0.02)
    assert [c.index for c in result.culprits] == [2, 4]


@pytest.mark.slow
def test_perfci_bisect_finds_the_slower_commit_end_to_end(tiny_repo, tmp_path):
    """GOOD, a notes-only commit, the commit that makes the kernel slower, another notes-only commit
    (BAD), under the interpreter: the slower commit is the culprit, verified against its parent."""
    work = Path(tiny_repo.working_tree_dir)
    good = commit_kernel(tiny_repo, "fast", "fast kernels")
    notes = commit_notes(tiny_repo, "notes 1")
    slower = commit_kernel(tiny_repo, "slower", "slower kernels")
    bad = commit_notes(tiny_repo, "notes 2")
    report = tmp_path / "bisect.md"
    common = ["--suite", "tiny", "--cases", CASE, "--device", "interpreter", "--threshold", "0.3"]
    db = f"sqlite:///{tmp_path / 'bisect.db'}"
    options = ["--max-pairs", "8", "--budget", "60", "--json"]
    result = perfci("bisect", good, bad, *common, *options, "--report", str(report), "--db", db, cwd=work)
    assert result.returncode == 1, result.stderr[-3000:]
    (row,) = json.loads(result.stdout)["cases"]
    # every comparison's processes are stored: a run per side, trigger bisect, one process per pair
    store = open_store(db)
    with store.read() as session:
        stored = session.execute(
            select(models.Run.trigger, models.Commit.sha, models.Commit.branch, models.Result.process_values)
            .join(models.Commit, models.Commit.id == models.Run.commit_id)
            .join(models.Result, models.Result.run_id == models.Run.id)
        ).all()
    store.dispose()
    measured = [step for step in row["steps"] if step["pairs"]]
    assert len(stored) == 2 * len(measured) and {r.trigger for r in stored} == {"bisect"}
    assert {r.branch for r in stored} == {None}
    by_commit = Counter()
    for r in stored:
        by_commit[r.sha] += len(r.process_values)
    for step in measured:
        by_commit[step["base"]] -= step["pairs"]
        by_commit[step["head"]] -= step["pairs"]
    assert set(by_commit.values()) == {0}
    assert f"stored {len(stored)} bisect runs" in result.stderr
    # on two lanes at once (speculative midpoints): the same culprit
    lanes = perfci("bisect", good, bad, *common, *options, "--gpus", "0,1", "--no-store", cwd=work)
    assert lanes.returncode == 1, lanes.stderr[-3000:]
    (row_on_lanes,) = json.loads(lanes.stdout)["cases"]
    assert [c["commit"] for c in row_on_lanes["culprits"]] == [slower] and row_on_lanes["comparisons_started"] >= 2
    assert "(GPU 0)" in lanes.stderr or "(GPU 1)" in lanes.stderr
    bad_lanes = perfci("bisect", good, bad, *common, "--gpus", "0,0", cwd=work)
    assert bad_lanes.returncode == 2 and "--gpus" in bad_lanes.stderr
    assert row["kind"] == "latency" and row["reproduced"]
    (culprit,) = row["culprits"]
    assert (culprit["commit"], culprit["parent"]) == (slower, notes) and culprit["verified"]
    assert culprit["share"] == pytest.approx(1.0, abs=0.5)
    assert f"| `{row['case']}` | {slower[:12]} | {notes[:12]} |" in report.read_text()
    # the same range without the slowdown does not reproduce: nothing is filed (exit 0)
    clean = perfci("bisect", good, notes, *common, *options, "--no-store", cwd=work)
    assert clean.returncode == 0, clean.stderr[-3000:]
    (row,) = json.loads(clean.stdout)["cases"]
    assert not row["reproduced"] and row["culprits"] == [] and "bisect runs" not in clean.stderr
    assert not (work / "perfci.db").exists()
    wrong_way = perfci("bisect", bad, good, *common, cwd=work)
    assert wrong_way.returncode == 2 and "not a descendant" in wrong_way.stderr


def _history_then_two_commits(tiny_repo, tmp_path) -> tuple[Path, str, str]:
    """A store with a history at GOOD, then a notes commit and the slower commit (the head): the
    tracked tree, the store's URL and the slower commit."""
    work = Path(tiny_repo.working_tree_dir)
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    good = commit_kernel(tiny_repo, "fast", "fast kernels")
    import_history(work, db, good, tmp_path)
    commit_notes(tiny_repo, "notes 1")
    return work, db, commit_kernel(tiny_repo, "slower", "slower kernels")


@pytest.mark.slow
@pytest.mark.parametrize("trigger", ["push", "nightly"])
def test_a_confirmed_regression_behind_several_commits_is_bisected_and_its_culprit_named(tiny_repo, tmp_path, trigger):
    """History at GOOD; then a notes commit and the slower commit land and only the head is measured
    (a push of two commits, or a nightly run): the suspicion is confirmed in pairs, then bisected
    over the two commits (`[detection] bisect = true`), and the finding names the culprit."""
    work, db, slower = _history_then_two_commits(tiny_repo, tmp_path)
    # a looser alpha than the default, so 8 pairs can confirm (the default needs 16)
    (work / "perfci.toml").write_text(
        "[detection]\ngate_interpreter = true\nconfirm_max_pairs = 8\nconfirm_alpha = 0.05\nbisect = true\n"
    )
    report = tmp_path / "report.md"
    result = run_tiny(work, "--db", db, "--report", str(report), "--trigger", trigger)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "bisecting" in result.stderr
    assert f"bisected: culprit {slower[:12]}" in report.read_text()
    shown = perfci("regressions", "--json", "--db", db, cwd=work)
    (row,) = [r for r in json.loads(shown.stdout) if r["kind"] == "latency"]
    search = row["verdict"]["confirmation"]["bisect"]
    (culprit,) = search["culprits"]
    assert culprit["commit"] == slower and culprit["verified"]
    # the search's comparisons are stored beside the runs (trigger bisect), outside the history
    store = open_store(db)
    with store.read() as session:
        triggers = session.scalars(select(models.Run.trigger).where(models.Run.trigger == "bisect")).all()
    store.dispose()
    assert len(triggers) == 2 * sum(bool(step["pairs"]) for step in search["steps"]) > 0


@pytest.mark.slow
def test_a_regression_proved_by_its_own_processes_behind_several_commits_is_bisected(tiny_repo, tmp_path):
    """As above, but the head is measured in five processes (`--processes 5`), whose evidence gates
    without a re-measurement (confirmation off): the bisect runs behind that finding instead."""
    work, db, slower = _history_then_two_commits(tiny_repo, tmp_path)
    (work / "perfci.toml").write_text(
        "[detection]\ngate_interpreter = true\nconfirm = false\nconfirm_alpha = 0.05\nbisect = true\n"
    )
    report = tmp_path / "report.md"
    result = run_tiny(work, "--db", db, "--report", str(report), "--processes", "5")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "confirming" not in result.stderr and "bisecting" in result.stderr
    assert f"bisected: culprit {slower[:12]}" in report.read_text()
    shown = perfci("regressions", "--json", "--db", db, cwd=work)
    (row,) = [r for r in json.loads(shown.stdout) if r["kind"] == "latency"]
    assert "confirmation" not in row["verdict"]
    (culprit,) = row["verdict"]["bisect"]["culprits"]
    assert culprit["commit"] == slower and culprit["verified"]
    assert row["bisect"]["state"] == "culprit"
