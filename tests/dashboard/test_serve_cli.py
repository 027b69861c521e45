"""`perfci token` and `perfci serve`: a token whose hash opens the API, served by waitress."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.factories import make_document
from tests.serving import served

pytestmark = pytest.mark.slow


def test_token_and_serve(tmp_path, db_url):
    """Token, serve, post, then the posted series' page and JSON: on SQLite and on PostgreSQL."""
    made = subprocess.run([sys.executable, "-m", "perfci", "token"], capture_output=True, text=True, check=True)
    token = made.stdout.split("it is not stored anywhere): ")[1].split()[0]
    config = tmp_path / "perfci.toml"
    config.write_text(made.stdout.split("perfci.toml:\n", 1)[1])
    with served(config, db_url) as base:
        page = urllib.request.urlopen(base + "/", timeout=10)
        assert page.status == 200 and page.headers["Server"] == "perfci"  # waitress, not Flask's dev server
        body = json.dumps(make_document()).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        posted = urllib.request.urlopen(urllib.request.Request(base + "/api/runs", body, headers), timeout=30)
        assert posted.status == 201
        for path in ("/series/1", "/api/series/1"):
            assert urllib.request.urlopen(base + path, timeout=10).status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(base + "/api/runs", body, {**headers,
                                   "Authorization": "Bearer not-the-token"}), timeout=30)  # fmt: skip
        assert refused.value.code == 403


def test_serve_with_a_bad_config_is_exit_2(tmp_path):
    config = tmp_path / "perfci.toml"
    config.write_text('[server]\nwrite_tokens = ["plain-text-token"]\n')
    result = subprocess.run([sys.executable, "-m", "perfci", "serve", "--config", str(config)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "server.write_tokens.0" in result.stderr
