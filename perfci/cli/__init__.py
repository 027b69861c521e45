"""The ``perfci`` command: one module per subcommand, registered here."""

from __future__ import annotations

import click

from perfci import __version__
from perfci.cli import alerts, compare, db, export, import_, regressions, resend, run, serve, triage


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
