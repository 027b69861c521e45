"""The Jobs page and API (on SQLite and PostgreSQL): every state, the worker, attempts and times; a
finished job's output and result; filters and clear errors."""

from __future__ import annotations

from perfci.store import jobs as job_rows
from tests.dashboard.conftest import as_json


def _jobs(app) -> dict[str, str]:
    """A queued, a running, a done (regression found) and a failed job."""
    store = app.extensions["perfci"]["store"]
    ids = {status: job_rows.queue_job(store, "run", "/repo", ["--commit", "abc"], "h200") for status in ("queued",)}
    for status, exit_code in (("running", None), ("done", 1), ("failed", 2)):
        job_id = job_rows.queue_job(store, "bisect", "/repo", ["good", "bad"], "h200")
        assert job_rows.claim(store, job_id, "w0@gpu", 60) is job_rows.Claim.CLAIMED
        if exit_code is not None:
            job_rows.finish(store, job_id, "w0@gpu", exit_code, "searched <4> commits", {"cases": []})
        ids[status] = job_id
    return {status: str(job_id) for status, job_id in ids.items()}


def test_the_jobs_api_lists_and_shows_every_state(app, client):
    ids = _jobs(app)
    listed = as_json(client.get("/api/jobs"))
    assert listed["total"] == 4 and {row["status"] for row in listed["items"]} == set(ids)
    assert all(row["output"] is None for row in listed["items"])  # the listing leaves the output out
    failed = as_json(client.get("/api/jobs?status=failed"))["items"]
    assert [row["id"] for row in failed] == [ids["failed"]]
    done = as_json(client.get(f"/api/jobs/{ids['done']}"))
    assert done["worker"] == "w0@gpu" and done["attempts"] == 1 and done["exit_code"] == 1
    assert done["output"] == "searched <4> commits" and done["result"] == {"cases": []} and done["seconds"] >= 0
    running = as_json(client.get(f"/api/jobs/{ids['running']}"))
    assert running["status"] == "running" and running["finished_at"] is None
    assert client.get("/api/jobs?status=lost").status_code == 400
    assert client.get("/api/jobs/not-a-job").status_code == 404
    assert client.get("/api/jobs/00000000-0000-0000-0000-000000000000").status_code == 404


def test_the_jobs_page_shows_state_worker_and_output(app, client):
    ids = _jobs(app)
    page = client.get("/jobs").get_data(as_text=True)
    for status in ids:
        assert f'class="badge job-{status}"' in page
    assert "perfci bisect good bad" in page and "w0@gpu" in page
    assert ids["queued"][:8] not in client.get("/jobs?status=done").get_data(as_text=True)
    one = client.get(f"/jobs/{ids['done']}").get_data(as_text=True)
    assert "searched &lt;4&gt; commits" in one and "a regression was found" in one  # output escaped
    assert client.get("/jobs/nope").status_code == 404 and client.get("/jobs?status=lost").status_code == 400
