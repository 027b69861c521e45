"""A static HTML report of a run or a commit: one self-contained file (inline styles and SVG trend
lines, no script, no server) that a CI job keeps as an artifact, like ``asv publish``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
#: every document string is escaped; the sparklines are the only markup built here
ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def sparkline(values: list[float | None], width: int = 160, height: int = 28) -> str:
    """An inline SVG polyline of ``values`` (oldest first), the last point marked."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(v for _, v in known), max(v for _, v in known)
    span = (high - low) or 1.0
    step = width / max(1, len(values) - 1)
    coords = [(i * step, height - 2 - (v - low) / span * (height - 4)) for i, v in known]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    last_x, last_y = coords[-1]
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="trend">'
        f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="#c62828"/></svg>'
    )


def render_report(
    *,
    title: str,
    summary: str,
    commit: dict[str, Any],
    results: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    points: int,
) -> str:
    """The report's HTML: every document string escaped (autoescape), the sparklines as built here."""
    for row in results:
        proven = [r for r in row["regressions"] if r["kind"] in ("latency", "improvement")]
        row["proven"] = bool(proven)
        judgement = row.get("judgement") or {}
        row["why"] = ", ".join(f"{r['kind']} ({r['status']})" for r in row["regressions"]) or judgement.get(
            "reason", f"status {row['status']}"
        )
    return _render(
        "report.html", title=title, summary=summary, commit=commit, results=results, findings=findings, points=points
    )


def render_compare(*, base: str, head: str, device: str, summary: str, rows: list[dict[str, Any]]) -> str:
    """A ``perfci compare``'s cases as one page: verdict, medians, interval, pairs and why."""
    return _render("compare.html", base=base, head=head, device=device, summary=summary, rows=rows)


def _render(template: str, **context: Any) -> str:
    """A page of ``template``, stamped with when it was written."""
    return ENVIRONMENT.get_template(template).render(
        **context, written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    )


def write_report(directory: Path, html: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "index.html"
    path.write_text(html)
    return path
