"""/regressions — the list with filters, and the triage form (signed-in users, CSRF-protected)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from dashboard.auth import local_target, signed_in
from dashboard.store_access import choice_arg, int_arg, reading, store
from dashboard.views import views
from dashboard.views.common import GROUPINGS, filter_context, group_findings
from perfci.findings import FINDING_KINDS
from perfci.store import reads
from perfci.store.models import MAX_ID, TRIAGE_STATUSES
from perfci.store.triage import TriageError, set_status, set_statuses


@views.get("/regressions")
def regressions_page() -> str:
    status = choice_arg("status", (*TRIAGE_STATUSES, "all"), "open")
    kind = choice_arg("kind", FINDING_KINDS, None)
    order = choice_arg("order", ("newest", "worst"), "worst")
    grouping = choice_arg("group", GROUPINGS, "commit")
    page = int_arg("page", 1, 1, 1_000_000)
    with reading() as db:
        context = filter_context(db)
        rows, total = reads.regressions(
            db,
            context["filters"],
            status=None if status == "all" else status,
            kind=kind,
            page=page,
            per_page=50,
            worst_first=order == "worst",
        )
        history = reads.triage_history(db, [r["id"] for r in rows])
    return render_template(
        "regressions.html",
        groups=group_findings(rows, grouping),
        grouping=grouping,
        groupings=GROUPINGS,
        rows=rows,
        total=total,
        page=page,
        status=status,
        kind=kind,
        order=order,
        kinds=FINDING_KINDS,
        statuses=TRIAGE_STATUSES,
        history=history,
        back=request.full_path,
        **context,
    )


@views.post("/regressions/triage")
def triage_many() -> Response:
    """Triage every finding of a group at once (all or none)."""
    if not signed_in():
        abort(403, description="sign in with a write token (top right) to triage regressions")
    ids = request.form.getlist("ids")
    if not ids or not all(value.isdigit() and 0 < int(value) <= MAX_ID for value in ids):
        abort(400, description="ids: give one or more regression ids")
    status, note, author = _triage_fields()
    try:
        set_statuses(store(), [int(value) for value in ids], status, note, author)
    except TriageError as error:
        abort(404, description=str(error))
    session["author"] = author
    flash(f"{len(set(ids))} regressions are now {status}")
    return redirect(local_target(request.form.get("back"), url_for("views.regressions_page")))


def _triage_fields() -> tuple[str, str | None, str]:
    status = request.form.get("status", "")
    note = (request.form.get("note") or "").strip()[:10_000] or None
    author = (request.form.get("author") or "").strip()[:255] or session.get("author") or "dashboard"
    if status not in TRIAGE_STATUSES:
        abort(400, description=f"status {status[:40]!r} is not one of {', '.join(TRIAGE_STATUSES)}")
    return status, note, author


@views.post("/regressions/<id:regression_id>/triage")
def triage(regression_id: int) -> Response:
    if not signed_in():
        abort(403, description="sign in with a write token (top right) to triage regressions")
    status, note, author = _triage_fields()
    try:
        set_status(store(), regression_id, status, note, author)
    except TriageError as error:
        abort(404, description=str(error))
    session["author"] = author
    flash(f"regression {regression_id} is now {status}")
    return redirect(local_target(request.form.get("back"), url_for("views.regressions_page")))
