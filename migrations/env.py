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
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys on, that
            # DROP would cascade and delete every row referring to it (results of runs, samples of
            # results). The pragma must be set outside a transaction, on the driver's connection.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Two runners creating a fresh database at once: the second waits, then finds it current.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,
                    transactional_ddl=True,
                    compare_type=True,
                )
                context.run_migrations()
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("the migration left rows whose parent is gone; nothing was changed")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("perfci migrations run online only: use `perfci db upgrade --db URL`")
run_migrations_online()
