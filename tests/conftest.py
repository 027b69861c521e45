"""Database fixtures: every store test runs against SQLite and the local PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_URL = os.environ.get("PERFCI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    from sqlalchemy import create_engine, text  # imported here: the GPU machine runs kernel tests without it
    from sqlalchemy.exc import OperationalError

    try:
        engine = create_engine(PG_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except (OperationalError, ModuleNotFoundError) as error:
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    return _postgres_available()


@contextmanager
def fresh_database(kind: str, directory: Path, problem: str | None) -> Iterator[str]:
    """A fresh, empty database URL: a new SQLite file in ``directory``, or a new PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'perfci.db'}"
        return
    if problem:
        if os.environ.get("PERFCI_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required (PERFCI_REQUIRE_PG) but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path, postgres_problem) -> Iterator[str]:
    """A fresh, empty database per test, on each store."""
    with fresh_database(request.param, tmp_path, postgres_problem) as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory, postgres_problem) -> Iterator[str]:
    """A fresh, empty database shared by one module's tests, on each store."""
    with fresh_database(request.param, tmp_path_factory.mktemp("db"), postgres_problem) as url:
        yield url
