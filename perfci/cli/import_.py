"""``perfci import FILE...``: validate every document first, then store each one atomically."""

from __future__ import annotations

from pathlib import Path

import click

from perfci.alerts.notify import deliver_now
from perfci.cli.common import (
    BadInput,
    config_option,
    db_option,
    load_config_or_fail,
    opened_store,
    report_deliveries,
    report_not_judged,
    summary_line,
)
from perfci.document import MAX_DOCUMENT_BYTES, DocumentError, ResultsDocument, parse_documents_text
from perfci.pipeline import process_document
from perfci.store.ingest import RunConflict, check_conflicts
from perfci.store.recorded import restore


def load_documents(paths: list[Path]) -> list[ResultsDocument]:
    """All documents of all files, or a :class:`BadInput` naming the first bad field."""
    documents: list[ResultsDocument] = []
    for path in paths:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            raise BadInput(
                f"{path}: {path.stat().st_size} bytes is over the {MAX_DOCUMENT_BYTES} byte limit; "
                "split it into several documents"
            )
        try:
            documents.extend(parse_documents_text(path.read_bytes(), str(path)))
        except DocumentError as error:
            raise BadInput(str(error)) from None
    return documents


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@config_option
@db_option
def command(files: tuple[Path, ...], config_path: Path | None, db_url: str | None) -> None:
    """Store perfci.results/1 documents from FILES (a document, a JSON array, or JSON Lines).

    Every document is validated before anything is stored: one bad document stores nothing.
    Re-importing a run id that is already stored is a no-op. Each stored run is judged against its
    series (exit code 1 when a regression, correctness failure or missing case is found).
    """
    documents = load_documents(list(files))
    config = load_config_or_fail(config_path)
    stored = skipped = results = problems = restored = 0
    with opened_store(db_url) as store:
        try:
            check_conflicts(store, documents)
        except RunConflict as error:
            raise BadInput(f"{error}; nothing was imported") from None
        # oldest commit first, so each run is judged against the history before it
        for document in sorted(documents, key=lambda d: d.run.commit.authored_at):
            processed = process_document(store, config, document)
            if processed.stored:
                stored += 1
                results += processed.results
                problems += sum(f.gates for f in processed.findings)
                report_deliveries(deliver_now(store, config, processed.deliveries))
                report_not_judged(processed.not_judged, document.run.commit.sha)
                pinned = document.run.baseline
                against = (
                    (pinned.commit[:12] if pinned.commit else str(pinned.run))
                    if pinned
                    else ("each series' previous result on the branch")
                )
                click.echo(
                    summary_line(
                        str(processed.run_uuid),
                        document.run.commit.sha,
                        "stored",
                        against,
                        processed.findings,
                        processed.not_judged,
                    ),
                    err=True,
                )
            else:
                skipped += 1
        # an export's findings and triage replace the re-judgement where it carries them
        restored = sum(restore(store, document) for document in documents)
    if restored:
        click.echo(f"restored {restored} recorded finding(s) with their triage from the export", err=True)
    click.echo(f"imported {stored} run(s) with {results} result(s); {skipped} already stored")
    if problems:
        click.echo(f"{problems} regression(s) found; `perfci regressions` lists them")
        raise SystemExit(1)
