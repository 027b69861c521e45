"""The ``perfci`` command: one module per subcommand, registered here."""

from __future__ import annotations

import errno
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from perfci import __version__
from perfci.cli import alerts, compare, db, export, import_, regressions, resend, run, serve, triage
from perfci.cli.common import BadInput

#: what the machine can refuse a command that is otherwise right: out of space, read-only, no access
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


class PerfciGroup(click.Group):
    """The command group; a database that cannot be used or a disk that refuses a write ends any
    subcommand with one line naming it and exit code 2, never a traceback (exit 1 means only
    "regression found")."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            raise BadInput(f"--db / PERFCI_DB: the database cannot be used ({detail}); check the URL, that the "
                           "server runs and the database exists, and the disk has room") from None  # fmt: skip
        except OSError as error:
            if error.errno not in _ENVIRONMENT_ERRNOS:
                raise
            where = f"{error.filename}: " if error.filename else ""
            raise BadInput(f"{where}{error.strerror or error}; free space or fix permissions and run again") from None


@click.group(cls=PerfciGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfci")
def main() -> None:
    """Regression-tracking CI for sliding-window-attention GPU kernels.

    The database is --db URL, else $PERFCI_DB, else sqlite:///perfci.db in the working directory.
    Exit codes: 0 clean, 1 regression or correctness failure found, 2 bad usage or bad input,
    3 the job could not do its work (a document not delivered).
    """


for module in (run, compare, import_, export, regressions, triage, alerts, serve, db, resend):
    main.add_command(module.command)
main.add_command(serve.token_command)
