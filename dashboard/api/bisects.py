"""POST /api/runs/<id>/bisects: a remote runner's searches behind the run's proved slowdowns.

A gating slowdown that the document's own processes proved (``perfci run --processes N --post``)
needs no re-measurement, so the runner that has the commits and the device bisects the commits
between its baseline and its commit when its ``perfci.toml`` says ``[detection] bisect = true``, and
posts each search here by case. The server stores it with the finding exactly as a local run's
(``perfci.pipeline.bisect_stored``): the pages and ``/api/regressions`` then show the culprit. A
confirmed slowdown's search travels inside its confirmation (``/confirmations``) instead.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dashboard.api import api
from dashboard.api.about_run import posted_about_run
from dashboard.api.openapi import documented
from dashboard.auth import require_write_token
from dashboard.errors import ApiError
from dashboard.store_access import store
from perfci.pipeline import NotBisectable, bisect_stored

#: a commit id as the runner's repository spells it
Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{7,64}$")]


class Culprit(BaseModel):
    """A commit the search found different from its parent (``perfci.runner.culprits.culprits_json``)."""

    model_config = ConfigDict(extra="allow")
    commit: Sha
    share: float | None = None
    verified: bool

    @field_validator("share")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number or null")
        return value


class Search(BaseModel):
    """One case's search: its culprits, or the range it could not decide, and its steps."""

    model_config = ConfigDict(extra="allow")
    case: str = Field(min_length=1, max_length=255)
    culprits: list[Culprit] = Field(max_length=1000)
    unresolved: list[Sha] | None = Field(default=None, min_length=2, max_length=2)
    steps: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)


class SearchOfCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: str = Field(min_length=1, max_length=255)
    search: Search


class Bisects(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bisects: list[SearchOfCase] = Field(min_length=1, max_length=1000)


@api.post("/runs/<ref>/bisects")
@documented(
    "Record a remote runner's bisect of the commits behind the run's slowdowns its own processes proved",
    answers={200: ("the run's findings after them", None)},
    errors=(400, 401, 403, 404, 409, 422),
    body=Bisects,
    path={"ref": "the run id"},
)
@require_write_token
def post_bisects(ref: str) -> dict[str, Any]:
    run_uuid, body = posted_about_run(ref, Bisects, "searches", "{'bisects': [{'case', 'search'}, ...]}")
    searches = {item.case: item.search.model_dump() for item in body.bisects}
    try:
        findings = bisect_stored(store(), run_uuid, searches)
    except NotBisectable as error:
        raise ApiError(
            409, f"bisects: {error}; send searches only for the latency findings the run's POST answered"
        ) from None
    return {"run_id": str(run_uuid), "findings": [f.as_json() for f in findings]}
