"""Many writers at once, and a writer killed mid-import: nothing lost, nothing partial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from perfci.store import models
from perfci.store.migrate import open_store
from perfci.testing import make_document

pytestmark = pytest.mark.slow
PROCESSES = 8
DOCUMENTS_EACH = 200


def _perfci(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "perfci", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _write_jsonl(path: Path, documents: list[dict]) -> Path:
    path.write_text("".join(json.dumps(document) + "\n" for document in documents))
    return path


def test_eight_processes_import_1600_runs_exactly_once(db_url, tmp_path):
    files = [
        _write_jsonl(
            tmp_path / f"batch{worker}.jsonl",
            [make_document(commit_index=worker * 1000 + i, cases=2, samples=5) for i in range(DOCUMENTS_EACH)],
        )
        for worker in range(PROCESSES)
    ]
    # The database does not exist yet: the first-use migration races too.
    workers = [_perfci("import", str(path), "--db", db_url) for path in files]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
        assert "locked" not in stderr.lower() and "Traceback" not in stderr
        assert f"imported {DOCUMENTS_EACH} run(s)" in stdout
    store = open_store(db_url)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Run)) == PROCESSES * DOCUMENTS_EACH
        assert session.scalar(select(func.count(func.distinct(models.Run.uuid)))) == PROCESSES * DOCUMENTS_EACH
        assert session.scalar(select(func.count()).select_from(models.Result)) == PROCESSES * DOCUMENTS_EACH * 2
    store.dispose()


def test_sigkill_mid_import_leaves_no_partial_document(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    results_per_document = 1500
    path = _write_jsonl(
        tmp_path / "big.jsonl",
        [make_document(commit_index=i, cases=results_per_document, samples=20) for i in range(12)],
    )
    open_store(db_url).dispose()
    worker = _perfci("import", str(path), "--db", db_url)
    store = open_store(db_url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once at least one document is in, mid-way through the rest
        with store.read() as session:
            if session.scalar(select(func.count()).select_from(models.Run)):
                break
        time.sleep(0.02)
    time.sleep(0.15)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert worker.returncode == -signal.SIGKILL
    with store.read() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        runs = session.scalar(select(func.count()).select_from(models.Run))
        assert 1 <= runs < 12
        per_run = session.execute(select(models.Result.run_id, func.count()).group_by(models.Result.run_id)).all()
        assert len(per_run) == runs
        assert all(count == results_per_document for _, count in per_run)
        samples = session.scalar(select(func.count()).select_from(models.Samples))
        assert samples == runs * results_per_document
    store.dispose()
