"""Recorded regressions with their triage, out to export documents and back in on import.

A store's findings are its judgement at the time (a confirmed latency came from re-measuring, which
an import cannot repeat), and their triage is people's work: ``perfci export`` writes them on one
run document per (repository, environment, commit), and ``perfci import`` makes the findings at that
commit exactly those, with status, note, author and history.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, aliased

from perfci.document import RecordedRegression, ResultsDocument
from perfci.fingerprint import environment_fingerprint
from perfci.store import models
from perfci.store.engine import Store, retry_transient

#: (repository id, environment id, commit id): where a run's recorded findings live
Place = tuple[int, int, int]


def _iso(value: Any) -> str:
    return value.isoformat() + ("+00:00" if value.tzinfo is None else "")


def recorded_by_place(session: Session) -> dict[Place, list[dict[str, Any]]]:
    """Every recorded regression as an export entry, by place."""
    baseline = aliased(models.Commit)
    rows = session.execute(
        select(models.Regression, models.Series, models.Case.key, baseline.sha)
        .join(models.Series, models.Series.id == models.Regression.series_id)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .outerjoin(baseline, baseline.id == models.Regression.baseline_commit_id)
        .order_by(models.Regression.id)
    ).all()
    events: dict[int, list[dict[str, Any]]] = {}
    for event in session.scalars(select(models.TriageEvent).order_by(models.TriageEvent.at, models.TriageEvent.id)):
        events.setdefault(event.regression_id, []).append(
            {"status": event.status, "note": event.note, "author": event.author, "at": _iso(event.at)}
        )
    out: dict[Place, list[dict[str, Any]]] = {}
    for regression, series, case_key, baseline_sha in rows:
        entry = {
            "case": case_key,
            "kind": regression.kind,
            "baseline_commit": baseline_sha,
            "change": regression.change,
            "verdict": regression.verdict or {},
            "status": regression.status,
            "note": regression.note,
            "author": regression.author,
            "created_at": _iso(regression.created_at),
            "updated_at": _iso(regression.updated_at),
            "history": events.get(regression.id, []),
        }
        place = (series.repository_id, series.environment_id, regression.commit_id)
        out.setdefault(place, []).append({k: v for k, v in entry.items() if v is not None})
    return out


def _utc(value: Any) -> Any:
    return value.astimezone(UTC)


def restore(store: Store, document: ResultsDocument) -> int:
    """Make the findings at the document's (repository, environment, commit) exactly the ones it
    carries, with their triage; returns how many it restored (none when it carries none)."""
    if document.regressions is None:
        return 0
    entries: list[RecordedRegression] = document.regressions
    run = document.run

    def attempt() -> int:
        with store.write() as session:
            repository_id = session.scalar(select(models.Repository.id).where(models.Repository.name == run.repo))
            environment_id = session.scalar(
                select(models.Environment.id).where(
                    models.Environment.fingerprint == environment_fingerprint(run.environment)
                )
            )
            commits = dict(
                session.execute(
                    select(models.Commit.sha, models.Commit.id).where(
                        models.Commit.repository_id == repository_id,
                        models.Commit.sha.in_(
                            [run.commit.sha, *(e.baseline_commit for e in entries if e.baseline_commit)]
                        ),
                    )
                ).all()
            )
            series = dict(
                session.execute(
                    select(models.Case.key, models.Series.id)
                    .join(models.Case, models.Case.id == models.Series.case_id)
                    .where(models.Series.repository_id == repository_id, models.Series.environment_id == environment_id)
                ).all()
            )
            commit_id = commits[run.commit.sha]
            here = list(series.values())
            session.execute(
                delete(models.Regression).where(
                    models.Regression.commit_id == commit_id, models.Regression.series_id.in_(here)
                )
            )
            restored = 0
            for entry in entries:
                if entry.case not in series:  # a case this store never measured here: nothing to attach it to
                    continue
                row = models.Regression(
                    series_id=series[entry.case],
                    commit_id=commit_id,
                    baseline_commit_id=commits.get(entry.baseline_commit or ""),
                    kind=entry.kind,
                    change=entry.change,
                    verdict=entry.verdict,
                    status=entry.status,
                    note=entry.note,
                    author=entry.author,
                    created_at=_utc(entry.created_at),
                    updated_at=_utc(entry.updated_at),
                )
                session.add(row)
                session.flush()
                session.add_all(
                    models.TriageEvent(
                        regression_id=row.id,
                        status=change.status,
                        note=change.note,
                        author=change.author,
                        at=_utc(change.at),
                    )
                    for change in entry.history
                )
                restored += 1
            return restored

    return retry_transient(attempt)
