"""Job rows on SQLite and PostgreSQL: one claim wins, a live claim holds, a dead one is taken over,
a finished job is never run again, and only the claim's holder records the end."""

from __future__ import annotations

import time

from perfci.store import jobs as job_rows
from perfci.store.migrate import open_store


def test_claims_decide_who_runs_a_job(db_url):
    store = open_store(db_url)
    job_id = job_rows.queue_job(store, "run", "/repo", ["--commit", "abc"], "h200")
    assert job_rows.job(store, job_id)["status"] == "queued"
    assert job_rows.claim(store, job_id, "a", stale_after_s=60) is job_rows.Claim.CLAIMED
    assert job_rows.claim(store, job_id, "b", stale_after_s=60) is job_rows.Claim.HELD  # a beats: b waits
    time.sleep(1.2)
    assert job_rows.claim(store, job_id, "b", stale_after_s=1) is job_rows.Claim.CLAIMED  # a went quiet
    job_rows.finish(store, job_id, "a", 0, "late", None)  # a is no longer the holder: ignored
    assert job_rows.job(store, job_id)["status"] == "running"
    job_rows.beat(store, job_id, "b")
    job_rows.finish(store, job_id, "b", 1, "found a regression", {"cases": []})
    row = job_rows.job(store, job_id)
    assert (row["status"], row["worker"], row["attempts"], row["exit_code"]) == ("done", "b", 2, 1)
    assert job_rows.claim(store, job_id, "c", stale_after_s=0) is job_rows.Claim.FINISHED
    failed = job_rows.queue_job(store, "compare", "/repo", ["a", "b"], "h200")
    job_rows.claim(store, failed, "c", stale_after_s=60)
    job_rows.finish(store, failed, "c", 2, "bad input", None)
    assert job_rows.job(store, failed)["status"] == "failed"
    rows, total = job_rows.jobs(store, 1, 10, "failed")
    assert total == 1 and rows[0]["id"] == str(failed)
    store.dispose()


def test_an_unknown_job_is_missing(db_url):
    import uuid

    store = open_store(db_url)
    assert job_rows.claim(store, uuid.uuid4(), "a", 60) is job_rows.Claim.MISSING
    assert job_rows.job(store, uuid.uuid4()) is None
    store.dispose()
