"""Migrations: up from empty, down to empty, up again; and the models match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from perfci.store import migrate
from perfci.store.engine import make_engine, resolve_db_url
from perfci.store.models import Base

INITIAL = {"repositories", "commits", "environments", "cases", "series", "runs", "results", "samples", "regressions"}
TABLES = INITIAL | {"triage_events", "alert_deliveries", "web_sessions"}


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
