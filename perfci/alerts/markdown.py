"""A Markdown report fit for a PR comment: what changed, worst first, details collapsed, and what
was not judged and why (so an empty gate is never mistaken for a judged, clean one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from perfci.findings import Finding, describe

TITLES = {
    "correctness": "Correctness failures",
    "missing": "Cases that stopped reporting",
    "latency": "Latency regressions",
    "suspected": "Suspected changes (not confirmed: not gating)",
    "improvement": "Improvements",
}


def _change(finding: Finding) -> str:
    return f"{finding.change:+.1%}" if finding.change is not None else "-"


def render_markdown(findings: Sequence[Finding], *, device: str, not_judged: Sequence[Any] = ()) -> str:
    """Empty string when nothing changed and every case was judged (post no comment then).
    ``not_judged``: items with ``case`` and ``reason``."""
    if not findings and not not_judged:
        return ""
    gating = sum(f.gates for f in findings)
    lines = [f"### perfci: {gating} problem(s), {len(findings) - gating} other finding(s) on {device}", ""]
    for kind, title in TITLES.items():
        group = [f for f in findings if f.kind == kind]
        if not group:
            continue
        lines += [f"**{title}**", "", "| case | change | commit | baseline |", "|---|---|---|---|"]
        lines += [f"| `{f.case}` | {_change(f)} | {f.commit[:12]} | {(f.baseline_commit or '-')[:12]} |" for f in group]
        lines += ["", "<details><summary>details and repro</summary>", ""]
        for f in group:
            lines.append(f"- `{f.case}`: {describe(f.kind, f.verdict)}  ")
            lines.append(f"  repro: `perfci run --commit {f.commit[:12]} --cases '{f.case}'`")
        lines += ["", "</details>", ""]
    if not_judged:
        lines += [f"**Not judged or not gating ({len(not_judged)})**", "", "| case | why |", "|---|---|"]
        lines += [f"| `{item.case}` | {item.reason} |" for item in not_judged]
        lines.append("")
    return "\n".join(lines)
