"""A bisect's runs are stored with their processes but never enter a branch's history: not judged, no
alert, not a baseline, not a trend point, not a latest run, not "already stored" for a push run."""

from __future__ import annotations

from sqlalchemy import select

from perfci.config import PerfciConfig
from perfci.document import parse_document
from perfci.fingerprint import environment_fingerprint
from perfci.pipeline import process_document
from perfci.store import models
from perfci.store.migrate import open_store
from perfci.store.queries import Filters, stored_case_keys
from perfci.store.reads import latest_runs, series_points
from perfci.testing import make_document


def _document(commit: int, level: float, trigger: str = "push", branch: str | None = "main") -> dict:
    data = make_document(commit_index=commit, cases=1, samples=1, seed=commit)
    data["run"]["trigger"] = trigger
    data["run"]["commit"]["branch"] = branch
    groups = [[level * (1 + 0.001 * ((i + p) % 3)) for i in range(10)] for p in range(2)]
    data["results"][0]["samples"] = [x for group in groups for x in group]
    data["results"][0]["processes"] = [{"samples": group} for group in groups]
    return data


def test_a_bisect_run_is_stored_but_never_history(db_url):
    store = open_store(db_url)
    config = PerfciConfig()
    try:
        for commit in range(8):
            process_document(store, config, parse_document(_document(commit, 1.0)))
        # a bisect measured commit 8 (no branch: a searched commit) 50% slower
        bisect = parse_document(_document(8, 1.5, trigger="bisect", branch=None))
        processed = process_document(store, config, bisect)
        assert processed.stored and processed.findings == [] and processed.deliveries == []
        with store.read() as session:
            run = session.scalars(select(models.Run).where(models.Run.uuid == processed.run_uuid)).one()
            (result,) = session.scalars(select(models.Result).where(models.Result.run_id == run.id)).all()
            assert run.trigger == "bisect" and result.judgement is None and len(result.process_values) == 2
            sha = bisect.run.commit.sha
            fingerprint = environment_fingerprint(bisect.run.environment)
            # a push run of that commit is not skipped as stored
            assert stored_case_keys(session, bisect.run.repo, sha, fingerprint) == set()
            assert all(row["trigger"] != "bisect" for row in latest_runs(session, Filters()))
            assert [p["sha"] for p in series_points(session, result.series_id)][-1] != sha
        # the branch's own run of that commit: judged against the branch's results only, and the
        # commit takes the branch the bisect could not name
        pushed = process_document(store, config, parse_document(_document(8, 1.0)))
        assert pushed.findings == []
        with store.read() as session:
            commit = session.scalars(select(models.Commit).where(models.Commit.sha == sha)).one()
            assert commit.branch == "main"
            judged = session.scalars(
                select(models.Result).join(models.Run).where(models.Run.uuid == pushed.run_uuid)
            ).one()
            assert judged.judgement["kind"] == "same"
            assert stored_case_keys(session, bisect.run.repo, sha, fingerprint) == {judged.case.key}
            points = series_points(session, judged.series_id)
            assert len(points) == 9 and points[-1]["result"] == judged.id
        # the next push is judged against the branch: the bisect's slow result is no baseline
        nine = process_document(store, config, parse_document(_document(9, 1.0)))
        assert nine.findings == []
    finally:
        store.dispose()
