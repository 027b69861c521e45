"""``perfci token``: a new write token with the hash line for perfci.toml."""

from __future__ import annotations

import click

from perfci.tokens import hash_token, new_token


@click.command("token")
def command() -> None:
    """Print a new random write token and the line that allows it in perfci.toml's [server] section."""
    token = new_token()
    click.echo(f"token (give it to the runner as PERFCI_TOKEN; it is not stored anywhere): {token}")
    click.echo(f'perfci.toml:\n[server]\nwrite_tokens = ["{hash_token(token)}"]')
