"""Workers forked from the fork server: torch imported already, yet each child has the environment,
directory and standard streams it was given, a commit's own ``perfci`` never shadows the installed
one, and a child that crashes or hangs is told apart from one that finished."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest

from perfci.runner.execute import KernelsImportError, check_kernels_import
from perfci.runner.forkserver import ForkedWorker
from perfci.runner.live_worker import LiveWorker, WorkerGone, worker_env

#: kernels whose import writes down what the process saw, then does what $PERFCI_TEST_ON_IMPORT says
REPORTING_KERNELS = """
import gc, json, os, sys, time
triton_already_imported = "triton" in sys.modules
from perfci.runner.worker import CASE_IMPORTS
case_imports_preloaded = all(name in sys.modules for name in CASE_IMPORTS)
import triton

def _kernel(x):
    pass

facts = {
    "torch_already_imported": "torch" in sys.modules,
    "triton_already_imported": triton_already_imported,
    "case_imports_preloaded": case_imports_preloaded,
    "jit": type(triton.jit(_kernel)).__name__,
    "frozen_objects": gc.get_freeze_count(),
    "cwd": os.getcwd(),
    "interpret": os.environ.get("TRITON_INTERPRET"),
    "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
    "marker": os.environ.get("PERFCI_TEST_MARKER"),
    "path_has_cwd": "" in sys.path or "." in sys.path,
    "pid": os.getpid(),
}
# written whole, then renamed: a test that waits for the file never reads it half written
with open(os.environ["PERFCI_TEST_REPORT"] + ".part", "w") as report:
    json.dump(facts, report)
os.replace(os.environ["PERFCI_TEST_REPORT"] + ".part", os.environ["PERFCI_TEST_REPORT"])
what = os.environ.get("PERFCI_TEST_ON_IMPORT", "")
if what == "raise":
    raise ImportError("no module named 'flash_attn_3' (the commit needs it)")
if what == "segfault":
    import signal
    os.kill(os.getpid(), signal.SIGSEGV)
if what == "hang":
    time.sleep(3600)
if what == "chatty":
    print("x" * 2**20)  # more than a pipe holds
paged_prefill = paged_decode = lambda *args, **kwargs: None
"""


@pytest.fixture
def worktree(tmp_path, monkeypatch) -> Path:
    tree = tmp_path / "tree"
    (tree / "kernels" / "swa").mkdir(parents=True)
    (tree / "kernels" / "__init__.py").write_text("")
    (tree / "kernels" / "swa" / "__init__.py").write_text(REPORTING_KERNELS)
    (tree / "kernels" / "swa" / "reference.py").write_text("")
    # an old perfci inside the measured commit must never shadow the installed one
    (tree / "perfci").mkdir()
    (tree / "perfci" / "__init__.py").write_text("raise ImportError('the commit shadowed the installed perfci')\n")
    monkeypatch.setenv("PERFCI_TEST_REPORT", str(tmp_path / "report.json"))
    return tree


def _report(worktree: Path) -> dict:
    return json.loads((worktree.parent / "report.json").read_text())


def test_a_forked_worker_has_its_own_environment_and_directory_and_torch_imported(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_MARKER", "set after the fork server started")
    check_kernels_import(worktree, "interpreter")
    report = _report(worktree)
    assert report["torch_already_imported"]
    # Triton compiles its own library at import for the GPU or the interpreter: each child imports it
    assert not report["triton_already_imported"]
    assert report["case_imports_preloaded"]
    assert report["jit"] == "InterpretedFunction"  # Triton imported by the server, the switch read here
    assert report["frozen_objects"] > 10_000  # the server's imports: never scanned by the child's collections
    assert report["pid"] != os.getpid()
    assert report["cwd"] == str(worktree)
    assert report["interpret"] == "1"
    assert report["marker"] == "set after the fork server started"
    assert not report["path_has_cwd"]

    env = worker_env("cuda", gpu="3")
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = ForkedWorker(f"--load {worktree}", worktree, env, stderr)
        process.stdin.close()
        assert process.wait(timeout=120) == 0
    report = _report(worktree)
    assert report["interpret"] is None and report["visible"] == "3"
    assert report["jit"] == "JITFunction"


def test_an_import_error_names_its_cause(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_ON_IMPORT", "raise")
    with pytest.raises(KernelsImportError, match="flash_attn_3"):
        check_kernels_import(worktree, "interpreter")


def test_a_crash_at_import_is_a_failed_check_not_a_hang(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_ON_IMPORT", "segfault")
    started = time.monotonic()
    with pytest.raises(KernelsImportError):
        check_kernels_import(worktree, "interpreter")
    assert time.monotonic() - started < 60


def test_an_import_that_prints_much_is_checked_without_waiting(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_ON_IMPORT", "chatty")
    started = time.monotonic()
    check_kernels_import(worktree, "interpreter")
    assert time.monotonic() - started < 60


def test_a_dead_worker_is_seen_at_once_with_the_signal_that_ended_it(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_ON_IMPORT", "hang")
    live = LiveWorker(f"--load {worktree}", worktree, "interpreter", None, timeout_s=120)
    deadline = time.monotonic() + 60
    while not (worktree.parent / "report.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(_report(worktree)["pid"], signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(WorkerGone, match="signal 9"):
        live.read("PERFCI_RESULT ")
    # the end of its stdout came with its death, not after the answer's deadline
    assert time.monotonic() - started < 30
    live.kill()


def test_a_hung_worker_is_killed_at_its_deadline(worktree, monkeypatch):
    monkeypatch.setenv("PERFCI_TEST_ON_IMPORT", "hang")
    live = LiveWorker(f"--load {worktree}", worktree, "interpreter", None, timeout_s=3)
    with pytest.raises(WorkerGone, match="timeout") as gone:
        live.read("PERFCI_RESULT ")
    assert gone.value.status == "timeout"
    assert live.proc.returncode == -signal.SIGKILL


def test_the_worker_module_still_runs_as_a_script(worktree):
    """``python -m perfci.runner.worker --load WORKTREE``: the same modes without the fork server."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-P", "-m", "perfci.runner.worker", "--load", str(worktree)],
        cwd=worktree,
        env=worker_env("interpreter"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert not _report(worktree)["torch_already_imported"]
