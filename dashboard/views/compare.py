"""/compare?base=REF&head=REF — two commits (sha prefixes) or runs (ids) side by side, each shared case
judged from the stored samples (Mann-Whitney + bootstrap ratio of medians, 2% threshold)."""

from __future__ import annotations

from flask import render_template, request

from dashboard.store_access import reading
from dashboard.views import views
from perfci.store import reads


@views.get("/compare")
def compare_page() -> tuple[str, int] | str:
    base, head = (request.args.get("base") or "").strip(), (request.args.get("head") or "").strip()
    result, problem = None, None
    with reading() as session:
        recent, _ = reads.runs(session, 1, 30)
        if base and head:
            unknown = [
                name for name, ref in (("base", base), ("head", head)) if not reads.is_known_ref(session, ref[:64])
            ]
            if unknown:
                problem = (
                    f"{' and '.join(unknown)}: neither a stored run id nor a unique commit prefix (7+ hex "
                    "characters); pick one from the list"
                )
            else:
                result = reads.compare(session, base[:64], head[:64])
    html = render_template("compare.html", base=base, head=head, result=result, problem=problem, recent=recent)
    return (html, 404) if problem else html
