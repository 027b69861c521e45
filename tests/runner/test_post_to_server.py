"""A remote runner end to end: `perfci run --post` into `perfci serve`, the document stored and judged there."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from perfci.tokens import hash_token
from tests.runner.tracked_repo import commit_kernel, import_history, perfci, run_tiny
from tests.serving import served

pytestmark = pytest.mark.slow


def _post_tiny(work: Path, base: str, *args: str) -> subprocess.CompletedProcess:
    """``perfci run`` that posts its document to the server at ``base`` with the runner's token."""
    return run_tiny(work, "--post", f"{base}/api/runs", "--token", "runner-token", "--no-store", *args)


def test_runner_posts_to_the_server(tiny_repo, tmp_path, db_url):
    work = Path(tiny_repo.working_tree_dir)
    sha = commit_kernel(tiny_repo, "fast", "fast kernels")
    config = tmp_path / "perfci.toml"
    config.write_text(f'[server]\nwrite_tokens = ["{hash_token("runner-token")}"]\n')
    with served(config, db_url) as base:
        result = _post_tiny(work, base, "-o", str(tmp_path / "doc.json"))
        assert result.returncode == 0, result.stderr
        assert "posted run" in result.stderr
        runs = json.load(urllib.request.urlopen(base + "/api/runs", timeout=10))
        assert runs["total"] == 1 and runs["items"][0]["commit"] == sha
        results = json.load(urllib.request.urlopen(f"{base}/api/results?commit={sha}", timeout=10))
        assert results["items"][0]["status"] == "ok" and results["items"][0]["n_samples"] >= 3
        # a wrong token is refused: the job fails with exit 3 (never "clean") and the document is kept
        refused = run_tiny(work, "--post", f"{base}/api/runs", "--token", "wrong", "--no-store", "--post-attempts", "1")
        assert refused.returncode == 3, refused.stderr
        assert "could not post" in refused.stderr and "403" in refused.stderr and "perfci resend" in refused.stderr
        (kept,) = (work / ".perfci" / "unsent").glob("*.json")
        # an unreachable server: still not delivered, still kept
        unreachable = perfci(
            "resend", "--post", "http://127.0.0.1:9/api/runs", "--token", "runner-token", "--attempts", "1", cwd=work
        )
        assert unreachable.returncode == 3 and kept.exists(), unreachable.stderr
        # the right token: delivered, stored and judged there, removed here
        sent = perfci("resend", "--post", f"{base}/api/runs", "--token", "runner-token", cwd=work)
        assert sent.returncode == 0, sent.stderr
        assert "delivered" in sent.stderr and not kept.exists()
        assert json.load(urllib.request.urlopen(base + "/api/runs", timeout=10))["total"] == 2
        again = perfci("resend", cwd=work, input="")
        assert again.returncode == 2 and "--post" in again.stderr  # the server must be named


@contextmanager
def fake_server(answer: dict) -> Iterator[str]:
    """A server that answers every POST with ``answer`` (201): what a perfci server says of a run."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps(answer).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/runs"
    finally:
        server.shutdown()


def test_a_remote_runner_gates_on_the_servers_findings(tiny_repo, tmp_path):
    """The runner stores nothing itself: the server's latency finding is its verdict (exit 1, in the report)."""
    work = Path(tiny_repo.working_tree_dir)
    sha = commit_kernel(tiny_repo, "fast", "fast kernels")
    finding = {
        "case": "decode/bf16/b3-kv96-x",
        "kind": "latency",
        "commit": sha,
        "baseline_commit": "a" * 40,
        "change": 99.0,
        "verdict": {"detector": "pelt", "before": 1.0, "after": 100.0, "threshold": 0.02},
    }
    with fake_server({"run_id": "x", "stored": True, "results": 1, "findings": [finding]}) as url:
        result = run_tiny(work, "--post", url, "--token", "t", "--no-store", "--report", str(tmp_path / "report.md"))
    assert result.returncode == 1, result.stderr
    assert "1 finding(s) there" in result.stderr
    assert "Latency regressions" in (tmp_path / "report.md").read_text()
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({"schema": "perfci.results/1"}))
    with fake_server({"run_id": "x", "stored": True, "results": 1, "findings": []}) as url:
        clean = perfci("resend", str(kept), "--post", url, cwd=work)
    assert clean.returncode == 0 and not kept.exists(), clean.stderr
    kept.write_text(json.dumps({"schema": "perfci.results/1"}))
    with fake_server({"ok": True}) as url:  # not a perfci server's answer: not delivered
        odd = perfci("resend", str(kept), "--post", url, "--attempts", "1", cwd=work)
    assert odd.returncode == 3 and kept.exists() and "findings" in odd.stderr


def test_a_remote_runner_confirms_the_servers_suspicion_in_process_pairs(tiny_repo, tmp_path):
    """The server suspects a slower commit (one process cannot prove it); the runner, which has the
    commits and the device, re-measures it in process pairs and posts the verdict; the server records
    a confirmed latency regression and the runner's job fails on it. (How the server stores a
    confirmation is tested on SQLite and PostgreSQL in tests/dashboard/test_api.py.)"""
    db_url = f"sqlite:///{tmp_path / 'server.db'}"
    work = Path(tiny_repo.working_tree_dir)
    fast = commit_kernel(tiny_repo, "fast", "fast")
    import_history(work, db_url, fast, tmp_path)
    slower = commit_kernel(tiny_repo, "slower", "slower")
    # a looser alpha than the default, so 8 pairs can confirm (the default needs 16)
    detection = "[detection]\ngate_interpreter = true\nconfirm_max_pairs = 8\nconfirm_alpha = 0.05\n"
    (work / "perfci.toml").write_text(detection)
    server_config = tmp_path / "server.toml"
    server_config.write_text(f'[server]\nwrite_tokens = ["{hash_token("runner-token")}"]\n{detection}')
    with served(server_config, db_url) as base:
        result = _post_tiny(work, base, "--report", str(tmp_path / "report.md"), "--allow-dirty")
        assert result.returncode == 1, result.stderr[-3000:]
        assert "confirming" in result.stderr and "-> regression after" in result.stderr
        assert "re-measured in" in (tmp_path / "report.md").read_text()
        stored = json.load(urllib.request.urlopen(f"{base}/api/regressions?status=all&kind=latency", timeout=10))
        (row,) = [r for r in stored["items"] if r["commit"] == slower]
        assert row["baseline_commit"] == fast and row["verdict"]["confirmation"]["kind"] == "regression"
