"""Detection at ingest: judge a stored run's results against their series and record regressions.

Reads history through the ORM, hands plain arrays to ``perfci.analysis`` (verdict, noise,
change points) and writes ``regressions`` rows. Kinds: ``latency`` (slower beyond the series
threshold), ``improvement`` (faster beyond it; reported, never gating), ``correctness`` (incorrect,
failed or timed out now), ``missing`` (a case of the previous run of the same suite stopped
reporting). Baseline of a push: the series' previous result on the same branch in commit order; of
a run that names one (a PR's merge-base, a pinned tag, commit or run): that commit's result, with
the history before it for the series' noise. Steps found by the
change-point pass anywhere in the recent history are recorded at their first commit, which catches
creeps that no single commit-to-commit verdict crosses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from perfci.analysis.changepoints import detect_steps
from perfci.analysis.noise import ThresholdPolicy, series_threshold
from perfci.analysis.verdict import judge
from perfci.findings import Finding, worst_first
from perfci.store import models
from perfci.store.engine import Store, retry_transient
from perfci.store.ingest import unpack_samples
from perfci.store.queries import timing_mode, timing_mode_column

HISTORY_WINDOW = 60


@dataclass(frozen=True)
class Point:
    """What the judge needs of one result: a light row (no JSON columns decoded, no lazy loads)."""

    id: int
    series_id: int
    commit_id: int
    authored_at: datetime
    status: str
    median: float | None
    sha: str
    branch: str | None


POINT_COLUMNS = (models.Result.id, models.Result.series_id, models.Result.commit_id, models.Result.authored_at,
                 models.Result.status, models.Result.median, models.Commit.sha, models.Commit.branch)  # fmt: skip


def _point_query() -> Select[Any]:
    return select(*POINT_COLUMNS).join(models.Commit, models.Commit.id == models.Result.commit_id)


def _history_statement(same_branch: bool) -> Select[Any]:
    """Built once with bind parameters: constructing the query per result cost more than running it."""
    query = (
        _point_query()
        .join(models.Run, models.Run.id == models.Result.run_id)
        .where(
            models.Result.series_id == bindparam("series_id"),
            models.Result.id != bindparam("anchor_id"),
            models.Result.authored_at <= bindparam("at"),
            models.Result.authored_at >= bindparam("since"),
            models.Result.commit_id != bindparam("commit_id"),
            models.Run.trigger != "pr",
            timing_mode_column == bindparam("mode"),
        )
        .order_by(models.Result.authored_at.desc(), models.Result.id.desc())
        .limit(bindparam("limit"))
    )
    if same_branch:
        query = query.where(or_(models.Commit.branch == bindparam("branch"), models.Commit.branch.is_(None)))
    return query


HISTORY = {True: _history_statement(True), False: _history_statement(False)}
ACCEPTED = (
    select(models.Commit.authored_at)
    .join(models.Regression, models.Regression.commit_id == models.Commit.id)
    .where(models.Regression.series_id == bindparam("series_id"), models.Regression.status == "expected",
           models.Commit.authored_at <= bindparam("at"))
    .order_by(models.Commit.authored_at.desc())
    .limit(1)
)  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _previous_results(session: Session, anchor: Point, limit: int, mode: str) -> list[Point]:
    """The series' results before ``anchor`` in commit order, newest first, from the anchor's branch
    and timed in ``mode`` (results of PR runs never enter a history); history starts at the latest
    commit triaged ``expected`` (an accepted change is the new baseline)."""
    accepted = session.scalar(ACCEPTED, {"series_id": anchor.series_id, "at": anchor.authored_at})
    params = {"series_id": anchor.series_id, "anchor_id": anchor.id, "at": anchor.authored_at,
              "since": accepted or EPOCH, "commit_id": anchor.commit_id, "limit": limit,
              "branch": anchor.branch, "mode": mode}  # fmt: skip
    return [Point(*row) for row in session.execute(HISTORY[anchor.branch is not None], params)]


def _baseline_result(session: Session, result: models.Result, baseline: dict[str, Any]) -> Point | None:
    """The series' result at a pinned baseline (a commit or a run): the latest complete one."""
    query = (
        _point_query()
        .join(models.Run, models.Run.id == models.Result.run_id)
        .where(
            models.Result.series_id == result.series_id,
            models.Run.status == "complete",
            timing_mode_column == timing_mode(result),
        )
        .order_by(models.Run.ingested_at.desc(), models.Result.id.desc())
        .limit(1)
    )
    if "run" in baseline:
        query = query.where(models.Run.uuid == uuid.UUID(baseline["run"]))
    else:
        query = query.where(models.Commit.sha == baseline["commit"])
    row = session.execute(query).first()
    return Point(*row) if row else None


def _history(session: Session, head: Point, baseline: dict[str, Any] | None, result: models.Result) -> list[Point]:
    """Newest first: the baseline result, then what came before it. Without a pinned baseline the
    baseline is the series' previous result on this branch."""
    mode = timing_mode(result)
    if baseline is None:
        return _previous_results(session, head, HISTORY_WINDOW, mode)
    anchor = _baseline_result(session, result, baseline)
    if anchor is None:
        return []
    return [anchor, *_previous_results(session, anchor, HISTORY_WINDOW - 1, mode)]


def _samples(session: Session, *result_ids: int) -> list[list[float]]:
    """The raw samples of each result, in the order asked (one query)."""
    rows = dict(session.execute(select(models.Samples.result_id, models.Samples.values)
                                .where(models.Samples.result_id.in_(result_ids))).all())  # fmt: skip
    return [unpack_samples(rows[i]) if i in rows else [] for i in result_ids]


def _record(session: Session, series_id: int, commit_id: int, baseline_id: int | None, finding: Finding) -> bool:
    """Insert unless (series, commit, kind) is already recorded; True when new."""
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(models.Regression)
    now = models.utcnow()
    stored = session.execute(
        insert.values(
            series_id=series_id, commit_id=commit_id, baseline_commit_id=baseline_id, kind=finding.kind,
            change=finding.change, verdict=finding.verdict, status="open", created_at=now, updated_at=now,
        ).on_conflict_do_nothing().returning(models.Regression.id)
    ).scalar_one_or_none()  # fmt: skip
    return stored is not None


def _judge_result(
    session: Session, result: models.Result, sha: str, branch: str | None, policy: ThresholdPolicy,
    baseline: dict[str, Any] | None,
) -> list[tuple[Finding, int, int | None]]:  # fmt: skip
    """Findings for one result: (finding, commit id, baseline commit id)."""
    head = Point(result.id, result.series_id, result.commit_id, result.authored_at, result.status, result.median, sha,
                 branch)  # fmt: skip
    history = _history(session, head, baseline, result)
    previous = history[0] if history else None
    found: list[tuple[Finding, int, int | None]] = []
    base_sha = previous.sha if previous else None
    if result.status in ("incorrect", "failed", "timeout"):
        if previous is None or previous.status == "ok":
            verdict = {
                "status": result.status,
                "error": (result.error or "")[:500],
                "rel_err": result.rel_err,
                "tolerance": result.tolerance,
                "baseline_status": previous.status if previous else None,
            }
            found.append((Finding(result.case.key, "correctness", sha, base_sha, None, verdict), result.commit_id,
                          previous.commit_id if previous else None))  # fmt: skip
        return found
    if result.status != "ok" or previous is None or previous.status != "ok":
        return found
    measured = [r for r in reversed(history) if r.status == "ok" and r.median]
    if len(measured) < policy.min_history:
        return found  # the series' noise is not known yet: no latency verdict rather than a guess
    medians = [r.median for r in measured] + [result.median]
    threshold, noise = series_threshold([r.median for r in measured], policy)
    verdict = judge(*_samples(session, previous.id, result.id), threshold=threshold)
    if verdict.kind in ("regression", "improvement"):
        kind = "latency" if verdict.kind == "regression" else "improvement"
        details = {**verdict.as_dict(), "detector": "verdict", "noise": noise}
        found.append((Finding(result.case.key, kind, sha, base_sha, verdict.change, details), result.commit_id,
                      previous.commit_id))  # fmt: skip
    if noise and len(medians) >= 8 and baseline is None:  # steps belong to a branch's own history
        points = [*measured, head]
        # sigma for the penalty: never below threshold / k, so sub-threshold wiggles don't fragment a creep
        sigma = max(noise, threshold / policy.k)
        for step in detect_steps(medians, sigma, min_change=threshold):
            if step.index > len(medians) - 3:
                # a step with fewer than 3 points after it is not placed reliably yet (one new point gets
                # averaged with an old one, one commit early); the per-commit verdict covers the newest commits
                continue
            at, before = points[step.index], points[step.index - 1]
            kind = "latency" if step.change > 0 else "improvement"
            details = {"detector": "pelt", "change": step.change, "before": step.before, "after": step.after,
                       "threshold": threshold, "noise": noise}  # fmt: skip
            found.append((Finding(result.case.key, kind, at.sha, before.sha, step.change, details), at.commit_id,
                          before.commit_id))  # fmt: skip
    return found


def _missing(session: Session, run: models.Run, baseline: dict[str, Any] | None) -> list[tuple[Finding, int, int]]:
    """Cases of the baseline run of the same suite (repo, environment) absent from this one: the
    previous run on the branch, or the latest run at the pinned baseline."""
    suite = (run.extra or {}).get("run", {}).get("suite")
    if suite is None:
        return []
    query = (
        select(models.Run)
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .where(
            models.Run.repository_id == run.repository_id,
            models.Run.environment_id == run.environment_id,
            models.Run.id != run.id,
            models.Run.status == "complete",
            models.Run.trigger != "pr",
        )
        .order_by(models.Commit.authored_at.desc(), models.Run.id.desc())
    )
    if baseline is None:
        query = query.where(models.Commit.authored_at < run.commit.authored_at)
    elif "run" in baseline:
        query = query.where(models.Run.uuid == uuid.UUID(baseline["run"]))
    else:
        query = query.where(models.Commit.sha == baseline["commit"])
    earlier = session.scalars(query)
    previous = next((r for r in earlier if (r.extra or {}).get("run", {}).get("suite") == suite), None)
    if previous is None:
        return []
    now = {key for (key,) in session.execute(select(models.Case.key).join(models.Result).where(
        models.Result.run_id == run.id))}  # fmt: skip
    rows = session.execute(
        select(models.Case.key, models.Result.series_id).join(models.Result).where(models.Result.run_id == previous.id)
    ).all()
    found = []
    for key, series_id in rows:
        if key not in now:
            verdict = {"last_seen_commit": previous.commit.sha, "suite": suite}
            finding = Finding(key, "missing", run.commit.sha, previous.commit.sha, None, verdict)
            found.append((finding, series_id, previous.commit_id))
    return found


def judge_run(store: Store, run_uuid: uuid.UUID, policy: ThresholdPolicy | None = None) -> list[Finding]:
    """Judge every result of a stored run; record new regressions; return every finding, worst first.

    A PR run's findings are returned (for its gate and comment) but not recorded: they belong to an
    unmerged change, not to the branch's history.
    """
    policy = policy or ThresholdPolicy()

    def attempt() -> list[Finding]:
        findings: list[Finding] = []
        with store.write() as session:
            run = session.scalars(select(models.Run).where(models.Run.uuid == run_uuid)).one()
            baseline = (run.extra or {}).get("run", {}).get("baseline")
            record = run.trigger != "pr"
            results = session.scalars(
                select(models.Result).options(joinedload(models.Result.case)).where(models.Result.run_id == run.id)
            ).all()
            for result in results:
                for finding, commit_id, baseline_id in _judge_result(session, result, run.commit.sha, run.commit.branch,
                                                                     policy, baseline):  # fmt: skip
                    new = _record(session, result.series_id, commit_id, baseline_id, finding) if record else True
                    if new or finding.verdict.get("detector") != "pelt":  # old steps are not news
                        findings.append(finding)
            for finding, series_id, baseline_id in _missing(session, run, baseline):
                if record:
                    _record(session, series_id, run.commit_id, baseline_id, finding)
                findings.append(finding)
        return worst_first(findings)

    return retry_transient(attempt)
