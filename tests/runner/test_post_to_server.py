"""A remote runner end to end: `perfci run --post` into `perfci serve`, the document stored and judged there."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from dashboard.auth import hash_token
from tests.runner.tracked_repo import CASE, commit_kernel, perfci
from tests.serving import served

pytestmark = pytest.mark.slow


def test_runner_posts_to_the_server(tiny_repo, tmp_path):
    work = Path(tiny_repo.working_tree_dir)
    sha = commit_kernel(tiny_repo, "fast", "fast kernels")
    config = tmp_path / "perfci.toml"
    config.write_text(f'[server]\nwrite_tokens = ["{hash_token("runner-token")}"]\n')
    with served(config, f"sqlite:///{tmp_path / 'server.db'}") as base:
        result = perfci("run", "--suite", "tiny", "--cases", CASE, "--device", "interpreter", "--budget", "0.3",
                        "--post", f"{base}/api/runs", "--token", "runner-token", "--no-store", "-o",
                        str(tmp_path / "doc.json"), cwd=work)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "posted run" in result.stderr
        runs = json.load(urllib.request.urlopen(base + "/api/runs", timeout=10))
        assert runs["total"] == 1 and runs["items"][0]["commit"] == sha
        results = json.load(urllib.request.urlopen(f"{base}/api/results?commit={sha}", timeout=10))
        assert results["items"][0]["status"] == "ok" and results["items"][0]["n_samples"] >= 3
        # a wrong token is refused and the document is kept on disk for a later import
        refused = perfci("run", "--suite", "tiny", "--cases", CASE, "--device", "interpreter", "--budget", "0.3",
                         "--post", f"{base}/api/runs", "--token", "wrong", "--no-store", "--post-attempts", "1",
                         cwd=work)  # fmt: skip
        assert "could not post" in refused.stderr and "403" in refused.stderr
        assert list((work / ".perfci" / "unsent").glob("*.json"))
