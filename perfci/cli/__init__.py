"""The ``perfci`` command: one module per subcommand, registered here and imported only when run.

A subcommand's module pulls in what it needs (scipy, SQLAlchemy, Flask, torch); importing them all
took ``perfci --help`` and ``perfci token`` about 2 s. The listing reads each command's help from its
module's source instead.
"""

from __future__ import annotations

import ast
import errno
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import click

from perfci import __version__

#: subcommand -> "module:function" of its click command
COMMANDS = {
    "run": "perfci.cli.run:command",
    "compare": "perfci.cli.compare:command",
    "bisect": "perfci.cli.bisect:command",
    "submit": "perfci.cli.submit:command",
    "worker": "perfci.cli.worker:command",
    "import": "perfci.cli.import_:command",
    "export": "perfci.cli.export:command",
    "regressions": "perfci.cli.regressions:command",
    "report": "perfci.cli.report:command",
    "runs": "perfci.cli.runs:command",
    "show": "perfci.cli.show:command",
    "triage": "perfci.cli.triage:command",
    "alerts": "perfci.cli.alerts:command",
    "serve": "perfci.cli.serve:command",
    "token": "perfci.cli.token:command",
    "resend": "perfci.cli.resend:command",
    "db": "perfci.cli.db:command",
}

#: subcommands that fork measuring workers: their fork server starts before their modules import
MEASURING = frozenset({"run", "compare", "bisect"})

#: what the machine can refuse a command that is otherwise right: out of space, read-only, no access
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


class PerfciGroup(click.Group):
    """The command group; a database that cannot be used or a disk that refuses a write ends any
    subcommand with one line naming it and exit code 2, never a traceback (exit 1 means only
    "regression found")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if name in MEASURING:
            from perfci.runner import forkserver

            forkserver.warm_up()  # its torch import runs beside the command module's own imports
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, _short_help(COMMANDS[name], limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as error:
            if error.errno not in _ENVIRONMENT_ERRNOS:
                raise
            where = f"{error.filename}: " if error.filename else ""
            raise _bad_input(f"{where}{error.strerror or error}; free space or fix permissions and run again") from None
        except Exception as error:
            database_errors = sys.modules.get("sqlalchemy.exc")  # not imported: it cannot be a database error
            if database_errors is None or not isinstance(error, database_errors.DBAPIError):
                raise
            detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
            raise _bad_input(
                f"--db / PERFCI_DB: the database cannot be used ({detail}); check the URL, that the "
                "server runs and the database exists, and the disk has room"
            ) from None


def _bad_input(message: str) -> click.ClickException:
    from perfci.cli.common import BadInput

    return BadInput(message)


@click.group(cls=PerfciGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfci")
def main() -> None:
    """Regression-tracking CI for sliding-window-attention GPU kernels.

    The database is --db URL, else $PERFCI_DB, else sqlite:///perfci.db in the working directory.
    Exit codes: 0 clean, 1 regression or correctness failure found, 2 bad usage or bad input,
    3 the job could not do its work (a document not delivered).
    """


def _short_help(target: str, limit: int) -> str:
    """The first sentence of the command function's docstring, read from its module's source."""
    module, function = target.split(":")
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return click.utils.make_default_short_help(ast.get_docstring(node) or "", limit)
    return ""
