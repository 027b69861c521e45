"""``perfci export``: stored runs as perfci.results/1 documents, one JSON document per line."""

from __future__ import annotations

import json

import click

from perfci.cli.common import BadInput, db_option, opened_store
from perfci.store.export import export_documents


@click.command("export")
@click.option("--commit", "commit_sha", metavar="SHA", help="Only runs of this commit (a sha prefix is enough).")
@click.option("--repo", metavar="NAME", help="Only runs of this repository.")
@click.option("-o", "--output", type=click.File("w"), default="-", help="File to write (default stdout).")
@db_option
def command(commit_sha: str | None, repo: str | None, output: click.utils.LazyFile, db_url: str | None) -> None:
    """Write stored runs as JSON Lines, one perfci.results/1 document per run (what import reads)."""
    with opened_store(db_url) as store, store.read() as session:
        documents = export_documents(session, commit_sha=commit_sha, repo=repo)
    if commit_sha and not documents:
        raise BadInput(f"--commit: no stored run matches {commit_sha!r}; `perfci export` lists every run")
    for document in documents:
        output.write(json.dumps(document, separators=(",", ":")) + "\n")
