"""POST /api/runs/<id>/confirmations: a remote runner's re-measurements of the server's suspicions.

A runner that posts its document (``perfci run --post``) gets the server's findings back; a
suspected slowdown there is one process that cannot prove itself. The runner has the commits and
the device, so it re-measures the baseline commit and the head in process pairs, as a local
``perfci run`` does, and posts each paired verdict here by case. The server records it exactly as a
local confirmation (``perfci.pipeline.confirm_stored``): a confirmed regression becomes a gating
``latency`` finding and its alerts are queued; anything else stays ``suspected`` with the evidence.
A verdict may carry the re-measurement of the suspicion's baseline against the level's result
before it (``baseline_remeasured``), taken where the baseline's fresh processes read like the head:
a change it proves is recorded at the baseline commit.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dashboard.api import api
from dashboard.api.about_run import posted_about_run
from dashboard.api.openapi import documented
from dashboard.auth import require_write_token
from dashboard.errors import ApiError
from dashboard.store_access import config, store
from perfci.pipeline import NotSuspected, confirm_stored


class PairVerdict(BaseModel):
    """``Verdict.as_dict()`` of process pairs, plus how many pairs it took."""

    model_config = ConfigDict(extra="allow")
    kind: Literal["regression", "improvement", "same", "unknown"]
    change: float
    ci_low: float | None
    ci_high: float | None
    p_value: float = Field(ge=0, le=1)
    threshold: float = Field(gt=0, lt=1)
    n_head: int = Field(ge=1, le=100_000)
    pairs: int = Field(ge=1, le=100_000)
    reason: str = Field(max_length=1000)
    #: the median of the baseline commit's fresh processes (ms): whether it reads at its recorded level
    base_value: float | None = Field(default=None, gt=0)
    #: the baseline re-measured against the level's result before it, where its fresh processes read
    #: like the head (``perfci.pipeline.behind_baseline``)
    baseline_remeasured: PairVerdict | None = None

    @field_validator("change", "ci_low", "ci_high", "base_value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number (null for an unbounded interval end)")
        return value


class Confirmation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: str = Field(min_length=1, max_length=255)
    verdict: PairVerdict


class Confirmations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmations: list[Confirmation] = Field(min_length=1, max_length=1000)


@api.post("/runs/<ref>/confirmations")
@documented(
    "Record a remote runner's process-pair re-measurements of the run's suspected slowdowns",
    answers={200: ("the run's findings after them", None)},
    errors=(400, 401, 403, 404, 409, 422),
    body=Confirmations,
    path={"ref": "the run id"},
)
@require_write_token
def post_confirmations(ref: str) -> dict[str, Any]:
    run_uuid, body = posted_about_run(
        ref, Confirmations, "confirmations", "{'confirmations': [{'case', 'verdict'}, ...]}"
    )
    verdicts = {item.case: item.verdict.model_dump() for item in body.confirmations}
    try:
        findings = confirm_stored(store(), config(), run_uuid, verdicts)
    except NotSuspected as error:
        raise ApiError(
            409, f"confirmations: {error}; confirm only the suspected findings the run's POST answered"
        ) from None
    return {"run_id": str(run_uuid), "findings": [f.as_json() for f in findings]}
