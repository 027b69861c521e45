"""A paired comparison's measurements as perfci.results/1 documents, one per side and commit.

``perfci bisect`` stores what every step measured, so the processes behind a culprit stay
inspectable next to the branch's runs; the documents carry trigger ``bisect``, which the store keeps
out of every branch's history (``perfci.document.OFF_HISTORY_TRIGGERS``): a search's measurements of
commits in the middle of a range are never a baseline, a trend point or a reason to skip a push run.
Each process of a side is one ``processes`` entry (its ABBA rounds together) with the config its
autotuned kernels chose, so a stored bisect run has the same process-level evidence as
``perfci run --processes N``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from perfci.config import PerfciConfig
from perfci.document import parse_document
from perfci.pipeline import process_document
from perfci.runner import git as gitops
from perfci.runner.compare import CaseComparison, SideReport
from perfci.store.engine import Store


def _result(comparison: CaseComparison, report: SideReport, pairs: list[list[list[float]]]) -> dict[str, Any] | None:
    """The side's result, or None when it measured nothing that a result could hold."""
    case = comparison.case
    result: dict[str, Any] = {"case": case.id, "op": case.op, "params": case.params(), "status": report.status}
    if report.error:
        result["error"] = report.error[:65_536]
    if report.correctness:
        result["correctness"] = report.correctness
    if report.config:
        result["config"] = report.config
    processes = [[sample for round_ in pair for sample in round_] for pair in pairs]
    processes = [samples for samples in processes if samples]
    if report.status in ("ok", "incorrect"):
        if not processes:
            return None  # checked but never timed (the other side failed first)
        autotune = [*report.autotune, *[{}] * len(processes)]
        result.update(
            unit="ms",
            samples=[sample for samples in processes for sample in samples],
            processes=[{"samples": samples, "autotune": autotune[i] or {}} for i, samples in enumerate(processes)],
            timing={"mode": comparison.mode or "wall-clock"},
        )
    return result


def comparison_documents(
    comparison: CaseComparison,
    commits: dict[str, dict[str, Any]],
    *,
    repo: str,
    environment: dict[str, Any],
    suite: str | None,
    trigger: str = "bisect",
) -> list[dict[str, Any]]:
    """One document per side that measured something: ``commits`` maps "base" and "head" to their
    commit metadata (``perfci.runner.git.commit_metadata``, branch None: a searched commit belongs to
    no branch's history)."""
    now = datetime.now(UTC).isoformat()
    interleaved = comparison.interleaved
    documents = []
    for side, report in (("base", comparison.base), ("head", comparison.head)):
        pairs = (interleaved.base if side == "base" else interleaved.head) if interleaved else []
        result = _result(comparison, report, pairs)
        if result is None:
            continue
        documents.append(
            {
                "schema": "perfci.results/1",
                "run": {
                    "id": str(uuid.uuid4()),
                    "repo": repo,
                    "commit": commits[side],
                    "trigger": trigger,
                    "status": "complete",
                    "started_at": now,
                    "finished_at": now,
                    "environment": environment,
                    "suite": suite,
                    "selection": [comparison.case.id],
                },
                "results": [result],
            }
        )
    return documents


class ComparisonRecorder:
    """``find_culprits``' ``on_compared`` that stores each comparison as it ends (one run per side,
    trigger ``bisect``), for ``perfci bisect`` and the bisect ``perfci run`` starts behind a
    confirmed regression."""

    def __init__(
        self,
        store: Store,
        config: PerfciConfig,
        repo: Any,
        repo_name: str,
        environment: dict[str, Any],
        suite: str | None,
    ) -> None:
        self.store, self.config, self.repo = store, config, repo
        self.repo_name, self.environment, self.suite = repo_name, environment, suite
        self.runs: list[str] = []

    def __call__(self, base: str, head: str, comparison: CaseComparison) -> None:
        sides = (("base", base), ("head", head))
        commits = {side: gitops.commit_metadata(self.repo.commit(sha), None) for side, sha in sides}
        for document in comparison_documents(
            comparison, commits, repo=self.repo_name, environment=self.environment, suite=self.suite
        ):
            processed = process_document(self.store, self.config, parse_document(document, "bisect measurement"))
            self.runs.append(str(processed.run_uuid))
