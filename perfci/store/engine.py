"""Engine and session setup: where the database is, and how SQLite is made safe for many writers.

SQLite runs in WAL mode (readers never block the writer), with foreign keys on and a busy timeout.
Write transactions start with ``BEGIN IMMEDIATE``: they take the write lock up front and wait for
it (up to the busy timeout) instead of failing with "database is locked" when a read transaction
tries to upgrade. Read transactions stay deferred so the dashboard never waits on a writer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import tenacity
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DB_URL = "sqlite:///perfci.db"
DB_ENV_VAR = "PERFCI_DB"
SQLITE_BUSY_TIMEOUT_MS = 60_000
_WRITE_OPTION = "perfci_write"

T = TypeVar("T")


class StoreConfigError(ValueError):
    """The database URL is unusable; the message says which setting to fix."""


def resolve_db_url(cli_value: str | None = None) -> str:
    """``--db`` wins, then ``$PERFCI_DB``, then ``sqlite:///perfci.db`` in the working directory."""
    url = cli_value or os.environ.get(DB_ENV_VAR) or DEFAULT_DB_URL
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreConfigError(
            f"--db / {DB_ENV_VAR}: {url!r} is not a database URL; use sqlite:///path/to/perfci.db "
            "or postgresql://user@host:5432/dbname"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreConfigError(
            f"--db / {DB_ENV_VAR}: backend {parsed.get_backend_name()!r} is not supported; "
            "use sqlite:///... or postgresql://..."
        )
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction start (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas above on SQLite; the URL must be resolved already."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            directory = os.path.dirname(os.path.abspath(database))
            if not os.path.isdir(directory):
                raise StoreConfigError(
                    f"--db / {DB_ENV_VAR}: directory {directory!r} does not exist; create it or point the URL elsewhere"
                )
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def write_engine(engine: Engine) -> Engine:
    """The same engine, marked so its transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def _is_transient(error: DBAPIError) -> bool:
    text = str(error.orig).lower() if error.orig is not None else str(error).lower()
    return any(
        marker in text
        for marker in ("database is locked", "database is busy", "deadlock detected", "could not serialize")
    )


def retry_transient(action: Callable[[], T], attempts: int = 8, first_delay_s: float = 0.05) -> T:
    """Run ``action`` again on lock contention or a serialization failure (back-off doubling from
    ``first_delay_s`` up to 2 s); other errors, and the last transient one, pass through."""
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(lambda error: isinstance(error, DBAPIError) and _is_transient(error)),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential(multiplier=first_delay_s, max=2.0),
        reraise=True,
    )
    return retrying(action)


def dialect_insert(session: Session, model: type) -> Any:
    """An INSERT of ``model`` in the session's dialect, so ``on_conflict_do_nothing`` and
    ``returning`` work on SQLite and PostgreSQL alike."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


class Store:
    """An opened, migrated database: hands out read and write sessions."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(bind=write_engine(engine), expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
