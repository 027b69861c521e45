"""Detection at ingest: judge a stored run's results against their series and record regressions.

Reads history through the ORM, hands plain arrays to ``perfci.analysis`` (verdict, noise,
change points) and writes ``regressions`` rows. Kinds: ``latency`` (slower beyond the series
threshold), ``improvement`` (faster beyond it; reported, never gating), ``correctness`` (incorrect,
failed or timed out now), ``missing`` (a case of the previous run of the same suite stopped
reporting). Baseline of a push: the series' previous result in commit order. Steps found by the
change-point pass anywhere in the recent history are recorded at their first commit, which catches
creeps that no single commit-to-commit verdict crosses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from perfci.analysis.changepoints import detect_steps
from perfci.analysis.noise import ThresholdPolicy, series_threshold
from perfci.analysis.verdict import judge
from perfci.store import models
from perfci.store.engine import Store, retry_transient
from perfci.store.ingest import unpack_samples

HISTORY_WINDOW = 60
GATING_KINDS = ("latency", "correctness", "missing")


@dataclass(frozen=True)
class Finding:
    case: str
    kind: str
    commit: str
    baseline_commit: str | None
    change: float | None
    verdict: dict[str, Any]


def _previous_results(session: Session, result: models.Result, limit: int) -> list[models.Result]:
    """The series' results before this one in commit order, newest first; history starts at the
    latest commit triaged ``expected`` (an accepted change is the new baseline)."""
    query = (
        select(models.Result)
        .where(
            models.Result.series_id == result.series_id,
            models.Result.id != result.id,
            models.Result.authored_at <= result.authored_at,
            models.Result.commit_id != result.commit_id,
        )
        .order_by(models.Result.authored_at.desc(), models.Result.id.desc())
        .limit(limit)
    )
    accepted = session.scalar(
        select(models.Commit.authored_at)
        .join(models.Regression, models.Regression.commit_id == models.Commit.id)
        .where(models.Regression.series_id == result.series_id, models.Regression.status == "expected",
               models.Commit.authored_at <= result.authored_at)
        .order_by(models.Commit.authored_at.desc())
        .limit(1)
    )  # fmt: skip
    if accepted is not None:
        query = query.where(models.Result.authored_at >= accepted)
    return list(session.scalars(query))


def _samples(session: Session, result_id: int) -> list[float]:
    blob = session.get(models.Samples, result_id)
    return unpack_samples(blob.values) if blob else []


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
    session: Session, result: models.Result, sha: str, policy: ThresholdPolicy
) -> list[tuple[Finding, int, int | None]]:
    """Findings for one result: (finding, commit id, baseline commit id)."""
    history = _previous_results(session, result, HISTORY_WINDOW)
    previous = history[0] if history else None
    found: list[tuple[Finding, int, int | None]] = []
    base_sha = previous.run.commit.sha if previous else None
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
    verdict = judge(_samples(session, previous.id), _samples(session, result.id), threshold=threshold)
    if verdict.kind in ("regression", "improvement"):
        kind = "latency" if verdict.kind == "regression" else "improvement"
        details = {**verdict.as_dict(), "detector": "verdict", "noise": noise}
        found.append((Finding(result.case.key, kind, sha, base_sha, verdict.change, details), result.commit_id,
                      previous.commit_id))  # fmt: skip
    if noise and len(medians) >= 8:
        points = [*measured, result]
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
            found.append((Finding(result.case.key, kind, at.run.commit.sha, before.run.commit.sha, step.change,
                                  details), at.commit_id, before.commit_id))  # fmt: skip
    return found


def _missing(session: Session, run: models.Run) -> list[tuple[Finding, int, int]]:
    """Cases of the previous run of the same suite (repo, environment) absent from this one."""
    suite = (run.extra or {}).get("run", {}).get("suite")
    if suite is None:
        return []
    earlier = session.scalars(
        select(models.Run)
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .where(
            models.Run.repository_id == run.repository_id,
            models.Run.environment_id == run.environment_id,
            models.Run.id != run.id,
            models.Run.status == "complete",
            models.Commit.authored_at < run.commit.authored_at,
        )
        .order_by(models.Commit.authored_at.desc(), models.Run.id.desc())
    )
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
    """Judge every result of a stored run; record new regressions; return every finding, worst first."""
    policy = policy or ThresholdPolicy()

    def attempt() -> list[Finding]:
        findings: list[Finding] = []
        with store.write() as session:
            run = session.scalars(select(models.Run).where(models.Run.uuid == run_uuid)).one()
            results = session.scalars(select(models.Result).where(models.Result.run_id == run.id)).all()
            for result in results:
                for finding, commit_id, baseline_id in _judge_result(session, result, run.commit.sha, policy):
                    new = _record(session, result.series_id, commit_id, baseline_id, finding)
                    if new or finding.verdict.get("detector") != "pelt":  # old steps are not news
                        findings.append(finding)
            for finding, series_id, baseline_id in _missing(session, run):
                _record(session, series_id, run.commit_id, baseline_id, finding)
                findings.append(finding)
        order = {"correctness": 0, "missing": 1, "latency": 2, "improvement": 3}
        return sorted(findings, key=lambda f: (order[f.kind], -abs(f.change or 0)))

    return retry_transient(attempt)
