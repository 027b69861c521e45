"""Every page renders from the store; user text is escaped; triage needs a signed-in writer and a
CSRF token; closed reads send browsers to the sign-in page; security headers on every response."""

from __future__ import annotations

import re

import pytest

from perfci.testing import sha_for
from tests.dashboard.conftest import HOSTILE, READ_TOKEN, WRITE_TOKEN, as_json, auth
from tests.store.test_judge import _doc

PAGES = [
    "/",
    "/series",
    "/series/1",
    "/series/1?last=5",
    "/regressions",
    "/regressions?status=all&order=newest",
    "/regressions?kind=correctness",
    "/compare",
    "/roofline",
    "/login",
    "/?op=paged_decode&dtype=bf16&q=case0",
    "/roofline?q=case1",
    "/series?q=case&env=nope",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.data[:500]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script>alert" not in response.data


def test_overview_shows_latest_runs_worst_regressions_failures_and_stopped_cases(client):
    html = client.get("/").data.decode()
    assert "decode/bf16/case0" in html and re.search(r"\+8\.[0-3]%", html)  # the latency step
    assert "Correctness failures" in html and "decode/bf16/case2" in html
    assert "stopped reporting" in html and "decode/bf16/case3" in html
    assert sha_for("commit-11")[:10] in html  # the latest run


def test_filters_narrow_the_lists(client):
    html = client.get("/regressions?status=all&q=case1").data.decode()
    assert "decode/bf16/case1" in html and "decode/bf16/case0" not in html
    html = client.get("/regressions?status=all&op=paged_prefill").data.decode()
    assert "Nothing matches" in html


def test_commit_page_compares_with_baselines_and_escapes_the_message(client):
    html = client.get(f"/commit/{sha_for('commit-9')[:12]}").data.decode()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html or "&lt;script&gt;" in html
    assert HOSTILE not in html
    html = client.get(f"/commit/{sha_for('commit-8')}").data.decode()
    assert "latency" in html and "improvement" in html and sha_for("commit-7")[:10] in html
    # sorted by change, slowest first: case0 (+8%) before case1 (-10%)
    assert html.index("decode/bf16/case0") < html.index("decode/bf16/case1")
    # what the judge said of results that are not findings, and why
    assert "not judged: history 2/6" in client.get(f"/commit/{sha_for('commit-2')}").data.decode()
    assert "same: " in client.get(f"/commit/{sha_for('commit-9')}").data.decode()


def test_commit_page_baseline_is_timed_in_the_same_mode(client):
    """A result timed another way than its series' history has no baseline on the commit page (as the
    judge has none): the modes differ by L2 state and host overhead, so the change would be false."""
    for index, mode in ((12, "events"), (13, "events")):
        document = _doc(index, [1.0, 2.0, 3.0, 0.5], seed=index, processes=3)
        for result in document["results"]:
            result["timing"] = {"mode": mode}
        assert client.post("/api/runs", json=document, headers=auth()).status_code == 201
    html = client.get(f"/commit/{sha_for('commit-12')}").data.decode()
    assert html.count('<span class="muted">none</span>') == 4  # not commit-11's "kernels" results
    html = client.get(f"/commit/{sha_for('commit-13')}").data.decode()
    assert '<span class="muted">none</span>' not in html and html.count(f"<code>{sha_for('commit-12')[:10]}") >= 4


def test_series_page_embeds_points_as_json_safely(client):
    html = client.get("/series/1").data.decode()
    blob = re.search(r'<script type="application/json" id="trend-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in blob  # tojson escapes <, > and & so the message cannot close the script element
    assert "\\u003cscript\\u003e" in blob


def test_compare_two_commits_and_bad_refs(client):
    html = client.get(f"/compare?base={sha_for('commit-7')[:10]}&head={sha_for('commit-8')[:10]}").data.decode()
    assert "regression" in html and "improvement" in html
    response = client.get("/compare?base=zzzz&head=abc")
    assert response.status_code == 404 and b"base and head: neither a stored run id" in response.data
    one_side = client.get(f"/compare?base={sha_for('commit-7')[:10]}&head=abcdef0").data.decode()
    assert "head: neither a stored run id" in one_side and "base and head" not in one_side
    picker = client.get("/compare").data.decode()  # recent commits and runs to pick from
    assert 'list="recent-refs"' in picker and f'value="{sha_for("commit-11")}"' in picker


def test_unknown_things_are_404_pages_not_stack_traces(client):
    for path in ["/series/999999", "/commit/deadbeefdeadbeef", "/commit/xyz", "/nope"]:
        response = client.get(path)
        assert response.status_code == 404 and b"Traceback" not in response.data
    assert client.get("/regressions?status=bogus").status_code == 400
    assert client.get("/series?page=0").status_code == 400


def _csrf(client, path="/login") -> str:
    html = client.get(path).data.decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(client, token=WRITE_TOKEN):
    return client.post("/login", data={"token": token, "csrf_token": _csrf(client), "next": "/regressions"})


def test_triage_from_the_page_needs_sign_in_and_csrf(client):
    regression = as_json(client.get("/api/regressions?kind=latency"))["items"][0]
    url = f"/regressions/{regression['id']}/triage"
    form = {"status": "acknowledged", "note": "looking <b>into</b> it", "author": "ada", "back": "/regressions"}
    assert client.post(url, data={**form, "csrf_token": _csrf(client)}).status_code == 403  # not signed in
    assert _sign_in(client, "wrong").status_code == 403
    response = _sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/regressions"
    assert client.post(url, data=form).status_code == 400  # no CSRF token
    assert client.post(url, data={**form, "csrf_token": "forged"}).status_code == 400
    done = client.post(url, data={**form, "csrf_token": _csrf(client)})
    assert done.status_code == 302
    html = client.get("/regressions?status=acknowledged").data.decode()
    assert "looking &lt;b&gt;into&lt;/b&gt; it" in html and "ada" in html
    history = as_json(client.get(f"/api/regressions/{regression['id']}/history"))["history"]
    assert [h["status"] for h in history] == ["open", "acknowledged"]
    # the back link can never send the browser off-site
    evil = client.post(url, data={**form, "back": "//evil.example/x", "csrf_token": _csrf(client)})
    assert evil.headers["Location"] == "/regressions"
    assert client.post(url, data={**form, "status": "wontfix", "csrf_token": _csrf(client)}).status_code == 400


def test_a_read_token_signs_in_read_only(client):
    _sign_in(client, READ_TOKEN)
    regression = as_json(client.get("/api/regressions"))["items"][0]
    response = client.post(
        f"/regressions/{regression['id']}/triage", data={"status": "invalid", "csrf_token": _csrf(client)}
    )
    assert response.status_code == 403


def test_closed_reads_redirect_pages_and_refuse_the_api(closed_app):
    client = closed_app.test_client()
    response = client.get("/series/1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/series").status_code == 401
    assert client.get("/api/series", headers={"Authorization": f"Bearer {READ_TOKEN}"}).status_code == 200
    assert client.get("/api/openapi.json").status_code == 200  # the description stays public
    assert client.get("/assets/plotly.min.js").status_code == 200
    _sign_in(client, READ_TOKEN)
    assert client.get("/series/1").status_code == 200


def test_plotly_is_served_by_the_app(client):
    response = client.get("/assets/plotly.min.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert len(response.data) > 1_000_000 and b"plotly" in response.data[:2000].lower()
    assert "max-age" in response.headers["Cache-Control"]


def test_a_group_is_triaged_at_once_or_not_at_all(client):
    regressions = as_json(client.get("/api/regressions?status=all"))["items"]
    ids = [str(r["id"]) for r in regressions if r["commit"] == sha_for("commit-8")]
    assert len(ids) == 2  # case0 slower and case1 faster, one commit: one group on the page
    html = client.get("/regressions?status=all").data.decode()
    assert f'id="commit-{sha_for("commit-8")}"' in html and "2 findings" in html
    form = {"ids": ids, "status": "expected", "note": "new tiling", "back": "/regressions"}
    assert client.post("/regressions/triage", data={**form, "csrf_token": _csrf(client)}).status_code == 403
    _sign_in(client)
    assert client.post("/regressions/triage", data={**form, "ids": [], "csrf_token": _csrf(client)}).status_code == 400
    missing = client.post("/regressions/triage", data={**form, "ids": [*ids, "999999"], "csrf_token": _csrf(client)})
    assert missing.status_code == 404
    statuses = {r["status"] for r in as_json(client.get("/api/regressions?status=all"))["items"] if str(r["id"]) in ids}
    assert statuses == {"open"}  # nothing changed
    done = client.post("/regressions/triage", data={**form, "csrf_token": _csrf(client)})
    assert done.status_code == 302
    statuses = {r["status"] for r in as_json(client.get("/api/regressions?status=all"))["items"] if str(r["id"]) in ids}
    assert statuses == {"expected"}


def test_the_overview_groups_open_findings_by_commit(client):
    html = client.get("/").data.decode()
    section = html.split("Open findings by commit")[1].split("</table>")[0]
    for label in ("commit-8", "commit-10", "commit-11"):  # a latency, a correctness failure, a missing case
        assert f"#commit-{sha_for(label)}" in section
    assert section.count("triage these 1 →") == 3  # the improvement at commit 8 never gates: not counted


def test_findings_group_by_commit_range_on_both_pages(client):
    html = client.get("/regressions?status=all&group=range").data.decode()
    assert 'class="current" href="/regressions?group=range' in html.replace("&amp;", "&")
    eight, seven = sha_for("commit-8"), sha_for("commit-7")
    # commit 8's two findings, both against commit 7: one stretch, titled base..head
    assert f'id="range-{eight}"' in html and f"<code>{seven[:10]}</code></a>..<a" in html
    overview = client.get("/?group=range").data.decode()
    section = overview.split("Open findings by commit range")[1].split("</table>")[0]
    assert "group=range" in section and f"#range-{eight}" in section
    assert client.get("/regressions?group=sideways").status_code == 400
