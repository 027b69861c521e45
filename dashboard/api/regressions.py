"""GET /api/regressions (filters, paginated) and PATCH /api/regressions/<id> (triage, write token)."""

from __future__ import annotations

from typing import Any

from flask import request

from dashboard.api import api
from dashboard.api.openapi import documented
from dashboard.api.schemas import PageBody, RegressionsQuery, TriageBody, validated
from dashboard.auth import require_write_token
from dashboard.errors import ApiError
from dashboard.store_access import choice_arg, page_body, pagination, reading, store
from perfci.findings import FINDING_KINDS
from perfci.store import reads
from perfci.store.models import TRIAGE_STATUSES
from perfci.store.triage import TriageError, history, set_status


@api.get("/regressions")
@documented(
    "Regressions (open by default)",
    answers={200: ("a page of regressions", PageBody)},
    errors=(400, 401),
    query=RegressionsQuery,
)
def list_regressions() -> dict[str, Any]:
    page, per_page = pagination()
    status = choice_arg("status", (*TRIAGE_STATUSES, "all"), "open")
    kind = choice_arg("kind", FINDING_KINDS, None)
    order = choice_arg("order", ("newest", "worst"), "newest")
    with reading() as session:
        rows, total = reads.regressions(
            session,
            reads.Filters.from_args(request.args),
            status=None if status == "all" else status,
            kind=kind,
            page=page,
            per_page=per_page,
            worst_first=order == "worst",
        )
    return page_body(rows, total, page, per_page)


@api.get("/regressions/<id:regression_id>/history")
@documented(
    "Every triage change of a regression, oldest first", answers={200: ("the history", None)}, errors=(401, 404)
)
def regression_history(regression_id: int) -> dict[str, Any]:
    try:
        return {"id": regression_id, "history": history(store(), regression_id)}
    except TriageError as error:
        raise ApiError(404, str(error)) from None


@api.patch("/regressions/<id:regression_id>")
@documented(
    "Triage: set status with note and author",
    answers={200: ("the triaged regression", None)},
    errors=(400, 401, 403, 404, 422),
    body=TriageBody,
)
@require_write_token
def triage(regression_id: int) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, 'send a JSON object such as {"status": "acknowledged", "note": "...", "author": "..."}')
    triage = validated(TriageBody, body)
    try:
        return set_status(store(), regression_id, triage.status, triage.note, triage.author)
    except TriageError as error:
        raise ApiError(404, str(error)) from None
