"""Database fixtures: every store test runs against SQLite and the local PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path, postgres_problem) -> Iterator[str]:
    """A fresh, empty database URL: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'perfci.db'}"
        return
    if postgres_problem:
        if os.environ.get("PERFCI_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required (PERFCI_REQUIRE_PG) but unreachable: {postgres_problem}")
        pytest.skip(f"PostgreSQL unreachable: {postgres_problem}")
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
