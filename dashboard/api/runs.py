"""Runs: GET /api/runs, GET /api/runs/<id>, and POST /api/runs — where remote GPU runners send
``perfci.results/1`` documents. A POST is validated whole, then stored, judged and its alerts queued
in one transaction, exactly like ``perfci import`` (the outbox sender of ``perfci serve`` sends them,
so no answer waits on a webhook); re-posting a run id with the same content is idempotent and answers with the
findings recorded when the run was first stored, so a runner whose first answer was lost still gates;
the same run id with other content is a 409."""

from __future__ import annotations

from typing import Any

from flask import request

from dashboard.api import api
from dashboard.api.openapi import documented
from dashboard.api.schemas import PageBody, PageQuery
from dashboard.auth import require_write_token
from dashboard.errors import ApiError
from dashboard.store_access import config, page_body, pagination, reading, store
from perfci.document import (
    DocumentError,
    MalformedJson,
    ResultsDocument,
    decode_json,
    parse_document,
    parse_valid_document,
)
from perfci.pipeline import process_document
from perfci.store import outbox, reads
from perfci.store.ingest import RunConflict


@api.get("/runs")
@documented("Runs, newest first", answers={200: ("a page of runs", PageBody)}, errors=(400, 401), query=PageQuery)
def list_runs() -> dict[str, Any]:
    page, per_page = pagination()
    with reading() as session:
        rows, total = reads.runs(session, page, per_page)
    return page_body(rows, total, page, per_page)


@api.get("/runs/<ref>")
@documented("One run", answers={200: ("the run", None)}, errors=(401, 404), path={"ref": "the run id"})
def get_run(ref: str) -> dict[str, Any]:
    with reading() as session:
        run = reads.find_run(session, ref)
        if run is None:
            raise ApiError(404, f"run {ref[:60]!r} is not stored; GET /api/runs lists run ids")
        return reads.run_info(run, run.commit, run.environment)


def _document(body: bytes) -> ResultsDocument:
    """The posted document; a valid one is validated straight from the bytes (memory: its model),
    anything else is decoded and the problem named (400 for bad JSON, 422 for a bad document)."""
    if (document := parse_valid_document(body)) is not None:
        return document
    try:
        value = decode_json(body, "request body")
    except MalformedJson as error:
        raise ApiError(400, f"{error}; send one perfci.results/1 document") from None
    if isinstance(value, list):
        raise ApiError(422, "request body: a JSON array; POST one perfci.results/1 document per request")
    try:
        return parse_document(value, "request body")
    except DocumentError as error:
        raise ApiError(422, str(error)) from None


@api.post("/runs")
@documented(
    "Store a perfci.results/1 document (idempotent by run.id), judge it, alert",
    answers={201: ("stored, with its findings", None), 200: ("already stored: the findings recorded then", None)},
    errors=(400, 401, 403, 409, 413, 422),
    body=ResultsDocument,
)
@require_write_token
def post_run() -> tuple[dict[str, Any], int]:
    if not (request.mimetype or "").endswith("json"):
        raise ApiError(400, "send the document as JSON with 'Content-Type: application/json'")
    document = _document(request.get_data(cache=False))
    try:
        processed = process_document(store(), config(), document)
    except RunConflict as error:
        raise ApiError(409, f"request body: {error}") from None
    body = {
        "run_id": str(processed.run_uuid),
        "stored": processed.stored,
        "results": processed.results,
        "findings": [f.as_json() for f in processed.findings],
    }
    if not processed.stored:  # a re-sent run: the findings recorded when it was first stored
        return body, 200
    body["not_judged"] = [{"case": u.case, "reason": u.reason} for u in processed.not_judged]
    # queued with the judgement; perfci serve's outbox sender delivers them after this answer
    body["alerts"] = [
        {"id": d.id, "webhook": d.webhook, "status": d.status}
        for d in outbox.deliveries(store(), ids=processed.deliveries)
    ]
    return body, 201
