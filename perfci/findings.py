"""The finding type and its vocabulary: what a judgement found about one case at one commit.

Reporters (terminal, Markdown, webhooks, the runner reading a server's answer) import this module
without importing the store or the statistics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

#: Kinds that fail a CI job; ``improvement`` is reported, never gating.
GATING_KINDS = ("latency", "correctness", "missing")
#: Every kind, the worst news first: ``suspected`` is a change beyond the series' noise that lacks
#: process-level evidence (one process, or interpreter timing): shown with its evidence, never gating.
KIND_ORDER = {"correctness": 0, "missing": 1, "latency": 2, "suspected": 3, "improvement": 4}
FINDING_KINDS = tuple(KIND_ORDER)


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
        return cls(
            str(data["case"]),
            str(data["kind"]),
            str(data["commit"]),
            data.get("baseline_commit"),
            data.get("change"),
            dict(data.get("verdict") or {}),
        )


def describe(kind: str, verdict: dict[str, Any]) -> str:
    """The evidence of a finding in one line: what the report, the webhooks' readers and the pages
    show. A verdict of another shape (a server's of another version) is shown as its JSON."""
    try:
        return _describe(kind, verdict)
    except (KeyError, TypeError, ValueError, IndexError):
        return json.dumps(verdict, default=str)[:500]


def bisect_search(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    """The search of the commits behind a gating change: kept in its confirmation when re-measuring
    confirmed it, in the verdict itself when its own processes proved it; None when not bisected."""
    verdict = verdict or {}
    search = verdict.get("bisect") or (verdict.get("confirmation") or {}).get("bisect")
    return search if isinstance(search, dict) else None


def bisect_state(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    """Where bisecting the commits behind a gating change stands, for the pages and the API:
    ``{"state": "culprit" | "undecided" | "not reproduced", "culprits": [{"commit", "share"}],
    "range": [first, last] | None}``; None when the finding was not bisected."""
    search = bisect_search(verdict)
    if search is None:
        return None
    culprits = [
        {"commit": c["commit"], "share": c.get("share")} for c in search.get("culprits") or [] if c.get("verified")
    ]
    unresolved = search.get("unresolved")
    state = "culprit" if culprits else "undecided" if unresolved else "not reproduced"
    return {"state": state, "culprits": culprits, "range": unresolved if not culprits else None}


def _bisected(search: dict[str, Any]) -> str:
    """What bisecting the commits behind a confirmed change found, in words."""
    state = bisect_state({"bisect": search})
    assert state is not None
    if state["culprits"]:
        named = ", ".join(
            f"{c['commit'][:12]}" + (f" ({c['share']:.0%} of it)" if c["share"] is not None else "")
            for c in state["culprits"]
        )
        return f"bisected: culprit {named}"
    if state["range"]:
        first, last = state["range"]
        return f"bisected: somewhere in {first[:12]}..{last[:12]} (undecided)"
    return "bisected: not reproduced between its commits"


def _describe(kind: str, verdict: dict[str, Any]) -> str:
    v = verdict
    if kind == "correctness":
        return f"{v.get('status')}: {v.get('error') or ''}".strip()
    if kind == "missing":
        return f"last seen at {str(v.get('last_seen_commit'))[:12]} (suite {v.get('suite')})"
    if v.get("detector") == "pelt" and v.get("before") and v.get("after"):
        text = f"step {v['before']:.4g} -> {v['after']:.4g} ms over the history"
        if v.get("p_value") is not None:
            text += f" (p={v['p_value']:.1e})"
        if v.get("threshold"):
            text += f"; threshold {v['threshold']:.1%}"
        if v.get("reason"):
            text += f"; {v['reason']}"
        if v.get("commit_range"):
            text += f"; somewhere in {v['commit_range'][0][:12]}..{v['commit_range'][1][:12]}"
        return text
    parts = [str(v["reason"])] if v.get("reason") else []
    if v.get("ci_low") is not None and v.get("ci_high") is not None:
        parts.append(f"{v['ci_low']:+.1%}..{v['ci_high']:+.1%} (99% CI), p={v['p_value']:.1e}")
    if v.get("threshold"):
        parts.append(f"threshold {v['threshold']:.1%}")
    text = "; ".join(parts)
    if v.get("test"):
        t = v["test"]
        text += f"; processes: p={t['p_value']:.1e}, {t['reason']}"
    if v.get("confirmation"):
        c = v["confirmation"]
        text += f"; re-measured in {c['pairs']} process pairs: {c['kind']} ({c['reason']})"
        if c.get("autotune"):
            text += f"; {c['autotune']}"
        if c.get("bisect"):
            text += "; " + _bisected(c["bisect"])
    if v.get("bisect"):
        text += "; " + _bisected(v["bisect"])
    if v.get("autotune"):
        text += f"; {v['autotune']}"
    return text


def _choice_text(choice: dict[str, Any]) -> str:
    """One process's autotune choice, compactly: each kernel's config."""
    return "; ".join(
        f"{kernel} {' '.join(f'{k} {v}' for k, v in config.items())}" for kernel, config in sorted(choice.items())
    )


def autotune_note(choices: list[dict[str, Any]]) -> str | None:
    """``autotune chose A / B`` when the processes' choices differ (each kernel's config, compactly)."""
    distinct = list(dict.fromkeys(text for text in map(_choice_text, choices) if text))
    return f"autotune chose {' / '.join(distinct)}" if len(distinct) > 1 else None


def autotune_summary(choices: list[dict[str, Any]]) -> str:
    """What the processes' autotuners chose, each distinct choice with how many processes took it
    ("_scale BLOCK 64 x3 / _scale BLOCK 128 x2"); empty when nothing was autotuned."""
    counts: dict[str, int] = {}
    for text in map(_choice_text, choices):
        if text:
            counts[text] = counts.get(text, 0) + 1
    return " / ".join(f"{text} x{count}" for text, count in counts.items())


def worst_first(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (KIND_ORDER.get(f.kind, len(KIND_ORDER)), -abs(f.change or 0)))


@dataclass(frozen=True)
class Unjudged:
    """A case whose latency was not judged, or judged without gating, and why ("history 2/6")."""

    case: str
    reason: str
