"""Ingest and export on both databases: round trip, idempotency, series identity."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from perfci.document import parse_document
from perfci.store import models
from perfci.store.export import export_documents
from perfci.store.ingest import ingest_document
from perfci.store.migrate import open_store
from perfci.store.queries import series_history
from perfci.testing import make_document


def _count(store, model) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_round_trip_export_equals_import(db_url):
    store = open_store(db_url)
    data = make_document(commit_index=3)
    data["run"]["environment"]["extra"] = {"clock_policy": "locked"}
    data["run"]["shard"] = 2  # unknown field: kept
    data["results"][0]["correctness"]["ulp"] = 3
    data["results"][1].update(status="failed", error="CUDA error: illegal memory access")
    for key in ("samples", "unit", "correctness"):
        data["results"][1].pop(key)
    document = parse_document(data)
    assert ingest_document(store, document).stored
    with store.read() as session:
        exported = export_documents(session)
    assert len(exported) == 1
    assert parse_document(exported[0]).to_json() == document.to_json()
    store.dispose()


def test_same_run_id_is_stored_once(db_url):
    store = open_store(db_url)
    document = parse_document(make_document(run_id=str(uuid.uuid4())))
    assert ingest_document(store, document).stored
    assert not ingest_document(store, document).stored
    assert _count(store, models.Run) == 1
    assert _count(store, models.Result) == 3
    store.dispose()


def test_concurrent_posts_of_one_run_store_it_once(db_url):
    store = open_store(db_url)
    document = parse_document(make_document(run_id=str(uuid.uuid4()), cases=20))
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(ingest_document(store, document))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(outcome.stored for outcome in outcomes) == 1
    assert _count(store, models.Run) == 1
    assert _count(store, models.Result) == 20
    store.dispose()


def test_series_split_by_environment_and_ordered_by_commit(db_url):
    store = open_store(db_url)
    for commit_index in (2, 0, 1):
        ingest_document(store, parse_document(make_document(commit_index=commit_index, cases=1)))
    ingest_document(store, parse_document(make_document(commit_index=0, cases=1, device_name="NVIDIA H200")))
    with store.read() as session:
        series = session.scalars(select(models.Series).order_by(models.Series.id)).all()
        assert len(series) == 2
        history = series_history(session, series[0].id)
        assert [row.sha for row in history] == [make_document(commit_index=i)["run"]["commit"]["sha"] for i in range(3)]
        assert all(row.n_samples == 10 and row.q1 <= row.median <= row.q3 for row in history)
    assert _count(store, models.Environment) == 2
    store.dispose()


def test_python_patch_version_does_not_split_series(db_url):
    store = open_store(db_url)
    first = make_document(commit_index=0, cases=1)
    second = make_document(commit_index=1, cases=1)
    second["run"]["environment"]["python"] = "3.12.9"
    second["run"]["environment"]["hostname"] = "runner-7"
    for data in (first, second):
        ingest_document(store, parse_document(data))
    assert _count(store, models.Series) == 1
    with store.read() as session:
        exported = export_documents(session, commit_sha=second["run"]["commit"]["sha"][:8])
    assert exported[0]["run"]["environment"]["python"] == "3.12.9"
    assert exported[0]["run"]["environment"]["hostname"] == "runner-7"
    store.dispose()
