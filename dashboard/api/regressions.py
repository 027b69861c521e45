"""GET /api/regressions (filters, paginated) and PATCH /api/regressions/<id> (triage, write token)."""

from __future__ import annotations

from typing import Any

from flask import request

from dashboard.api import api
from dashboard.auth import require_write_token
from dashboard.errors import ApiError
from dashboard.store_access import choice_arg, page_body, pagination, reading, store
from perfci.findings import FINDING_KINDS
from perfci.store import reads
from perfci.store.models import TRIAGE_STATUSES
from perfci.store.triage import TriageError, history, set_status


@api.get("/regressions")
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
def regression_history(regression_id: int) -> dict[str, Any]:
    try:
        return {"id": regression_id, "history": history(store(), regression_id)}
    except TriageError as error:
        raise ApiError(404, str(error)) from None


@api.patch("/regressions/<id:regression_id>")
@require_write_token
def triage(regression_id: int) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, 'send a JSON object such as {"status": "acknowledged", "note": "...", "author": "..."}')
    unknown = set(body) - {"status", "note", "author"}
    if unknown:
        raise ApiError(422, f"unknown field(s) {', '.join(sorted(unknown))}; allowed: status, note, author")
    status, note, author = body.get("status"), body.get("note"), body.get("author")
    if status not in TRIAGE_STATUSES:
        raise ApiError(422, f"field 'status': {str(status)[:40]!r} is not one of {', '.join(TRIAGE_STATUSES)}")
    for name, value, limit in (("note", note, 10_000), ("author", author, 255)):
        if value is not None and (not isinstance(value, str) or len(value) > limit or "\x00" in value):
            raise ApiError(422, f"field {name!r}: a string of at most {limit} characters, without NUL bytes")
    try:
        return set_status(store(), regression_id, status, note, author)
    except TriageError as error:
        raise ApiError(404, str(error)) from None
