"""`perfci token` and `perfci serve`: a token whose hash opens the API, served by waitress."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from perfci.testing import make_document
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
            urllib.request.urlopen(
                urllib.request.Request(base + "/api/runs", body, {**headers, "Authorization": "Bearer not-the-token"}),
                timeout=30,
            )
        assert refused.value.code == 403


def test_serve_with_a_bad_config_is_exit_2(tmp_path):
    config = tmp_path / "perfci.toml"
    config.write_text('[server]\nwrite_tokens = ["plain-text-token"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "perfci", "serve", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "server.write_tokens.0" in result.stderr


def test_half_open_connections_do_not_starve_the_dashboard(tmp_path):
    """Slowloris: 150 connections that never finish their request headers; pages still answer at
    once, and the idle ones are closed after ``idle_timeout_s``."""
    config = tmp_path / "perfci.toml"
    config.write_text("[server]\nidle_timeout_s = 3\n")
    with served(config, f"sqlite:///{tmp_path / 'perfci.db'}") as base:
        port = int(base.rsplit(":", 1)[1])
        hanging = []
        for _ in range(150):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # and never the rest
            hanging.append(connection)
        start = time.monotonic()
        assert urllib.request.urlopen(base + "/", timeout=10).status == 200
        assert time.monotonic() - start < 5
        time.sleep(5)  # past the idle timeout: the server closed them
        closed = 0
        for connection in hanging:
            try:
                closed += connection.recv(1) == b""
            except (ConnectionResetError, TimeoutError):
                closed += 1
            connection.close()
        assert closed == len(hanging)


def test_serve_on_a_busy_port_is_exit_2(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfci",
                "serve",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{tmp_path / 'perfci.db'}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2 and "--port" in result.stderr and "Traceback" not in result.stderr
