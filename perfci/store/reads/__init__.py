"""Read models of the dashboard's pages and JSON API: plain dicts from a few indexed queries each,
one module per resource. The web app parses arguments and renders; every query it runs is here.

Nothing here computes detection (verdicts and change points were stored at ingest) except the
compare view, which judges two stored sets of per-process values on request.
"""

from perfci.store.queries import Filters
from perfci.store.reads.commits import (
    commit_info,
    commit_results,
    commits,
    find_commit,
    find_run,
    finding_counts,
    result_ids_of_run,
    run_ids_of_commit,
    run_info,
    run_results,
    runs,
)
from perfci.store.reads.common import branches, environments
from perfci.store.reads.compare import compare, is_known_ref
from perfci.store.reads.overview import latest_runs
from perfci.store.reads.regressions import regressions, triage_history
from perfci.store.reads.roofline import roofline
from perfci.store.reads.series import series_info, series_list, series_markers, series_points

__all__ = [
    "Filters",
    "branches",
    "commit_info",
    "commit_results",
    "commits",
    "compare",
    "environments",
    "find_commit",
    "find_run",
    "finding_counts",
    "is_known_ref",
    "latest_runs",
    "regressions",
    "result_ids_of_run",
    "roofline",
    "run_ids_of_commit",
    "run_info",
    "run_results",
    "runs",
    "series_info",
    "series_list",
    "series_markers",
    "series_points",
    "triage_history",
]
