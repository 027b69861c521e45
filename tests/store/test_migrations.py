"""Migrations: up from empty, down to empty, up again; and the models match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from perfci.store import migrate
from perfci.store.engine import make_engine, resolve_db_url
from perfci.store.models import Base

INITIAL = {"repositories", "commits", "environments", "cases", "series", "runs", "results", "samples", "regressions"}
TABLES = INITIAL | {"triage_events", "alert_deliveries", "web_sessions", "jobs"}


def _tables(url: str) -> set[str]:
    engine = make_engine(resolve_db_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(db_url):
    migrate.upgrade(db_url)
    assert _tables(db_url) == TABLES
    migrate.downgrade(db_url, "0001")
    assert _tables(db_url) == INITIAL
    migrate.downgrade(db_url, "base")
    assert _tables(db_url) == set()
    migrate.upgrade(db_url)
    assert _tables(db_url) == TABLES


def test_models_and_migrations_agree(db_url):
    migrate.upgrade(db_url)
    engine = make_engine(resolve_db_url(db_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], f"models and migrations disagree; add a migration: {differences}"


def test_key_columns_are_filled_from_the_stored_json(db_url):
    """0006 moved the run's suite, selection and pinned baseline and each result's timing mode out of
    the JSON extras into columns: a store upgraded across it gets them filled in."""
    import json
    import uuid

    from sqlalchemy import select

    from perfci.document import parse_document
    from perfci.store import models
    from perfci.store.ingest import ingest_document
    from perfci.testing import make_document, sha_for

    store = migrate.open_store(db_url)
    pinned = str(uuid.uuid4())
    documents = []
    for index, (suite, selection, baseline) in enumerate(
        [("smoke", None, None), ("tiny", ["decode/*"], {"commit": sha_for("commit-0")}), ("full", [], {"run": pinned})]
    ):
        data = make_document(commit_index=index, cases=1)
        data["run"].update(suite=suite, **({"selection": selection} if selection is not None else {}))
        if baseline:
            data["run"]["baseline"] = baseline
        data["results"][0]["timing"] = {"mode": ["kernels", "graph", "events"][index]}
        documents.append(json.loads(json.dumps(data)))
        ingest_document(store, parse_document(data))
    store.dispose()
    migrate.downgrade(db_url, "0005")
    migrate.upgrade(db_url)
    store = migrate.open_store(db_url)
    with store.read() as session:
        runs = session.execute(
            select(
                models.Run.suite, models.Run.selection, models.Run.baseline_commit, models.Run.baseline_run
            ).order_by(models.Run.id)
        ).all()
        modes = list(session.scalars(select(models.Result.timing_mode).order_by(models.Result.id)))
    store.dispose()
    assert [tuple(r) for r in runs] == [
        ("smoke", None, None, None),
        ("tiny", ["decode/*"], sha_for("commit-0"), None),
        ("full", None, None, uuid.UUID(pinned)),
    ]
    assert modes == ["kernels", "graph", "events"]
