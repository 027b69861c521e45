"""Alembic, driven from code: the CLI's ``db upgrade/downgrade``, and opening a store (created or
upgraded to the newest schema on first use)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations
from perfci.store.engine import Store, make_engine, resolve_db_url, write_engine


def alembic_config(engine: Engine) -> Config:
    """A Config whose env.py reuses ``engine`` (so SQLite pragmas and locking apply)."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser interpolates "%": escape it (URL-encoded options contain "%3D").
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = write_engine(engine)
    return config


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Create or upgrade the schema to head if it is behind; cheap when it is already current."""
    if current_revision(engine) != head_revision(engine):
        command.upgrade(alembic_config(engine), "head")


def upgrade(url: str | None, revision: str = "head") -> None:
    engine = make_engine(resolve_db_url(url))
    try:
        command.upgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()


def downgrade(url: str | None, revision: str) -> None:
    engine = make_engine(resolve_db_url(url))
    try:
        command.downgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    """Open (and by default create or upgrade to the newest schema) the database at ``url``."""
    resolved = resolve_db_url(url)
    engine = make_engine(resolved)
    if upgrade:
        ensure_current(engine)
    return Store(resolved, engine)
