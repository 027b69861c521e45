"""What every page needs: the filter bar's choices and the filters from the query string."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy.orm import Session

from perfci.store import reads


def filter_context(session: Session) -> dict[str, Any]:
    filters = reads.Filters.from_args(request.args)
    return {
        "filters": filters,
        "environments": reads.environments(session),
        "branches": reads.branches(session),
        "ops": ["paged_prefill", "paged_decode"],
        "dtypes": ["bf16", "fp16", "int8kv"],
    }


GROUPINGS = ("commit", "range")


def group_findings(rows: list[dict[str, Any]], by: str = "commit") -> list[dict[str, Any]]:
    """Findings as groups, each one decision with one triage action, in the list's order (a group
    sits where its first row did). ``commit``: one revision's findings. ``range``: findings whose
    commit ranges (baseline, commit] overlap, as Chromium's perf dashboard groups alerts of
    overlapping revision ranges: series measured at different commits (nightly runs, a step whose
    place is uncertain) that moved in one stretch of history are one group."""
    position = {id(row): index for index, row in enumerate(rows)}
    clusters: list[list[dict[str, Any]]] = []
    if by == "range":
        end = ""
        for row in sorted(rows, key=lambda r: (r["baseline_authored_at"] or r["authored_at"], r["authored_at"])):
            start = row["baseline_authored_at"] or row["authored_at"]
            if clusters and (start < end or row["authored_at"] == end):
                clusters[-1].append(row)
                end = max(end, row["authored_at"])
            else:
                clusters.append([row])
                end = row["authored_at"]
    else:
        by_commit: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_commit.setdefault(row["commit"], []).append(row)
        clusters = list(by_commit.values())
    groups = []
    for members in clusters:
        members.sort(key=lambda r: position[id(r)])
        newest = max(members, key=lambda r: r["authored_at"])
        bases = [r for r in members if r["baseline_authored_at"]]
        oldest = min(bases, key=lambda r: r["baseline_authored_at"]) if bases else None
        commits = {r["commit"] for r in members}
        groups.append(
            {
                "commit": newest["commit"],
                "message": newest["message"],
                "branch": newest["branch"],
                "first": oldest["baseline_commit"] if oldest and by == "range" else None,
                "commits": len(commits),
                "anchor": f"{by}-{newest['commit']}",
                "rows": members,
            }
        )
    groups.sort(key=lambda g: position[id(g["rows"][0])])
    return groups
