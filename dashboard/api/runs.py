"""Runs: GET /api/runs, GET /api/runs/<id>, and POST /api/runs — where remote GPU runners send
``perfci.results/1`` documents. A POST is validated whole, stored in one transaction, judged, and
alerted, exactly like ``perfci import``; re-posting a run id is idempotent and answers with the
findings recorded when the run was first stored, so a runner whose first answer was lost still gates."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from dashboard import queries
from dashboard.api import api
from dashboard.auth import require_write_token
from dashboard.errors import ApiError
from dashboard.store_access import config, page_body, pagination, reading, store
from perfci.document import DocumentError, parse_document, reject_json_constant
from perfci.pipeline import process_document


@api.get("/runs")
def list_runs() -> dict[str, Any]:
    page, per_page = pagination()
    with reading() as session:
        rows, total = queries.runs(session, page, per_page)
    return page_body(rows, total, page, per_page)


@api.get("/runs/<ref>")
def get_run(ref: str) -> dict[str, Any]:
    with reading() as session:
        run = queries.find_run(session, ref)
        if run is None:
            raise ApiError(404, f"run {ref[:60]!r} is not stored; GET /api/runs lists run ids")
        return queries.run_info(run, run.commit, run.environment)


@api.post("/runs")
@require_write_token
def post_run() -> tuple[dict[str, Any], int]:
    if not (request.mimetype or "").endswith("json"):
        raise ApiError(400, "send the document as JSON with 'Content-Type: application/json'")
    body = request.get_data(cache=False)
    try:
        value = json.loads(body, parse_constant=reject_json_constant)
    except ValueError as error:  # malformed JSON, bad UTF-8 and NaN/Infinity are all ValueErrors
        raise ApiError(400, f"request body: malformed JSON ({error}); send one perfci.results/1 document") from None
    if isinstance(value, list):
        raise ApiError(422, "request body: a JSON array; POST one perfci.results/1 document per request")
    try:
        document = parse_document(value, "request body")
    except DocumentError as error:
        raise ApiError(422, str(error)) from None
    processed = process_document(store(), config(), document)
    body = {"run_id": str(processed.run_uuid), "stored": processed.stored, "results": processed.results,
            "findings": [f.as_json() for f in processed.findings]}  # fmt: skip
    if not processed.stored:  # a re-sent run: the findings recorded when it was first stored
        return body, 200
    body["not_judged"] = [{"case": u.case, "reason": u.reason} for u in processed.not_judged]
    body["alerts"] = [{"webhook": d.webhook, "status": d.status, "error": d.error} for d in processed.deliveries]
    return body, 201
