"""A Markdown report fit for a PR comment: only what changed, worst first, details collapsed."""

from __future__ import annotations

from collections.abc import Sequence

from perfci.findings import Finding

TITLES = {
    "correctness": "Correctness failures",
    "missing": "Cases that stopped reporting",
    "latency": "Latency regressions",
    "improvement": "Improvements",
}


def _change(finding: Finding) -> str:
    return f"{finding.change:+.1%}" if finding.change is not None else "-"


def _detail(finding: Finding) -> str:
    v = finding.verdict
    if finding.kind == "correctness":
        return f"{v.get('status')}: {v.get('error') or ''}".strip()
    if finding.kind == "missing":
        return f"last seen at {str(v.get('last_seen_commit'))[:12]} (suite {v.get('suite')})"
    if v.get("detector") == "pelt":
        return f"step {v['before']:.4g} -> {v['after']:.4g} ms over the history; threshold {v['threshold']:.1%}"
    return (f"{v['ci_low']:+.1%}..{v['ci_high']:+.1%} (99% CI), p={v['p_value']:.1e}, threshold "
            f"{v['threshold']:.1%}, min. detectable {v['min_detectable_change']:.1%}")  # fmt: skip


def render_markdown(findings: Sequence[Finding], *, device: str) -> str:
    """Empty string when nothing changed (post no comment then)."""
    if not findings:
        return ""
    gating = sum(f.kind != "improvement" for f in findings)
    lines = [f"### perfci: {gating} problem(s), {len(findings) - gating} improvement(s) on {device}", ""]
    for kind, title in TITLES.items():
        group = [f for f in findings if f.kind == kind]
        if not group:
            continue
        lines += [f"**{title}**", "", "| case | change | commit | baseline |", "|---|---|---|---|"]
        lines += [f"| `{f.case}` | {_change(f)} | {f.commit[:12]} | {(f.baseline_commit or '-')[:12]} |" for f in group]
        lines += ["", "<details><summary>details and repro</summary>", ""]
        for f in group:
            lines.append(f"- `{f.case}`: {_detail(f)}  ")
            lines.append(f"  repro: `perfci run --commit {f.commit[:12]} --cases '{f.case}'`")
        lines += ["", "</details>", ""]
    return "\n".join(lines)
