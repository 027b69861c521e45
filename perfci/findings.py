"""The finding type and its vocabulary: what a judgement found about one case at one commit.

Reporters (terminal, Markdown, webhooks, the runner reading a server's answer) import this module
without importing the store or the statistics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

#: Kinds that fail a CI job; ``improvement`` is reported, never gating.
GATING_KINDS = ("latency", "correctness", "missing")
#: Report order: the worst news first.
KIND_ORDER = {"correctness": 0, "missing": 1, "latency": 2, "improvement": 3}


@dataclass(frozen=True)
class Finding:
    case: str
    kind: str
    commit: str
    baseline_commit: str | None
    change: float | None
    verdict: dict[str, Any]

    @property
    def gates(self) -> bool:
        return self.kind in GATING_KINDS

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """A finding from a server's answer (``POST /api/runs``); unknown keys are ignored."""
        return cls(str(data["case"]), str(data["kind"]), str(data["commit"]), data.get("baseline_commit"),
                   data.get("change"), dict(data.get("verdict") or {}))  # fmt: skip


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (KIND_ORDER.get(f.kind, len(KIND_ORDER)), -abs(f.change or 0)))
