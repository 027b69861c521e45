"""Browser sign-ins on SQLite and PostgreSQL: a sign-in redirect never leaves the site whatever
``next`` holds; sign-out ends the session for every copy of its cookie; a session whose token left
the config (or that outlived session_hours) can no longer triage or read closed pages."""

from __future__ import annotations

import pytest

from dashboard import create_app
from perfci.config import PerfciConfig, ServerConfig
from perfci.tokens import hash_token
from tests.dashboard.conftest import READ_TOKEN, WRITE_TOKEN, _config, as_json
from tests.dashboard.test_pages import _csrf

OTHER_WRITER = "another-write-token"


def _triage(client, regression_id: int):
    return client.post(
        f"/regressions/{regression_id}/triage", data={"status": "acknowledged", "csrf_token": _csrf(client)}
    )


def _sign_in(client, token: str, next_: str = "/regressions"):
    return client.post("/login", data={"token": token, "csrf_token": _csrf(client), "next": next_})


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "\\\\evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "/ /evil.example",
        "/\x7f/evil.example",
        "/%0d%0aSet-Cookie:x",
    ],
)
def test_sign_in_never_redirects_off_site(client, target):
    response = _sign_in(client, WRITE_TOKEN, target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and location.startswith("/") and not location.startswith("//")
    assert "\r" not in location and "\n" not in location


def test_sign_in_keeps_a_local_next(client):
    assert _sign_in(client, WRITE_TOKEN, "/regressions?kind=latency").headers["Location"] == "/regressions?kind=latency"


def test_sign_out_ends_the_session_for_a_saved_cookie(app):
    client = app.test_client()
    regression = as_json(client.get("/api/regressions?kind=latency"))["items"][0]["id"]
    _sign_in(client, WRITE_TOKEN)
    saved = client.get_cookie("session").value
    assert _triage(client, regression).status_code == 302
    assert client.post("/logout", data={"csrf_token": _csrf(client)}).status_code == 302
    replayed = app.test_client()
    replayed.set_cookie("session", saved)
    assert _triage(replayed, regression).status_code == 403


def test_a_removed_write_token_ends_its_sessions(populated):
    db_url, _ = populated
    both = _config(public=True)
    both.server.write_tokens.append(hash_token(OTHER_WRITER))
    before = create_app(db_url, both)
    client = before.test_client()
    regression = as_json(client.get("/api/regressions?kind=latency"))["items"][0]["id"]
    _sign_in(client, WRITE_TOKEN)
    saved = client.get_cookie("session").value
    assert _triage(client, regression).status_code == 302
    after = create_app(db_url, _config(public=True))  # restarted with WRITE_TOKEN still there: still signed in
    kept = after.test_client()
    kept.set_cookie("session", saved)
    assert _triage(kept, regression).status_code == 302
    public = PerfciConfig(server=ServerConfig(write_tokens=[hash_token(OTHER_WRITER)], secret_key="test-secret"))
    revoked = create_app(db_url, public).test_client()  # restarted without WRITE_TOKEN
    revoked.set_cookie("session", saved)
    assert _triage(revoked, regression).status_code == 403
    closed_reads = PerfciConfig(
        server=ServerConfig(
            write_tokens=[hash_token(OTHER_WRITER)],
            read_tokens=[hash_token(READ_TOKEN)],
            public_reads=False,
            secret_key="test-secret",
        )
    )
    closed = create_app(db_url, closed_reads).test_client()
    closed.set_cookie("session", saved)
    response = closed.get("/regressions")  # the session no longer opens closed reads either
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for application in (before, after):
        application.extensions["perfci"]["store"].dispose()


def test_a_session_ends_after_session_hours(populated):
    db_url, _ = populated
    short = _config(public=True)
    short.server.session_hours = 1
    app = create_app(db_url, short)
    client = app.test_client()
    regression = as_json(client.get("/api/regressions?kind=latency"))["items"][0]["id"]
    _sign_in(client, WRITE_TOKEN)
    assert _triage(client, regression).status_code == 302
    app.extensions["perfci"]["config"].server.session_hours = 1 / 3600 / 1000  # 1 ms
    assert _triage(client, regression).status_code == 403
    app.extensions["perfci"]["store"].dispose()
