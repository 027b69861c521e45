"""The JSON API: every read endpoint, the POST that runners use, triage by PATCH, every error path
with a JSON body naming the problem, nothing partially stored, and an OpenAPI description that
cannot drift from the routes."""

from __future__ import annotations

import copy
import json
import re

import pytest

from perfci.testing import make_document, sha_for
from tests.dashboard.conftest import READ_TOKEN, WRITE_TOKEN, as_json, auth
from tests.store.test_judge import _doc


def _counts(client) -> tuple[int, int]:
    runs = as_json(client.get("/api/runs"))["total"]
    regressions = as_json(client.get("/api/regressions?status=all"))["total"]
    return runs, regressions


def test_read_endpoints(client):
    series = as_json(client.get("/api/series?per_page=2"))
    assert series["total"] == 4 and len(series["items"]) == 2 and series["pages"] == 2
    one = as_json(client.get(f"/api/series/{series['items'][0]['id']}"))
    assert len(one["points"]) >= 11 and {"sha", "median", "q1", "q3", "config", "telemetry"} <= set(one["points"][0])
    assert {point["timing"] for point in one["points"]} == {"kernels"}  # on hover: explains a step at a mode change
    assert one["points"][0]["at"] < one["points"][-1]["at"]
    assert len(as_json(client.get(f"/api/series/{series['items'][0]['id']}?last=3"))["points"]) == 3
    runs = as_json(client.get("/api/runs"))
    assert runs["total"] == 12
    run = as_json(client.get(f"/api/runs/{runs['items'][0]['id']}"))
    assert run["environment"]["device_name"] == "NVIDIA H100 80GB HBM3"
    results = as_json(client.get(f"/api/results?run={run['id']}"))
    assert results["total"] >= 3 and "median" in results["items"][0]
    assert as_json(client.get(f"/api/results?commit={sha_for('commit-8')[:9]}"))["total"] == 4
    commits = as_json(client.get("/api/commits?branch=main"))
    assert commits["total"] == 12 and commits["items"][0]["sha"] == sha_for("commit-11")
    commit = as_json(client.get(f"/api/commits/{sha_for('commit-8')}"))
    assert next(r["case"] for r in commit["results"]) == "decode/bf16/case0"
    assert commit["results"][0]["baseline"]["sha"] == sha_for("commit-7")
    regressions = as_json(client.get("/api/regressions?status=all&order=worst"))
    assert [r["kind"] for r in regressions["items"]][:2] == ["correctness", "missing"]
    assert {"case", "commit", "baseline_commit", "change", "kind", "status", "environment"} <= set(
        regressions["items"][0]
    )
    assert as_json(client.get("/api/regressions?kind=improvement&status=all"))["items"][0]["change"] < 0


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/api/series/424242", 404, "does not exist"),
        ("/api/runs/not-a-uuid", 404, "not stored"),
        ("/api/commits/zzzzzzz", 404, "no stored commit"),
        ("/api/results", 400, "exactly one"),
        ("/api/results?run=x&commit=y", 400, "exactly one"),
        ("/api/results?commit=abcdef0", 404, "no stored commit"),
        ("/api/series?page=abc", 400, "'page'"),
        ("/api/series?per_page=100000", 400, "'per_page'"),
        ("/api/regressions?status=maybe", 400, "'status'"),
        ("/api/regressions/999999/history", 404, "does not exist"),
        ("/api/nothing-here", 404, ""),
    ],
)
def test_read_errors_are_json_naming_the_problem(client, path, status, needle):
    response = client.get(path)
    assert response.status_code == status and response.is_json
    body = as_json(response)
    assert needle in body["message"] and "Traceback" not in body["message"]


def test_post_a_run_stores_judges_and_is_idempotent(client):
    before = _counts(client)
    document = _doc(12, [1.2, 1.8, 3.0, 0.5], seed=12, processes=3)
    for result in document["results"]:
        result["timing"] = {"mode": "kernels"}  # judged against the history timed the same way
    response = client.post("/api/runs", json=document, headers=auth())
    assert response.status_code == 201, response.data
    body = as_json(response)
    assert body["stored"] and body["results"] == 4
    assert {"case": "decode/bf16/case0", "kind": "latency"}.items() <= body["findings"][0].items()
    assert body["findings"][0]["verdict"]["threshold"] > 0  # enough for the runner's report
    again = client.post("/api/runs", json=document, headers=auth())
    assert again.status_code == 200 and as_json(again)["stored"] is False
    # a runner whose first answer was lost still gets the findings recorded for its run
    assert [(f["case"], f["kind"]) for f in as_json(again)["findings"]] == [("decode/bf16/case0", "latency")]
    assert _counts(client)[0] == before[0] + 1


def test_post_errors_store_nothing(client, app):
    before = _counts(client)
    good = make_document(commit_index=50)
    bad_sample = copy.deepcopy(good)
    bad_sample["results"][1]["samples"][2] = -1.0
    cases = [
        ({}, json.dumps(good), "application/json", 401, "write token"),
        (auth("nope"), json.dumps(good), "application/json", 403, "not a write token"),
        (auth(READ_TOKEN), json.dumps(good), "application/json", 403, "not a write token"),
        (auth(), "{not json", "application/json", 400, "malformed JSON"),
        (auth(), json.dumps(good), "text/plain", 400, "Content-Type"),
        (auth(), json.dumps([good, good]), "application/json", 422, "one perfci.results/1 document"),
        (auth(), json.dumps(bad_sample), "application/json", 422, "results[1].samples"),
        (auth(), json.dumps({**good, "schema": "perfci.results/9"}), "application/json", 422, "schema"),
        (auth(), json.dumps(good).replace("0.003", "NaN", 1), "application/json", 400, "NaN"),
        (auth(), json.dumps({**good, "pad": "x" * (2 * 1024 * 1024)}), "application/json", 413, "byte limit"),
    ]
    for headers, body, mimetype, status, needle in cases:
        response = client.post("/api/runs", data=body, headers=headers, content_type=mimetype)
        assert response.status_code == status, (status, response.data[:300])
        assert needle in as_json(response)["message"], as_json(response)
    assert _counts(client) == before  # nothing partially stored


def test_patch_triage(client):
    regression = as_json(client.get("/api/regressions"))["items"][0]
    url = f"/api/regressions/{regression['id']}"
    assert client.patch(url, json={"status": "expected"}).status_code == 401
    assert client.patch(url, json={"status": "expected"}, headers=auth("nope")).status_code == 403
    assert client.patch(url, data="[", headers=auth(), content_type="application/json").status_code == 400
    assert "'status'" in as_json(client.patch(url, json={"status": "gone"}, headers=auth()))["message"]
    assert client.patch(url, json={"status": "fixed", "colour": "red"}, headers=auth()).status_code == 422
    assert client.patch(url, json={"status": "fixed", "note": 5}, headers=auth()).status_code == 422
    assert client.patch("/api/regressions/999999", json={"status": "fixed"}, headers=auth()).status_code == 404
    done = client.patch(url, json={"status": "acknowledged", "note": "on it", "author": "bo"}, headers=auth())
    assert done.status_code == 200 and as_json(done)["status"] == "acknowledged"
    history = as_json(client.get(f"{url}/history"))["history"]
    assert history[-1] == {**history[-1], "status": "acknowledged", "note": "on it", "author": "bo"}
    assert regression["id"] not in [r["id"] for r in as_json(client.get("/api/regressions"))["items"]]


def test_openapi_describes_exactly_the_routes(app, client):
    spec = as_json(client.get("/api/openapi.json"))
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served, (
        f"OpenAPI drifted: only documented {documented - served}, only served {served - documented}"
    )


def test_a_server_without_write_tokens_accepts_no_writes(populated):
    from dashboard import create_app

    app = create_app(populated[0])
    response = app.test_client().post("/api/runs", json=make_document(), headers=auth(WRITE_TOKEN))
    assert response.status_code == 403
    app.extensions["perfci"]["store"].dispose()


def test_nul_bytes_are_a_clear_4xx_on_both_stores(client):
    """PostgreSQL cannot store NUL in text; SQLite would: both refuse it, naming the field."""
    assert client.get("/api/regressions?q=a%00b").status_code == 400
    assert "query parameter 'q'" in as_json(client.get("/api/series?q=%00"))["message"]
    assert client.get("/regressions?q=%00").status_code == 400
    document = _doc(13, [1.0, 2.0, 3.0, 0.5], seed=13)
    document["run"]["commit"]["message"] = "fix\x00"
    refused = client.post("/api/runs", json=document, headers=auth())
    assert refused.status_code == 422 and "run.commit.message" in as_json(refused)["message"]
    rows = as_json(client.get("/api/regressions?status=all"))["items"]
    body = {"status": "acknowledged", "note": "a\x00b"}
    assert client.patch(f"/api/regressions/{rows[0]['id']}", json=body, headers=auth()).status_code == 422


def _suspected_run(client) -> tuple[str, str, str]:
    """A history of one-process results, then one 10% slower: suspected (one process cannot prove
    it). Returns (run id, case, commit)."""
    for commit in range(7):
        assert client.post("/api/runs", json=_doc(100 + commit, [1.0], seed=commit), headers=auth()).status_code == 201
    answer = as_json(client.post("/api/runs", json=_doc(107, [1.10], seed=7), headers=auth()))
    (finding,) = answer["findings"]
    assert finding["kind"] == "suspected"
    return answer["run_id"], finding["case"], finding["commit"]


PAIRS = {
    "kind": "regression",
    "change": 0.1,
    "ci_low": 0.09,
    "ci_high": 0.11,
    "p_value": 3e-5,
    "threshold": 0.02,
    "min_detectable_change": 0.01,
    "n_baseline": 16,
    "n_head": 16,
    "pairs": 16,
    "reason": "+9.0%..+11.0% (99% interval, 16 pairs)",
}


def test_a_remote_runners_confirmation_gates_and_is_recorded(client):
    run_id, case, commit = _suspected_run(client)
    url = f"/api/runs/{run_id}/confirmations"
    body = {"confirmations": [{"case": case, "verdict": PAIRS}]}
    assert client.post(url, json=body).status_code == 401
    answer = client.post(url, json=body, headers=auth())
    assert answer.status_code == 200, answer.data
    (finding,) = as_json(answer)["findings"]
    assert finding["kind"] == "latency" and finding["verdict"]["confirmation"]["pairs"] == 16
    stored = as_json(client.get("/api/regressions?kind=latency&status=all"))["items"]
    assert [r["verdict"]["confirmation"]["kind"] for r in stored if r["commit"] == commit] == ["regression"]
    suspected = as_json(client.get("/api/regressions?kind=suspected&status=all"))["items"]
    assert not [r for r in suspected if r["commit"] == commit]
    again = client.post(url, json=body, headers=auth())  # a re-sent confirmation changes nothing
    assert again.status_code == 200 and [f["kind"] for f in as_json(again)["findings"]] == ["latency"]


def test_a_refuting_confirmation_keeps_the_suspicion_with_its_evidence(client):
    run_id, case, commit = _suspected_run(client)
    same = {**PAIRS, "kind": "same", "change": 0.001, "ci_low": -0.005, "ci_high": 0.006, "p_value": 0.6}
    answer = client.post(
        f"/api/runs/{run_id}/confirmations", json={"confirmations": [{"case": case, "verdict": same}]}, headers=auth()
    )
    (finding,) = as_json(answer)["findings"]
    assert finding["kind"] == "suspected" and finding["verdict"]["confirmation"]["kind"] == "same"
    latency = as_json(client.get("/api/regressions?kind=latency&status=all"))["items"]
    assert not [r for r in latency if r["commit"] == commit]


@pytest.mark.parametrize("baseline_reads", [1.10, 1.0])
def test_a_remote_runners_re_measured_baseline_records_the_step_its_one_process_hid(client, baseline_reads):
    """The head re-measured the same as its baseline, whose fresh processes read like the head (10%
    off the level it was recorded at): the baseline re-measured against the level's result before
    it proves the step there, recorded at the baseline commit. Fresh processes at the level: that
    re-measurement proves nothing and is not recorded."""
    run_id, case, commit = _suspected_run(client)
    suspicion = as_json(client.get("/api/regressions?kind=suspected&status=all"))["items"]
    (at_head,) = [r for r in suspicion if r["commit"] == commit]
    baseline, earlier = at_head["baseline_commit"], at_head["verdict"]["earlier_commit"]
    step = {**PAIRS, "base_value": 1.0}
    same = {**PAIRS, "kind": "same", "change": 0.0, "ci_low": -0.005, "ci_high": 0.005, "p_value": 0.6}
    verdict = {**same, "base_value": baseline_reads, "baseline_remeasured": step}
    answer = client.post(
        f"/api/runs/{run_id}/confirmations",
        json={"confirmations": [{"case": case, "verdict": verdict}]},
        headers=auth(),
    )
    assert answer.status_code == 200, answer.data
    found = {(f["commit"], f["kind"]) for f in as_json(answer)["findings"]}
    rows = as_json(client.get("/api/regressions?kind=latency&status=all"))["items"]
    latency = [r for r in rows if r["commit"] in (commit, baseline)]
    if baseline_reads == 1.0:
        assert found == {(commit, "suspected")} and latency == []
        return
    assert found == {(commit, "suspected"), (baseline, "latency")}
    (recorded,) = latency
    assert (recorded["commit"], recorded["baseline_commit"]) == (baseline, earlier)
    assert "a step hidden at the baseline" in recorded["verdict"]["reason"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"confirmations": []}, 422, "confirmations"),
        (
            {"confirmations": [{"case": "x", "verdict": {**PAIRS, "kind": "maybe"}}]},
            422,
            "confirmations.0.verdict.kind",
        ),
        ({"confirmations": [{"case": "x", "verdict": {**PAIRS, "change": float("inf")}}]}, 400, "Infinity"),
        ({"confirmations": [{"case": "x", "verdict": {**PAIRS, "pairs": 0}}]}, 422, "confirmations.0.verdict.pairs"),
        (
            {"confirmations": [{"case": "x", "verdict": {**PAIRS, "baseline_remeasured": {**PAIRS, "kind": "x"}}}]},
            422,
            "confirmations.0.verdict.baseline_remeasured.kind",
        ),
        ({"confirmations": [{"case": "x", "verdict": {**PAIRS, "base_value": 0}}]}, 422, "verdict.base_value"),
        ({"confirmations": [{"case": "no/such/case", "verdict": PAIRS}]}, 409, "no suspected slowdown of no/such/case"),
    ],
)
def test_confirmation_errors_name_the_field_and_record_nothing(client, body, status, needle):
    run_id, _, commit = _suspected_run(client)
    response = client.post(
        f"/api/runs/{run_id}/confirmations",
        data=json.dumps(body, allow_nan=True),
        content_type="application/json",
        headers=auth(),
    )
    assert response.status_code == status and needle in as_json(response)["message"], response.data
    latency = as_json(client.get("/api/regressions?kind=latency&status=all"))["items"]
    assert not [r for r in latency if r["commit"] == commit]
    missing = client.post(
        "/api/runs/00000000-0000-0000-0000-000000000000/confirmations", json={"confirmations": []}, headers=auth()
    )
    assert missing.status_code == 404


def _proved_run(client) -> tuple[str, str, str]:
    """Eight results of three processes each, then one 10% slower: its processes prove it (gating
    latency, no re-measurement). Returns (run id, case, commit)."""
    for commit in range(8):
        document = _doc(200 + commit, [1.0], seed=commit, processes=3)
        assert client.post("/api/runs", json=document, headers=auth()).status_code == 201
    answer = as_json(client.post("/api/runs", json=_doc(208, [1.10], seed=8, processes=3), headers=auth()))
    (finding,) = answer["findings"]
    assert finding["kind"] == "latency" and "confirmation" not in finding["verdict"]
    return answer["run_id"], finding["case"], finding["commit"]


def test_a_remote_runners_bisect_behind_a_proved_slowdown_is_stored_with_it(client):
    run_id, case, commit = _proved_run(client)
    culprit = sha_for("culprit")
    search = {"case": case, "culprits": [{"commit": culprit, "share": 0.97, "verified": True}], "unresolved": None}
    url, body = f"/api/runs/{run_id}/bisects", {"bisects": [{"case": case, "search": search}]}
    assert client.post(url, json=body).status_code == 401
    answer = client.post(url, json=body, headers=auth())
    assert answer.status_code == 200, answer.data
    (finding,) = as_json(answer)["findings"]
    assert finding["kind"] == "latency" and finding["verdict"]["bisect"]["culprits"][0]["commit"] == culprit
    rows = as_json(client.get("/api/regressions?kind=latency&status=all"))["items"]
    (row,) = [r for r in rows if r["commit"] == commit]
    assert row["bisect"] == {"state": "culprit", "culprits": [{"commit": culprit, "share": 0.97}], "range": None}


@pytest.mark.parametrize(
    ("search", "status", "needle"),
    [
        ({"culprits": [{"commit": "not-a-sha", "verified": True}]}, 422, "bisects.0.search.culprits.0.commit"),
        ({"culprits": [], "unresolved": ["abcdef1"]}, 422, "bisects.0.search.unresolved"),
        ({"culprits": [], "case": "no/such/case"}, 409, "no gating slowdown its processes proved of no/such/case"),
    ],
)
def test_bisect_errors_name_the_field_and_record_nothing(client, search, status, needle):
    run_id, case, commit = _proved_run(client)
    body = {"bisects": [{"case": search.get("case", case), "search": {"case": case, **search}}]}
    response = client.post(f"/api/runs/{run_id}/bisects", json=body, headers=auth())
    assert response.status_code == status and needle in as_json(response)["message"], response.data
    rows = as_json(client.get("/api/regressions?kind=latency&status=all"))["items"]
    assert [r["bisect"] for r in rows if r["commit"] == commit] == [None]
    missing = client.post(
        "/api/runs/00000000-0000-0000-0000-000000000000/bisects", json={"bisects": []}, headers=auth()
    )
    assert missing.status_code == 404


def test_an_api_route_without_a_declaration_fails_the_description(db_url):
    from dashboard import create_app
    from dashboard.api.openapi import describe

    app = create_app(db_url)
    app.add_url_rule("/api/undescribed", "undescribed", lambda: {})
    with pytest.raises(LookupError, match="/api/undescribed"):
        describe(app)
    app.extensions["perfci"]["store"].dispose()
