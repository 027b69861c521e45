"""What every subcommand shares: the --db option and the exit-code-2 error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from perfci.store.engine import DB_ENV_VAR, Store, StoreConfigError, open_store


class BadInput(click.ClickException):
    """Bad usage or bad input: printed as one clear message, exit code 2."""

    exit_code = 2


def db_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db_url",
        envvar=DB_ENV_VAR,
        default=None,
        metavar="URL",
        help=f"Database URL (sqlite:///file.db or postgresql://...); default ${DB_ENV_VAR}, else sqlite:///perfci.db.",
    )(function)


def open_store_or_fail(db_url: str | None) -> Store:
    try:
        return open_store(db_url)
    except StoreConfigError as error:
        raise BadInput(str(error)) from None
