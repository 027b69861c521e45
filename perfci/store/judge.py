"""Detection at ingest: judge a stored run's results against their series and record findings.

Reads history through the ORM, hands per-process values to ``perfci.analysis`` (``levels`` walks
the history result by result, ``changepoints`` finds sustained steps) and writes ``regressions``
rows and each result's ``judgement``. Kinds (``perfci.findings``): ``latency`` (slower, with
process-level evidence), ``improvement`` (faster, likewise; never gating), ``suspected`` (a change
beyond the series' noise without that evidence: one process, or Triton's interpreter; shown, never
gating, until ``perfci run`` confirms it by re-measuring), ``correctness`` (incorrect, failed or timed
out now), ``missing`` (a case of the previous like run stopped reporting). Baseline of a push: the
series' previous result on the same branch in commit order; of a run that names one (a PR's
merge-base, a pinned tag, commit or run): that commit's result, with the history before it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from perfci.analysis.changepoints import detect_steps
from perfci.analysis.levels import Judgement, judge_history, refutes
from perfci.analysis.noise import ThresholdPolicy
from perfci.document import OFF_HISTORY_TRIGGERS
from perfci.findings import Finding, Unjudged, autotune_note, worst_first
from perfci.store import models
from perfci.store.engine import Store, dialect_insert, retry_transient

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
    process_values: list[float] | None
    sha: str
    branch: str | None

    @property
    def values(self) -> list[float]:
        """One value per process (a result stored before per-process values is one process)."""
        return self.process_values or ([self.median] if self.median else [])


POINT_COLUMNS = (
    models.Result.id,
    models.Result.series_id,
    models.Result.commit_id,
    models.Result.authored_at,
    models.Result.status,
    models.Result.median,
    models.Result.process_values,
    models.Commit.sha,
    models.Commit.branch,
)


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
            models.Run.trigger.not_in(OFF_HISTORY_TRIGGERS),
            models.Result.timing_mode == bindparam("mode"),
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
    .where(
        models.Regression.series_id == bindparam("series_id"),
        models.Regression.status == "expected",
        models.Commit.authored_at <= bindparam("at"),
    )
    .order_by(models.Commit.authored_at.desc())
    .limit(1)
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _previous_results(session: Session, anchor: Point, limit: int, mode: str) -> list[Point]:
    """The series' results before ``anchor`` in commit order, newest first, from the anchor's branch
    and timed in ``mode`` (results of PR runs never enter a history); history starts at the latest
    commit triaged ``expected`` (an accepted change is the new baseline)."""
    accepted = session.scalar(ACCEPTED, {"series_id": anchor.series_id, "at": anchor.authored_at})
    params = {
        "series_id": anchor.series_id,
        "anchor_id": anchor.id,
        "at": anchor.authored_at,
        "since": accepted or EPOCH,
        "commit_id": anchor.commit_id,
        "limit": limit,
        "branch": anchor.branch,
        "mode": mode,
    }
    return [Point(*row) for row in session.execute(HISTORY[anchor.branch is not None], params)]


def _baseline_result(session: Session, result: models.Result, baseline: dict[str, Any]) -> Point | None:
    """The series' result at a pinned baseline (a commit or a run): the latest complete one."""
    query = (
        _point_query()
        .join(models.Run, models.Run.id == models.Result.run_id)
        .where(
            models.Result.series_id == result.series_id,
            models.Run.status == "complete",
            models.Result.timing_mode == result.timing_mode,
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
    mode = result.timing_mode
    if baseline is None:
        return _previous_results(session, head, HISTORY_WINDOW, mode)
    anchor = _baseline_result(session, result, baseline)
    if anchor is None:
        return []
    return [anchor, *_previous_results(session, anchor, HISTORY_WINDOW - 1, mode)]


def _record(session: Session, series_id: int, commit_id: int, baseline_id: int | None, finding: Finding) -> bool:
    """Insert unless (series, commit, kind) is already recorded, or a suspicion where a confirmed
    change is (the history re-finding a step that was confirmed in process pairs); True when new."""
    if finding.kind == "suspected" and session.scalar(
        select(models.Regression.id)
        .where(
            models.Regression.series_id == series_id,
            models.Regression.commit_id == commit_id,
            models.Regression.kind.in_(("latency", "improvement")),
        )
        .limit(1)
    ):
        return False
    insert = dialect_insert(session, models.Regression)
    now = models.utcnow()
    stored = session.execute(
        insert.values(
            series_id=series_id,
            commit_id=commit_id,
            baseline_commit_id=baseline_id,
            kind=finding.kind,
            change=finding.change,
            verdict=finding.verdict,
            status="open",
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(models.Regression.id)
    ).scalar_one_or_none()
    return stored is not None


@dataclass(frozen=True)
class RunJudgement:
    findings: list[Finding]
    not_judged: list[Unjudged]


def _autotune_choices(result: models.Result | None) -> list[dict[str, Any]]:
    """Per process, the config each autotuned kernel chose (as the worker recorded it)."""
    extra = (result.extra if result is not None else None) or {}
    if extra.get("processes"):
        return [p.get("autotune") or {} for p in extra["processes"]]
    return [extra.get("result", {}).get("autotune") or {}]


def _re_measured(session: Session, series_id: int, points: list[Point]) -> tuple[set[int], set[int]]:
    """The indices of ``points`` whose suspected slowdown re-measuring refuted (``refutes``: still
    suspected, or an improvement the pairs proved instead; the suspicion's change is its verdict's),
    and of those whose change was proved (``latency`` or ``improvement``, not refuted)."""
    index = {p.commit_id: i for i, p in enumerate(points)}
    rows = session.execute(
        select(models.Regression.commit_id, models.Regression.kind, models.Regression.verdict).where(
            models.Regression.series_id == series_id,
            models.Regression.kind.in_(("suspected", "latency", "improvement")),
            models.Regression.commit_id.in_(list(index)),
        )
    ).all()
    refuted = {
        index[row.commit_id]
        for row in rows
        if row.kind != "latency" and refutes((row.verdict or {}).get("change"), (row.verdict or {}).get("confirmation"))
    }
    proved = {index[row.commit_id] for row in rows if row.kind != "suspected"} - refuted
    return refuted, proved


def _latency_kind(judgement_kind: str, gates: bool) -> str:
    if judgement_kind == "suspected" or not gates:
        return "suspected"
    return "latency" if judgement_kind == "regression" else "improvement"


def _judge_result(
    session: Session,
    result: models.Result,
    sha: str,
    branch: str | None,
    policy: ThresholdPolicy,
    baseline: dict[str, Any] | None,
    interpreter: bool,
) -> tuple[list[tuple[Finding, int, int | None]], dict[str, Any]]:
    """Findings for one result: (finding, commit id, baseline commit id), and the result's judgement."""
    head = Point(
        result.id,
        result.series_id,
        result.commit_id,
        result.authored_at,
        result.status,
        result.median,
        result.process_values,
        sha,
        branch,
    )
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
            found.append(
                (
                    Finding(result.case.key, "correctness", sha, base_sha, None, verdict),
                    result.commit_id,
                    previous.commit_id if previous else None,
                )
            )
        return found, {"kind": "not_judged", "reason": f"status {result.status}"}
    if result.status != "ok":
        return found, {"kind": "not_judged", "reason": f"status {result.status}"}
    if previous is None:
        reason = "baseline missing" if baseline else "no earlier result"
        return found, {"kind": "not_judged", "reason": reason}
    measured = [r for r in reversed(history) if r.status == "ok" and r.values]
    points = [*measured, head]
    refuted, proved = _re_measured(session, head.series_id, measured)
    judgements = judge_history([p.values for p in points], policy, refuted, proved)
    judgement = judgements[-1]
    gates = policy.gate_interpreter or not interpreter
    recorded = judgement.as_dict()
    if not gates:
        recorded["reason"] += "; interpreter timing: reported, never gating"
    if judgement.is_change:
        against = points[judgement.baseline_index if judgement.baseline_index is not None else -2]
        kind = _latency_kind(judgement.kind, gates)
        details = {**recorded, "detector": "level", "process_values": len(head.values)}
        if judgement.earlier_index is not None:  # what the baseline is re-measured against if it moved
            details["earlier_commit"] = points[judgement.earlier_index].sha
        baseline_row = session.get(models.Result, against.id)
        if note := autotune_note([*_autotune_choices(baseline_row), *_autotune_choices(result)]):
            details["autotune"] = note
        found.append(
            (
                Finding(result.case.key, kind, sha, against.sha, judgement.change, details),
                result.commit_id,
                against.commit_id,
            )
        )
    if baseline is None:  # steps belong to a branch's own history
        found += _steps(result.case.key, points, judgement, policy, gates)
    return found, recorded


def _steps(
    case: str, points: list[Point], judgement: Judgement, policy: ThresholdPolicy, gates: bool
) -> list[tuple[Finding, int, int | None]]:
    """Sustained steps anywhere in the recent history, at the first commit of their new segment."""
    if judgement.threshold is None or not judgement.sigma:
        return []
    # sigma for the penalty: never below threshold / k, so sub-threshold wiggles don't fragment a creep
    sigma = max(judgement.sigma, judgement.threshold / policy.k)
    found = []
    for step in detect_steps(
        [p.values for p in points],
        sigma,
        min_change=judgement.threshold,
        alpha=policy.alpha,
        min_segment=policy.min_segment,
    ):
        at, before = points[step.index], points[step.index - 1]
        direction = "regression" if step.change > 0 else "improvement"
        # a step whose commit is uncertain never gates on a commit by itself: the pairs of a
        # confirmation (that commit against its parent) decide where it is
        certain = step.confirmed and step.first == step.last
        kind = _latency_kind(direction if certain else "suspected", gates)
        details = {
            "detector": "pelt",
            "change": step.change,
            "before": step.before,
            "after": step.after,
            "p_value": step.p_value,
            "threshold": judgement.threshold,
            "sigma": judgement.sigma,
            "reason": "segments' processes differ"
            if certain
            else "segments' processes differ; which commit is uncertain: confirm in process pairs"
            if step.confirmed
            else f"segments' processes do not differ at p < {policy.alpha}: more results or processes needed",
        }
        if step.first != step.last:
            details["commit_range"] = [points[step.first].sha, points[step.last].sha]
        found.append((Finding(case, kind, at.sha, before.sha, step.change, details), at.commit_id, before.commit_id))
    return found


#: Runs that measure on purpose only some cases or for another purpose: never a source or a victim of "missing".
PARTIAL_TRIGGERS = ("bisect", "calibration", "confirmation")


def _missing(session: Session, run: models.Run, baseline: dict[str, Any] | None) -> list[tuple[Finding, int, int]]:
    """Cases of the baseline run absent from this one, for like runs only: the same suite, the whole
    of it (no case selection), neither a bisect, calibration nor confirmation run. The baseline run is
    the previous like run on the branch, or the latest like run at the pinned baseline."""
    if run.suite is None or run.selection or run.trigger in PARTIAL_TRIGGERS:
        return []
    query = (
        select(models.Run)
        .join(models.Commit, models.Commit.id == models.Run.commit_id)
        .where(
            models.Run.repository_id == run.repository_id,
            models.Run.environment_id == run.environment_id,
            models.Run.id != run.id,
            models.Run.status == "complete",
            models.Run.trigger.not_in(("pr", *PARTIAL_TRIGGERS)),
            models.Run.suite == run.suite,
            models.Run.selection.is_(None),
        )
        .order_by(models.Commit.authored_at.desc(), models.Run.id.desc())
        .limit(1)
    )
    if baseline is None:
        query = query.where(models.Commit.authored_at < run.commit.authored_at)
    elif "run" in baseline:
        query = query.where(models.Run.uuid == uuid.UUID(baseline["run"]))
    else:
        query = query.where(models.Commit.sha == baseline["commit"])
    previous = session.scalars(query).first()
    if previous is None:
        return []
    here = aliased(models.Result)
    gone = session.execute(
        select(models.Case.key, models.Result.series_id)
        .join(models.Case, models.Case.id == models.Result.case_id)
        .where(
            models.Result.run_id == previous.id,
            ~select(here.id).where(here.run_id == run.id, here.case_id == models.Result.case_id).exists(),
        )
    ).all()
    verdict = {"last_seen_commit": previous.commit.sha, "suite": run.suite}
    return [
        (Finding(key, "missing", run.commit.sha, previous.commit.sha, None, verdict), series_id, previous.commit_id)
        for key, series_id in gone
    ]


def _supersede(session: Session, series_id: int, commit_id: int) -> None:
    """A confirmed change replaces the suspicion recorded at the same (series, commit)."""
    session.execute(
        delete(models.Regression).where(
            models.Regression.series_id == series_id,
            models.Regression.commit_id == commit_id,
            models.Regression.kind == "suspected",
        )
    )


def judge_stored_run(session: Session, run_uuid: uuid.UUID, policy: ThresholdPolicy | None = None) -> RunJudgement:
    """Judge every result of a stored run inside the caller's transaction (the one that stored it,
    so a run is never stored unjudged); record new findings and each result's judgement; return
    every finding (worst first) and the cases whose latency did not gate, with why.

    A PR run's findings are returned (for its gate and comment) but not recorded: they belong to an
    unmerged change, not to the branch's history.
    """
    policy = policy or ThresholdPolicy()
    findings: list[Finding] = []
    not_judged: list[Unjudged] = []
    run = session.scalars(select(models.Run).where(models.Run.uuid == run_uuid)).one()
    baseline = (
        {"run": str(run.baseline_run)}
        if run.baseline_run
        else {"commit": run.baseline_commit}
        if run.baseline_commit
        else None
    )
    record = run.trigger != "pr"
    interpreter = run.environment.device_kind == "interpreter"
    results = session.scalars(
        select(models.Result).options(joinedload(models.Result.case)).where(models.Result.run_id == run.id)
    ).all()
    for result in results:
        found, judgement = _judge_result(
            session, result, run.commit.sha, run.commit.branch, policy, baseline, interpreter
        )
        result.judgement = judgement
        if (
            judgement["kind"] in ("not_judged", "suspected")
            or judgement.get("too_noisy")
            or (interpreter and not policy.gate_interpreter and judgement["kind"] != "same")
        ):
            not_judged.append(Unjudged(result.case.key, judgement["reason"]))
        for finding, commit_id, baseline_id in found:
            new = _record(session, result.series_id, commit_id, baseline_id, finding) if record else True
            if new and record and finding.kind in ("latency", "improvement"):
                _supersede(session, result.series_id, commit_id)
            if new or finding.verdict.get("detector") != "pelt":  # old steps are not news
                findings.append(finding)
    for finding, series_id, baseline_id in _missing(session, run, baseline):
        if record:
            _record(session, series_id, run.commit_id, baseline_id, finding)
        findings.append(finding)
    return RunJudgement(worst_first(findings), not_judged)


def judge_run(store: Store, run_uuid: uuid.UUID, policy: ThresholdPolicy | None = None) -> RunJudgement:
    """Judge a stored run in a transaction of its own (re-judging; the pipeline judges as it stores)."""

    def attempt() -> RunJudgement:
        with store.write() as session:
            return judge_stored_run(session, run_uuid, policy)

    return retry_transient(attempt)


def _located(session: Session, run_uuid: uuid.UUID, finding: Finding) -> tuple[int, dict[str, int]]:
    """(the series of the finding's case in this run, the ids of its commit and baseline commit)."""
    run = session.scalars(select(models.Run).where(models.Run.uuid == run_uuid)).one()
    series_id = session.execute(
        select(models.Result.series_id)
        .join(models.Case, models.Case.id == models.Result.case_id)
        .where(models.Result.run_id == run.id, models.Case.key == finding.case)
    ).scalar_one()
    commits = dict(
        session.execute(
            select(models.Commit.sha, models.Commit.id).where(
                models.Commit.repository_id == run.repository_id,
                models.Commit.sha.in_([finding.commit, finding.baseline_commit or ""]),
            )
        ).all()
    )
    return series_id, commits


def _update_verdict(session: Session, series_id: int, commit_id: int, finding: Finding) -> None:
    """The stored finding of that kind at (series, commit) takes ``finding``'s verdict."""
    row = session.scalars(
        select(models.Regression).where(
            models.Regression.series_id == series_id,
            models.Regression.commit_id == commit_id,
            models.Regression.kind == finding.kind,
        )
    ).first()
    if row is not None:
        row.verdict = finding.verdict
        row.updated_at = models.utcnow()


def record_confirmation(store: Store, run_uuid: uuid.UUID, finding: Finding) -> None:
    """Store what re-measuring a suspected regression of a stored run said: a change the pairs
    proved is recorded as ``latency`` (or ``improvement``, when they proved the commit faster),
    replacing the suspicion at that series and commit; otherwise the suspicion keeps the
    re-measurement as its evidence."""

    def attempt() -> None:
        with store.write() as session:
            series_id, commits = _located(session, run_uuid, finding)
            commit_id = commits[finding.commit]
            if finding.kind in ("latency", "improvement"):
                _record(session, series_id, commit_id, commits.get(finding.baseline_commit or ""), finding)
                _supersede(session, series_id, commit_id)
                return
            _update_verdict(session, series_id, commit_id, finding)

    retry_transient(attempt)


def record_bisect(store: Store, run_uuid: uuid.UUID, finding: Finding) -> None:
    """Store the search of the commits behind a gating regression of a stored run (in
    ``finding.verdict["bisect"]``) with that regression."""

    def attempt() -> None:
        with store.write() as session:
            series_id, commits = _located(session, run_uuid, finding)
            _update_verdict(session, series_id, commits[finding.commit], finding)

    retry_transient(attempt)
