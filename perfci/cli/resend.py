"""``perfci resend``: post documents a runner kept in ``.perfci/unsent/`` because the server was
unreachable or refused them, and gate on what the server finds, as ``perfci run --post`` does.

A CI runner that could not deliver exits 3 and keeps the document; a later step (or a person) sends
it with this command once the server or the token is fixed. A document that arrives is deleted from
the folder; one that does not stays there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from perfci.alerts.markdown import render_markdown
from perfci.cli.common import BadInput
from perfci.findings import Finding, Unjudged
from perfci.runner.post import UNSENT_DIR, PostError, post_document


def _documents(paths: tuple[Path, ...]) -> list[Path]:
    if paths:
        return [p for path in paths for p in (sorted(path.glob("*.json")) if path.is_dir() else [path])]
    return sorted(UNSENT_DIR.glob("*.json")) if UNSENT_DIR.is_dir() else []


@click.command("resend")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--post", "post_url", required=True, metavar="URL", help="The server's runs endpoint (.../api/runs).")
@click.option("--token", envvar="PERFCI_TOKEN", help="Write token (or $PERFCI_TOKEN).")
@click.option("--attempts", default=5, show_default=True, type=click.IntRange(1, 100), help="Tries per document.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Markdown report of the server's findings here (empty when nothing changed).",
)
def command(paths: tuple[Path, ...], post_url: str, token: str | None, attempts: int, report_path: Path | None) -> None:
    """Post kept documents (PATHS: files or folders; default .perfci/unsent/) to a perfci server.

    Exit code 0 when every document arrived and the server found nothing that gates; 1 when it found
    a regression, correctness failure or missing case; 3 when a document could not be delivered (it
    stays where it was); 2 when a file is not a JSON document.
    """
    files = _documents(paths)
    if not files:
        click.echo(f"nothing to send: no kept documents in {', '.join(map(str, paths)) or UNSENT_DIR}", err=True)
        return
    documents = []
    for path in files:
        try:
            documents.append((path, json.loads(path.read_text())))
        except (UnicodeDecodeError, ValueError) as error:
            raise BadInput(f"{path}: not a JSON document ({error}); nothing was sent") from None
    findings: list[Finding] = []
    not_judged: list[Unjudged] = []
    undelivered = 0
    for path, document in documents:
        try:
            found, unjudged = post_document(post_url, token, document, attempts=attempts)
        except PostError as error:
            undelivered += 1
            click.secho(f"{path}: not delivered ({error}); it stays there", fg="red", err=True)
            continue
        path.unlink()
        findings += found
        not_judged += unjudged
        click.echo(f"{path}: delivered, {len(found)} finding(s)", err=True)
    report = render_markdown(findings, device=post_url, not_judged=not_judged)
    if report:
        click.echo(report)
    if report_path:
        report_path.write_text(report)
    if undelivered:
        click.secho(f"{undelivered} of {len(documents)} document(s) not delivered (exit 3)", fg="red", err=True)
        sys.exit(3)
    sys.exit(1 if any(f.gates for f in findings) else 0)
