"""/commit/<sha> — every result of a commit against its baseline, sorted by change, with verdicts,
correctness and roofline fraction, each linked to its series."""

from __future__ import annotations

from flask import abort, render_template

from dashboard.store_access import reading
from dashboard.views import views
from perfci.store import reads


@views.get("/commit/<ref>")
def commit_page(ref: str) -> str:
    with reading() as session:
        commit = reads.find_commit(session, ref)
        if commit is None:
            abort(404, description=f"no stored commit matches {ref[:60]!r}; give a full sha or a unique 7+ hex prefix")
        info = reads.commit_info(commit)
        results = reads.commit_results(session, commit)
        runs, _ = reads.runs(session, 1, 50, commit=commit)
    return render_template("commit.html", commit=info, results=results, runs=runs)
