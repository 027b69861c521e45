"""``perfci db upgrade|downgrade|current``: the Alembic migrations of the store."""

from __future__ import annotations

import click
from alembic.util import CommandError

from perfci.cli.common import BadInput, db_option
from perfci.store import migrate
from perfci.store.engine import StoreConfigError, make_engine, resolve_db_url


@click.group("db")
def command() -> None:
    """Create, upgrade or downgrade the database schema."""


def _run(action: str, db_url: str | None, revision: str) -> None:
    try:
        (migrate.upgrade if action == "upgrade" else migrate.downgrade)(db_url, revision)
    except StoreConfigError as error:
        raise BadInput(str(error)) from None
    except CommandError as error:
        raise BadInput(f"revision {revision!r}: {error}; `perfci db current` shows where the database is") from None


@command.command("upgrade")
@click.argument("revision", default="head")
@db_option
def upgrade(revision: str, db_url: str | None) -> None:
    """Upgrade to REVISION (default: the newest)."""
    _run("upgrade", db_url, revision)
    click.echo(f"database at {revision}")


@command.command("downgrade")
@click.argument("revision")
@db_option
def downgrade(revision: str, db_url: str | None) -> None:
    """Downgrade to REVISION ('base' drops every perfci table; stored data goes with it)."""
    _run("downgrade", db_url, revision)
    click.echo(f"database at {revision}")


@command.command("current")
@db_option
def current(db_url: str | None) -> None:
    """Print the schema revision of the database and the newest one this perfci knows."""
    try:
        engine = make_engine(resolve_db_url(db_url))
    except StoreConfigError as error:
        raise BadInput(str(error)) from None
    try:
        click.echo(f"current: {migrate.current_revision(engine) or 'empty'}; head: {migrate.head_revision(engine)}")
    finally:
        engine.dispose()
