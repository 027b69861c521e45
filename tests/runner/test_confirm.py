"""Confirm before gating, end to end under the interpreter: `perfci run` re-measures a suspected
regression in fresh process pairs (baseline commit vs head) and gates only when they confirm it;
an autotuned kernel whose processes land in different configs is refuted, never gating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.tracked_repo import CASE, commit_kernel, commit_notes, import_history, perfci, run_tiny

pytestmark = pytest.mark.slow


def test_a_suspected_regression_is_confirmed_in_process_pairs_before_it_gates(tiny_repo, tmp_path):
    work = Path(tiny_repo.working_tree_dir)
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    # a looser alpha than the default, so 8 pairs can confirm (the default needs 16)
    (work / "perfci.toml").write_text(
        "[detection]\ngate_interpreter = true\nconfirm_max_pairs = 8\nconfirm_alpha = 0.05\n"
    )
    fast = commit_kernel(tiny_repo, "fast", "fast")
    import_history(work, db, fast, tmp_path)
    slower = commit_kernel(tiny_repo, "slower", "slower")
    report = tmp_path / "report.md"
    result = run_tiny(work, "--db", db, "--report", str(report))
    assert result.returncode == 1, result.stderr
    assert f"confirming {CASE.rstrip('*')}" in result.stderr and "-> regression after" in result.stderr
    text = report.read_text()
    assert "Latency regressions" in text and slower[:12] in text and "re-measured in" in text
    shown = perfci("regressions", "--json", "--db", db, cwd=work)
    (row,) = [r for r in json.loads(shown.stdout) if r["kind"] == "latency"]
    assert row["commit"] == slower and row["baseline_commit"] == fast
    assert row["verdict"]["confirmation"]["kind"] == "regression" and row["verdict"]["confirmation"]["pairs"] >= 8


def test_autotune_modes_are_refuted_not_gated(tiny_repo, tmp_path, monkeypatch):
    """Identical autotuned kernels: the head's process lands in the other config, 2x slower. One
    process cannot tell that from a regression: it is suspected, re-measured in pairs whose configs
    differ, and refuted; the job passes and the report says why."""
    monkeypatch.setenv("PERFCI_FIXTURE_DRAWS", str(tmp_path / "draws"))
    work = Path(tiny_repo.working_tree_dir)
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    # 8 pairs at alpha 0.01 (the default 0.002 cannot confirm at 8 pairs): only 8 pairs of one sign
    # confirm, a chance of 2 in 256 when both sides draw their modes alike
    (work / "perfci.toml").write_text(
        "[detection]\ngate_interpreter = true\nconfirm_max_pairs = 8\nconfirm_alpha = 0.01\n"
    )
    base = commit_kernel(tiny_repo, "autotuned", "autotuned kernels")
    monkeypatch.setenv("PERFCI_FIXTURE_PICK", "128")  # the history in the faster config
    import_history(work, db, base, tmp_path)
    monkeypatch.delenv("PERFCI_FIXTURE_PICK")
    commit_notes(tiny_repo, "docs only")
    report = tmp_path / "report.md"
    for _ in range(8):  # until the head's process lands in the other config than the history's
        result = run_tiny(work, "--db", db, "--report", str(report), "--allow-dirty")
        assert result.returncode == 0, result.stderr
        if "confirming" in result.stderr:
            break
    assert "confirming" in result.stderr and "-> regression" not in result.stderr, result.stderr[-2000:]
    assert "suspected, not confirmed" in report.read_text()
