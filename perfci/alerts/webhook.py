"""Webhook bodies for a run's findings: Slack-compatible (``text`` + ``blocks``) and generic JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from perfci.findings import Finding, bisect_search

ALERT_SCHEMA = "perfci.alert/1"
#: Slack shows at most 50 blocks and 3000 characters a section: the worst findings go first.
SLACK_MAX_LINES = 20


@dataclass(frozen=True)
class AlertContext:
    """Which run the findings came from (what a reader needs to find it)."""

    run_id: str
    repo: str
    commit: str
    branch: str | None
    trigger: str
    device: str


def _line(finding: Finding) -> str:
    change = f"{finding.change:+.1%}" if finding.change is not None else finding.verdict.get("status", "")
    base = f" vs {finding.baseline_commit[:10]}" if finding.baseline_commit else ""
    culprits = [
        c["commit"][:10] for c in (bisect_search(finding.verdict) or {}).get("culprits") or [] if c.get("verified")
    ]
    named = f", culprit `{'`, `'.join(culprits)}` (bisected)" if culprits else ""
    return f"• *{finding.kind}* `{finding.case}` {change} at `{finding.commit[:10]}`{base}{named}"


def slack_body(context: AlertContext, findings: Sequence[Finding]) -> dict[str, Any]:
    gating = sum(f.kind != "improvement" for f in findings)
    where = f"{context.repo} @ {context.commit[:10]} ({context.branch or 'detached'}, {context.trigger})"
    title = f"perfci: {gating} problem(s), {len(findings) - gating} improvement(s) in {where} on {context.device}"
    lines = [_line(f) for f in findings[:SLACK_MAX_LINES]]
    if len(findings) > SLACK_MAX_LINES:
        lines.append(f"… and {len(findings) - SLACK_MAX_LINES} more: `perfci regressions`")
    return {
        "text": title,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}},
        ],
    }


def json_body(context: AlertContext, findings: Sequence[Finding]) -> dict[str, Any]:
    return {"schema": ALERT_SCHEMA, "run": asdict(context), "findings": [asdict(f) for f in findings]}


def body_for(fmt: str, context: AlertContext, findings: Sequence[Finding]) -> dict[str, Any]:
    return slack_body(context, findings) if fmt == "slack" else json_body(context, findings)
