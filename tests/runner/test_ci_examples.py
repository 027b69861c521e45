"""The CI examples end to end: `examples/ci/perfci-ci.sh` measures, stores, writes the report and
fails the job on an incorrect kernel; `examples/ci/post_report.py` posts that report as a GitLab
merge-request note or a GitHub pull-request comment (to a fake API here), and nothing when nothing
changed."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.runner.tracked_repo import CASE, ROOT, commit_kernel, perfci


class FakeApi(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict, dict]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeApi.received.append((self.path, dict(self.headers), body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_api() -> Iterator[str]:
    FakeApi.received.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _post_report(report: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITHUB_", "PERFCI_"))}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ci" / "post_report.py"), str(report)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
    )


def test_the_ci_script_gates_and_the_report_reaches_the_merge_request(tiny_repo, tmp_path, fake_api):
    work = Path(tiny_repo.working_tree_dir)
    db = f"sqlite:///{tmp_path / 'runner.db'}"
    commit_kernel(tiny_repo, "fast", "fast kernels")
    first = perfci(
        "run", "--suite", "tiny", "--cases", CASE, "--device", "interpreter", "--budget", "0.5", "--db", db, cwd=work
    )
    assert first.returncode == 0, first.stderr
    commit_kernel(tiny_repo, "wrong", "a kernel that computes the wrong thing")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PERFCI_DB": db,
        "PERFCI_SUITE": "tiny",
        "PERFCI_TRIGGER": "push",
        "PERFCI_CASES": CASE,
        "PYTHONSAFEPATH": "1",
    }
    job = subprocess.run(
        ["bash", str(ROOT / "examples" / "ci" / "perfci-ci.sh")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert job.returncode == 1, job.stdout + job.stderr  # the CI job fails on the incorrect kernel
    report = work / "perfci-report.md"
    assert "orrectness" in report.read_text() and "perfci found changes" in job.stdout
    assert json.loads((work / "perfci-results.json").read_text())["results"][0]["status"] == "incorrect"

    posted = _post_report(
        report,
        work,
        CI_API_V4_URL=f"{fake_api}/api/v4",
        CI_PROJECT_ID="42",
        CI_MERGE_REQUEST_IID="7",
        PERFCI_GITLAB_TOKEN="glpat-secret",
    )
    assert posted.returncode == 0, posted.stderr
    ((path, headers, body),) = FakeApi.received
    assert path == "/api/v4/projects/42/merge_requests/7/notes" and headers["Private-Token"] == "glpat-secret"
    assert body["body"] == report.read_text()


def test_the_report_reaches_a_github_pull_request_and_silence_posts_nothing(tmp_path, fake_api):
    report = tmp_path / "perfci-report.md"
    report.write_text("## perfci: 1 regression\n")
    posted = _post_report(
        report,
        tmp_path,
        GITHUB_API_URL=fake_api,
        GITHUB_REPOSITORY="acme/kernels",
        PERFCI_PR_NUMBER="12",
        GITHUB_TOKEN="ghs-secret",
    )
    assert posted.returncode == 0, posted.stderr
    ((path, headers, body),) = FakeApi.received
    assert path == "/repos/acme/kernels/issues/12/comments" and headers["Authorization"] == "Bearer ghs-secret"
    assert body == {"body": "## perfci: 1 regression\n"}
    report.write_text("")
    quiet = _post_report(
        report,
        tmp_path,
        GITHUB_API_URL=fake_api,
        GITHUB_REPOSITORY="acme/kernels",
        PERFCI_PR_NUMBER="12",
        GITHUB_TOKEN="ghs-secret",
    )
    assert quiet.returncode == 0 and "nothing changed" in quiet.stdout and len(FakeApi.received) == 1
    report.write_text("## perfci: 1 regression\n")
    nowhere = _post_report(report, tmp_path)
    assert nowhere.returncode == 2 and "CI_MERGE_REQUEST_IID" in nowhere.stderr
    down = _post_report(
        report,
        tmp_path,
        GITHUB_API_URL="http://127.0.0.1:9",
        GITHUB_REPOSITORY="a/b",
        PERFCI_PR_NUMBER="1",
        GITHUB_TOKEN="x",
    )
    assert down.returncode == 3 and "could not post" in down.stderr
