"""Findings grouped by commit and by overlapping commit range (pure: rows in, groups out)."""

from __future__ import annotations

from dashboard.views.common import group_findings


def _row(identity: int, commit: str, at: str, baseline: str | None, baseline_at: str | None) -> dict:
    return {
        "id": identity,
        "commit": commit,
        "authored_at": at,
        "baseline_commit": baseline,
        "baseline_authored_at": baseline_at,
        "message": f"message of {commit}",
        "branch": "main",
    }


# A nightly series judged c5 against c1 (range c1..c5]; a per-push series found c3 against c2 and
# c4 against c3 (inside that range); c9 against c8 is a later, separate stretch.
ROWS = [
    _row(1, "c9", "09", "c8", "08"),
    _row(2, "c3", "03", "c2", "02"),
    _row(3, "c5", "05", "c1", "01"),
    _row(4, "c4", "04", "c3", "03"),
    _row(5, "c3", "03", "c2", "02"),
]


def test_by_commit_one_group_per_commit_in_the_lists_order():
    groups = group_findings(ROWS, "commit")
    assert [g["commit"] for g in groups] == ["c9", "c3", "c5", "c4"]
    assert [r["id"] for r in groups[1]["rows"]] == [2, 5]
    assert groups[1]["anchor"] == "commit-c3" and groups[1]["first"] is None


def test_by_range_overlapping_ranges_are_one_group():
    groups = group_findings(ROWS, "range")
    assert [[r["id"] for r in g["rows"]] for g in groups] == [[1], [2, 3, 4, 5]]
    stretch = groups[1]
    assert stretch["first"] == "c1" and stretch["commit"] == "c5"  # c1..c5, named by its newest commit
    assert stretch["commits"] == 3 and stretch["anchor"] == "range-c5"


def test_adjacent_ranges_stay_apart_and_a_first_result_has_no_range():
    rows = [_row(1, "c2", "02", "c1", "01"), _row(2, "c3", "03", "c2", "02"), _row(3, "c0", "00", None, None)]
    assert [[r["id"] for r in g["rows"]] for g in group_findings(rows, "range")] == [[1], [2], [3]]
