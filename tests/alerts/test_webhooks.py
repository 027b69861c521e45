"""Webhooks: Slack and generic bodies reach a real HTTP server, retries ride out 5xx, a dead hook is
recorded (never losing the stored run) and `perfci alerts --retry` delivers it later."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from perfci.cli import main
from perfci.config import ConfigError, load_config
from tests.store.test_judge import _doc


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, dict, dict]]] = []
    #: responses to give, in order, before answering 200
    script: ClassVar[list[int]] = []
    #: a response for the next request to a path (hooks are tried side by side: order is not theirs)
    by_path: ClassVar[dict[str, int]] = {}

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        code = Hook.by_path.pop(self.path, None) or (Hook.script.pop(0) if Hook.script else 200)
        Hook.received.append((self.path, dict(self.headers), body))
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[str]:
    Hook.received.clear()
    Hook.script.clear()
    Hook.by_path.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _config(tmp_path: Path, url: str, dead: str = "http://127.0.0.1:9") -> Path:
    path = tmp_path / "perfci.toml"
    path.write_text(f"""
[[webhook]]
name = "team-slack"
url = "{url}/slack"
format = "slack"
backoff_s = 0.01
headers = {{ Authorization = "Bearer ${{HOOK_TOKEN}}" }}

[[webhook]]
name = "generic"
url = "{url}/json"
kinds = ["latency", "correctness", "missing", "improvement"]
backoff_s = 0.01

[[webhook]]
name = "dead"
url = "{dead}/nowhere"
attempts = 2
backoff_s = 0.01
timeout_s = 2
""")
    return path


def _import(tmp_path: Path, db_url: str, config: Path, commit: int, level: float):
    path = tmp_path / f"doc{commit}.json"
    path.write_text(json.dumps(_doc(commit, [level], seed=commit, processes=3)))
    return CliRunner().invoke(main, ["import", str(path), "--db", db_url, "--config", str(config)])


def test_findings_reach_slack_and_json_hooks_and_a_dead_hook_is_kept(tmp_path, hook_server, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "s3cret")
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    config = _config(tmp_path, hook_server)
    for commit in range(8):
        assert _import(tmp_path, db_url, config, commit, 1.0).exit_code == 0
    assert Hook.received == []  # nothing changed: no alert at all
    Hook.by_path["/slack"] = 503  # the Slack hook fails once, then accepts: retried, not lost
    result = _import(tmp_path, db_url, config, 8, 1.08)
    assert result.exit_code == 1  # the regression gates
    assert "webhook 'dead' failed after 2 attempt(s)" in result.output and "perfci alerts --retry" in result.output
    paths = [path for path, _, _ in Hook.received]
    assert sorted(paths) == ["/json", "/slack", "/slack"]  # the Slack hook's retry comes after its back-off
    _, headers, slack = [r for r in Hook.received if r[0] == "/slack"][1]
    assert headers["Authorization"] == "Bearer s3cret"
    assert "1 problem(s)" in slack["text"] and slack["blocks"][1]["text"]["type"] == "mrkdwn"
    assert "decode/bf16/case0" in slack["blocks"][1]["text"]["text"] and "+8." in slack["blocks"][1]["text"]["text"]
    ((_, _, generic),) = [r for r in Hook.received if r[0] == "/json"]
    assert generic["schema"] == "perfci.alert/1" and generic["findings"][0]["kind"] == "latency"
    assert generic["run"]["commit"] == _doc(8, [1.0], seed=8)["run"]["commit"]["sha"]

    # the run is stored and judged although a hook failed
    listed = CliRunner().invoke(main, ["regressions", "--json", "--db", db_url])
    assert [r["kind"] for r in json.loads(listed.output)] == ["latency"]
    failed = CliRunner().invoke(main, ["alerts", "--json", "--db", db_url, "--config", str(config)])
    assert failed.exit_code == 1
    (row,) = json.loads(failed.output)
    assert row["webhook"] == "dead" and row["attempts"] == 2 and "Connection refused" in row["last_error"]

    # the hook comes back (here: configured to a live URL): --retry delivers the stored payload
    fixed = _config(tmp_path, hook_server, dead=hook_server)
    retried = CliRunner().invoke(main, ["alerts", "--retry", "--db", db_url, "--config", str(fixed)])
    assert retried.exit_code == 0, retried.output
    assert Hook.received[-1][0] == "/nowhere" and Hook.received[-1][2]["schema"] == "perfci.alert/1"
    assert CliRunner().invoke(main, ["alerts", "--db", db_url]).exit_code == 0


def test_a_bisected_culprit_is_named_in_the_slack_line():
    from perfci.alerts.webhook import AlertContext, slack_body
    from perfci.findings import Finding

    culprit = {"commit": "c" * 40, "parent": "b" * 40, "verified": True, "share": 1.0}
    verdict = {"confirmation": {"kind": "regression", "pairs": 8, "reason": "", "bisect": {"culprits": [culprit]}}}
    finding = Finding("decode/bf16/case0", "latency", "d" * 40, "a" * 40, 0.1, verdict)
    body = slack_body(AlertContext("r", "repo", "d" * 40, "main", "push", "H200"), [finding])
    assert "culprit `cccccccccc` (bisected)" in body["blocks"][1]["text"]["text"]


def test_a_4xx_is_not_retried(tmp_path, hook_server, monkeypatch):
    monkeypatch.setenv("HOOK_TOKEN", "x")
    db_url = f"sqlite:///{tmp_path / 'perfci.db'}"
    config = _config(tmp_path, hook_server)
    for commit in range(8):
        _import(tmp_path, db_url, config, commit, 1.0)
    Hook.by_path["/slack"] = 404
    result = _import(tmp_path, db_url, config, 8, 1.08)
    assert "webhook 'team-slack' failed after 1 attempt(s): HTTP 404" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[webhook]]\nname='a'\nurl='ftp://x'\n", "webhook.0.url"),
        ("[[webhook]]\nname='a'\nurl='http://x'\nformat='teams'\n", "webhook.0.format"),
        ("[[webhook]]\nname='a'\nurl='http://x'\nattempts=0\n", "webhook.0.attempts"),
        ("[[webhook]]\nurl='http://x'\n", "webhook.0.name"),
        ("[baseline]\npinned='v1'\n", "baseline.pinned"),
        ("[[webhook]]\nname='a'\nurl='http://x'\n[[webhook]]\nname='a'\nurl='http://y'\n", "unique"),
        ("not toml = = 1", "not valid TOML"),
        ("[detection]\nconfirm_max_pairs=8\n", "confirm_max_pairs = 8 can never confirm"),
        ("[detection]\nconfirm_alpha=0.5\n", "detection.confirm_alpha"),
    ],
)
def test_config_errors_name_the_field(tmp_path, text, message):
    path = tmp_path / "perfci.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_config(path)
    result = CliRunner().invoke(main, ["alerts", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--config", str(path)])
    assert result.exit_code in (0, 1)  # listing needs no config; --retry does
    retry = CliRunner().invoke(
        main, ["alerts", "--retry", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--config", str(path)]
    )
    assert retry.exit_code == 2 and str(path) in retry.output


def test_no_config_file_means_no_webhooks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PERFCI_CONFIG", raising=False)
    assert load_config().webhooks == []
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml")
