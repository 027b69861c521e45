"""Alembic environment: one transaction per upgrade, serialised across concurrent processes."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from perfci.store.engine import make_engine, write_engine
from perfci.store.models import Base

config = context.config
target_metadata = Base.metadata
_PG_MIGRATION_LOCK = 7_311_995_031


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or write_engine(make_engine(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as connection, connection.begin():
        if connection.dialect.name == "postgresql":
            # Two runners creating a fresh database at once: the second waits, then finds it current.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            transactional_ddl=True,
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("perfci migrations run online only: use `perfci db upgrade --db URL`")
run_migrations_online()
