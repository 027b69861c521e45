"""`perfci compare BASE HEAD` end to end on a throwaway repository under the interpreter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.tracked_repo import CASE, commit_kernel, commit_notes, perfci

pytestmark = pytest.mark.slow


def _compare(work: Path, base: str, head: str, *extra: str):
    result = perfci(
        "compare",
        base,
        head,
        "--cases",
        CASE,
        "--device",
        "interpreter",
        "--budget",
        "600",
        "--rounds",
        "3",
        "--max-pairs",
        "8",
        "--json",
        *extra,
        cwd=work,
    )
    rows = json.loads(result.stdout)["cases"] if result.stdout.strip().startswith("{") else None
    return result, rows


def test_a_slower_head_is_a_regression_found_interleaved(tiny_repo, tmp_path):
    work = Path(tiny_repo.working_tree_dir)
    fast = commit_kernel(tiny_repo, "fast", "fast")
    slower = commit_kernel(tiny_repo, "slower", "slower")
    report = tmp_path / "report.md"
    result, rows = _compare(work, fast, slower, "--report", str(report), "--html", str(tmp_path / "html"))
    assert result.returncode == 1, {k: rows[0][k] for k in ("pair_changes", "looks", "verdict", "stopped_by")}
    (row,) = rows
    assert row["outcome"] == "regression"
    assert row["verdict"]["change"] > 0.1 and row["verdict"]["p_value"] < 0.01
    assert row["pairs"] == 8 and row["looks"] == ["2:unknown", "4:unknown", "8:regression"]
    assert all(c > 0.1 for c in row["pair_changes"]) and row["threshold"] == 0.02
    assert f"compare {fast[:12]}..{slower[:12]} on interpreter: 1 regression" in result.stderr
    page = (tmp_path / "html" / "index.html").read_text()  # a self-contained page for CI artifacts
    assert "<script" not in page and 'class="worse">regression' in page and row["case"] in page
    assert "Latency regressions" in report.read_text() and slower[:12] in report.read_text()


def test_an_unchanged_commit_is_not_a_regression(tiny_repo, tmp_path):
    work = Path(tiny_repo.working_tree_dir)
    fast = commit_kernel(tiny_repo, "fast", "fast")
    report = tmp_path / "report.md"
    result, rows = _compare(work, fast, fast, "--report", str(report))
    assert result.returncode == 0, result.stderr
    assert rows[0]["outcome"] in ("same", "unknown")  # unknown only on a machine too loaded to decide
    assert report.read_text() == ""  # nothing changed: no PR comment


def test_autotune_modes_in_an_aa_compare_are_never_a_regression(tiny_repo, monkeypatch, tmp_path):
    """Both commits run the same autotuned kernel; each process picks one of two configs about 2x
    apart. The pairs disagree, the paired test says so, and the table names the configs."""
    monkeypatch.setenv("PERFCI_FIXTURE_DRAWS", str(tmp_path / "draws"))
    work = Path(tiny_repo.working_tree_dir)
    first = commit_kernel(tiny_repo, "autotuned", "autotuned")
    second = commit_notes(tiny_repo, "docs only")
    result, rows = _compare(work, first, second)
    assert result.returncode == 0, result.stderr
    (row,) = rows
    assert row["outcome"] != "regression"
    assert row["autotune"] is not None and "BLOCK 64" in row["autotune"] and "BLOCK 128" in row["autotune"]


def test_wrong_or_crashing_head_is_a_correctness_regression(tiny_repo):
    work = Path(tiny_repo.working_tree_dir)
    fast = commit_kernel(tiny_repo, "fast", "fast")
    wrong = commit_kernel(tiny_repo, "wrong", "wrong")
    crash = commit_kernel(tiny_repo, "crash", "crash")
    result, rows = _compare(work, fast, wrong)
    assert result.returncode == 1
    assert rows[0]["outcome"] == "correctness" and rows[0]["head"]["status"] == "incorrect"
    result, rows = _compare(work, fast, crash)
    assert result.returncode == 1
    assert rows[0]["outcome"] == "correctness" and "signal 11" in rows[0]["head"]["error"]


def test_bad_input_exits_2_with_a_message(tiny_repo):
    work = Path(tiny_repo.working_tree_dir)
    result = perfci("compare", "HEAD", "no-such-rev", "--device", "interpreter", cwd=work)
    assert result.returncode == 2 and "unknown revision 'no-such-rev'" in result.stderr
    result = perfci("compare", "HEAD", "HEAD", "--device", "interpreter", "--threshold", "5", cwd=work)
    assert result.returncode == 2 and "--threshold" in result.stderr
