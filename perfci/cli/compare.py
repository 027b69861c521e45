"""``perfci compare BASE HEAD``: both commits measured interleaved in one job (issue #5)."""

from __future__ import annotations

import click

from perfci.cli.common import BadInput


@click.command("compare")
@click.argument("base")
@click.argument("head")
def command(base: str, head: str) -> None:
    """Measure BASE and HEAD interleaved on one device and judge HEAD against BASE.

    Not available yet: interleaved A/B measurement arrives with the detection issue (#5).
    """
    raise BadInput("`perfci compare` is not implemented yet (issue #5); use `perfci run --commit` on each commit")
