"""POST /api/runs on SQLite and PostgreSQL: a 1,000,000-sample run is stored and judged in bounded
memory; hostile values are refused naming the field (also by ``perfci import``); a run id re-sent
with other content is a 409 naming run.id and changes nothing, the same content stays idempotent;
no answer holds Infinity; the branch filter narrows series and points."""

from __future__ import annotations

import json
import random
import tracemalloc

import pytest
from click.testing import CliRunner

from dashboard import create_app
from perfci.cli import main
from perfci.config import PerfciConfig, ServerConfig
from perfci.tokens import hash_token
from tests.store.test_judge import _doc

TOKEN = "limits-write-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
RUN_ID = "5b0e7c55-8d1f-4f57-9a3e-0c2d5c1f2a10"


@pytest.fixture
def client(db_url):
    app = create_app(db_url, PerfciConfig(server=ServerConfig(write_tokens=[hash_token(TOKEN)], secret_key="k")))
    yield app.test_client()
    app.extensions["perfci"]["store"].dispose()


def test_a_million_sample_run_is_stored_and_judged_in_bounded_memory(client):
    for commit in range(8):
        assert (
            client.post("/api/runs", json=_doc(commit, [1.0], seed=commit, processes=3), headers=HEADERS).status_code
            == 201
        )
    data = _doc(8, [1.5], seed=8)
    rng = random.Random(8)
    data["results"][0]["samples"] = [1.5 * (1 + rng.gauss(0, 0.003)) for _ in range(1_000_000)]  # the schema's maximum
    body = json.dumps(data).encode()
    del data
    tracemalloc.start()
    try:
        answer = client.post("/api/runs", data=body, content_type="application/json", headers=HEADERS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 201, answer.get_data(as_text=True)[:500]
    assert [f["kind"] for f in answer.get_json()["findings"]] == ["suspected"]  # +50%, one process
    # parse, store, judge: about 2.5 x the body (its model's floats); the judge adds nothing per sample
    assert peak < 100e6, f"peak {peak / 1e6:.0f} MB"
    run = client.get(f"/api/runs/{answer.get_json()['run_id']}").get_json()
    results = client.get(f"/api/results?run={run['id']}").get_json()["items"]
    assert results[0]["n_samples"] == 1_000_000


def test_a_reused_run_id_with_other_content_is_a_conflict_and_changes_nothing(client):
    data = _doc(0, [1.0], seed=0)
    data["run"]["id"] = RUN_ID
    assert client.post("/api/runs", json=data, headers=HEADERS).status_code == 201
    assert client.post("/api/runs", json=data, headers=HEADERS).get_json()["stored"] is False  # idempotent
    changed = json.loads(json.dumps(data))
    changed["results"][0]["samples"][0] *= 2
    answer = client.post("/api/runs", json=changed, headers=HEADERS)
    assert answer.status_code == 409
    assert "run.id" in answer.get_json()["message"] and RUN_ID in answer.get_json()["message"]
    stored = client.get(f"/api/results?run={RUN_ID}").get_json()["items"]
    assert stored[0]["max"] == max(data["results"][0]["samples"])  # not the doubled sample of the conflicting one


def test_import_of_a_reused_run_id_with_other_content_is_exit_2_and_imports_nothing(db_url, tmp_path):
    first = _doc(0, [1.0], seed=0)
    first["run"]["id"] = RUN_ID
    (tmp_path / "first.json").write_text(json.dumps(first))
    assert CliRunner().invoke(main, ["import", str(tmp_path / "first.json"), "--db", db_url]).exit_code == 0
    again = CliRunner().invoke(main, ["import", str(tmp_path / "first.json"), "--db", db_url])
    assert again.exit_code == 0 and "1 already stored" in again.output
    changed = json.loads(json.dumps(first))
    changed["results"][0]["samples"][0] *= 2
    other = _doc(1, [1.0], seed=1)
    (tmp_path / "batch.jsonl").write_text(json.dumps(other) + "\n" + json.dumps(changed) + "\n")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "batch.jsonl"), "--db", db_url])
    assert result.exit_code == 2 and "run.id" in result.output and "nothing was imported" in result.output
    listed = CliRunner().invoke(main, ["regressions", "--json", "--db", db_url])
    assert listed.exit_code == 0
    runs = create_app(db_url).test_client().get("/api/runs").get_json()["total"]
    assert runs == 1


def _hostile_bodies() -> list[tuple[str, bytes, int, str]]:
    """(name, body, status, what the message must name)."""
    base = _doc(0, [1.0], seed=0)
    text = json.dumps(base)
    cases = []
    for field, value in (("authored_at", "0001-01-01T00:00:00+05:00"), ("authored_at", "9999-12-31T23:00:00-05:00")):
        doc = json.loads(text)
        doc["run"]["commit"][field] = value
        cases.append((f"commit {value}", json.dumps(doc).encode(), 422, "run.commit.authored_at"))
    doc = json.loads(text)
    doc["run"]["finished_at"] = "9999-12-31T23:59:00-01:00"
    cases.append(("finished_at", json.dumps(doc).encode(), 422, "run.finished_at"))

    def nested(levels: int) -> bytes:
        return (text[:-1] + ', "deep": ' + "[" * levels + "]" * levels + "}").encode()

    cases.append(("nested 5000", nested(5000), 400, "nested too deeply"))
    cases.append(("nested 100", nested(100), 422, "nested more than 64"))
    doc = json.loads(text)
    doc["results"][0]["samples"] = [1e308] * 5
    doc["results"][0]["processes"] = None
    cases.append(("1e308", json.dumps(doc).encode(), 422, "results[0].samples"))
    doc = json.loads(text)
    doc["results"][0]["samples"][0] = 1e-300
    cases.append(("1e-300", json.dumps(doc).encode(), 422, "results[0].samples"))
    cases.append(
        ("5000 digits", text.replace('"schema"', '"big": ' + "9" * 5000 + ', "schema"', 1).encode(), 400, "more digits")
    )
    return cases


@pytest.mark.parametrize(("name", "body", "status", "needle"), _hostile_bodies(), ids=[c[0] for c in _hostile_bodies()])
def test_hostile_values_are_refused_naming_the_field_and_store_nothing(
    client, db_url, tmp_path, name, body, status, needle
):
    answer = client.post("/api/runs", data=body, content_type="application/json", headers=HEADERS)
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert needle in answer.get_json()["message"] and "sys.set_int_max_str_digits" not in answer.get_json()["message"]
    assert client.get("/api/runs").get_json()["total"] == 0
    path = tmp_path / "hostile.json"
    path.write_bytes(body)
    imported = CliRunner().invoke(main, ["import", str(path), "--db", db_url])
    assert imported.exit_code == 2 and needle in imported.output and "Traceback" not in imported.output


def _strict_json(response) -> object:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the API's JSON")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def test_extreme_timings_give_finite_changes_and_a_recorded_regression(client):
    low, high = 1e-9, 1e12  # the extremes a sample may take
    for commit in range(8):
        doc = _doc(commit, [1.0], seed=commit, processes=3)
        doc["results"][0]["samples"] = [low] * 60
        for process in doc["results"][0]["processes"]:
            process["samples"] = [low] * 20
        assert client.post("/api/runs", json=doc, headers=HEADERS).status_code == 201
    doc = _doc(8, [1.0], seed=8, processes=3)
    doc["results"][0]["samples"] = [high] * 60
    for process in doc["results"][0]["processes"]:
        process["samples"] = [high] * 20
    answer = client.post("/api/runs", json=doc, headers=HEADERS)
    (finding,) = _strict_json(answer)["findings"]
    assert finding["kind"] == "latency" and finding["change"] == pytest.approx(high / low - 1)
    for path in ("/api/regressions?status=all", "/api/series/1", "/api/runs", "/api/series"):
        _strict_json(client.get(path))


def test_a_non_finite_value_already_stored_answers_null_not_infinity(client, db_url):
    from sqlalchemy import update

    from perfci.store import models
    from perfci.store.migrate import open_store

    assert client.post("/api/runs", json=_doc(0, [1.0], seed=0), headers=HEADERS).status_code == 201
    store = open_store(db_url)
    with store.write() as session:  # as a row stored before samples were bounded could hold
        session.execute(update(models.Result).values(maximum=float("inf")))
    store.dispose()
    (item,) = _strict_json(client.get("/api/results?commit=" + _doc(0, [1.0], seed=0)["run"]["commit"]["sha"]))["items"]
    assert item["max"] is None


def test_the_branch_filter_narrows_series_lists_and_points(client):
    for commit in range(3):
        doc = _doc(commit, [1.0, 2.0], seed=commit)
        doc["run"]["commit"]["branch"] = "main"
        assert client.post("/api/runs", json=doc, headers=HEADERS).status_code == 201
    feature = _doc(3, [1.1], seed=3)  # only case0 runs on the feature branch
    feature["run"]["commit"]["branch"] = "feature/x"
    assert client.post("/api/runs", json=feature, headers=HEADERS).status_code == 201

    assert client.get("/api/series").get_json()["total"] == 2
    (only,) = client.get("/api/series?branch=feature/x").get_json()["items"]
    assert only["case"] == "decode/bf16/case0"
    assert client.get("/api/series?branch=nowhere").get_json()["total"] == 0
    assert len(client.get(f"/api/series/{only['id']}").get_json()["points"]) == 4
    points = client.get(f"/api/series/{only['id']}?branch=feature/x").get_json()["points"]
    assert [p["branch"] for p in points] == ["feature/x"]
    assert {p["branch"] for p in client.get(f"/api/series/{only['id']}?branch=main").get_json()["points"]} == {"main"}

    listed = client.get("/series?branch=feature/x").get_data(as_text=True)
    assert "decode/bf16/case0" in listed and "decode/bf16/case1" not in listed
    page = client.get(f"/series/{only['id']}?branch=feature/x").get_data(as_text=True)
    assert "(showing 1)" in page and "feature/x" in page
    assert "(showing 4)" in client.get(f"/series/{only['id']}").get_data(as_text=True)
