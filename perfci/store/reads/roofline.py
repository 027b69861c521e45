"""The roofline: each case's latest achieved rate against the ceilings measured in its runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from perfci.store import models
from perfci.store.queries import Filters


def roofline(session: Session, filters: Filters) -> dict[str, Any]:
    """The latest ok result of every (filtered) GPU series with its achieved rate and the card's
    ceilings, and how many series were left out because they ran elsewhere (under Triton's
    interpreter a rate says how fast Python is, not the kernel: the roofline does not apply)."""
    latest = (  # newest ok result of the series: a backwards walk of ix_results_series_history, stopping early
        select(models.Result.id)
        .where(models.Result.series_id == models.Series.id, models.Result.status == "ok")
        .order_by(models.Result.authored_at.desc(), models.Result.id.desc())
        .limit(1)
        .correlate(models.Series)
        .scalar_subquery()
    )
    query = (
        select(models.Series.id, models.Case, models.Environment, models.Result)
        .join(models.Case, models.Case.id == models.Series.case_id)
        .join(models.Environment, models.Environment.id == models.Series.environment_id)
        .join(models.Result, models.Result.id == latest)
    )
    query = filters.on_series(query).order_by(models.Case.key)
    points, ceilings, elsewhere = [], {}, 0
    for series_id, case_, env, result in session.execute(query):
        if env.device_kind != "cuda":
            elsewhere += 1
            continue
        m = result.metrics or {}
        flops, nbytes = m.get("useful_flops"), m.get("min_bytes")
        points.append(
            {
                "series_id": series_id,
                "case": case_.key,
                "op": case_.op,
                "fingerprint": env.fingerprint,
                "device": env.device_name,
                "median": result.median,
                "tflops": m.get("tflops"),
                "gbps": m.get("gbps"),
                "roofline_fraction": m.get("roofline_fraction"),
                "intensity": (flops / nbytes) if flops and nbytes else None,
            }
        )
        if env.fingerprint not in ceilings:
            ceilings[env.fingerprint] = _ceilings(session, env.id) | {"device": env.device_name}
    return {"points": points, "ceilings": ceilings, "not_on_a_gpu": elsewhere}


def _ceilings(session: Session, environment_id: int) -> dict[str, Any]:
    """Ceilings measured in the environment's latest run that has them (perfci run measures them)."""
    for extra in session.scalars(
        select(models.Run.extra)
        .where(models.Run.environment_id == environment_id)
        .order_by(models.Run.ingested_at.desc())
        .limit(20)
    ):
        found = ((extra or {}).get("environment_extra") or {}).get("ceilings")
        if found:
            return dict(found)
    return {}
