"""``perfci run``: measure the suite for one commit (the runner issue, #4)."""

from __future__ import annotations

import click

from perfci.cli.common import BadInput, db_option


@click.command("run")
@click.option("--commit", "rev", default="HEAD", show_default=True)
@click.option("--suite", type=click.Choice(["tiny", "smoke", "full"]), default="smoke", show_default=True)
@click.option("--device", type=click.Choice(["auto", "cuda", "interpreter"]), default="auto", show_default=True)
@db_option
def command(rev: str, suite: str, device: str, db_url: str | None) -> None:
    """Run the SWA benchmark suite and correctness checks for one commit and store the results."""
    raise BadInput("`perfci run` is not implemented yet (issue #4)")
