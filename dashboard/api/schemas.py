"""The API's request and response shapes as pydantic models: the OpenAPI description is generated
from them (dashboard/api/openapi.py), and request bodies are validated by them, so the description
and what the server accepts cannot differ."""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dashboard.errors import ApiError
from dashboard.store_access import MAX_PAGE, MAX_PER_PAGE
from perfci.findings import FINDING_KINDS
from perfci.store.models import JOB_STATUSES, TRIAGE_STATUSES

ModelT = TypeVar("ModelT", bound=BaseModel)


def validated(model: type[ModelT], value: Any) -> ModelT:
    """``value`` as ``model``, or a 422 naming the first field that is wrong and why."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "request body"
        raise ApiError(
            422, f"field {field!r}: {first['msg']} (the body's schema: {model.__name__} in GET /api/openapi.json)"
        ) from None


class ErrorBody(BaseModel):
    """Every 4xx answer: a short code and a message naming the field and what to do."""

    error: str
    message: str


class PageBody(BaseModel):
    """A page of a listing."""

    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int
    pages: int


class PageQuery(BaseModel):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)


class SeriesFilters(BaseModel):
    op: str | None = Field(None, description="paged_prefill | paged_decode")
    dtype: str | None = Field(None, description="bf16 | fp16 | int8kv")
    env: str | None = Field(None, description="environment fingerprint")
    branch: str | None = Field(None, description="only series with results on this branch")
    q: str | None = Field(None, description="text in the case id")


class SeriesListQuery(PageQuery, SeriesFilters):
    pass


class SeriesPointsQuery(BaseModel):
    branch: str | None = Field(None, description="only points of commits on this branch")
    last: int = Field(0, ge=0, le=MAX_PAGE, description="only the newest N points (0: all)")


class RegressionsQuery(PageQuery, SeriesFilters):
    status: Literal[(*TRIAGE_STATUSES, "all")] = "open"
    kind: Literal[FINDING_KINDS] | None = None
    order: Literal["newest", "worst"] = "newest"


class ResultsQuery(PageQuery):
    run: str | None = Field(None, description="a run id (give this or commit)")
    commit: str | None = Field(None, description="a sha or a unique prefix of 7+ hex (give this or run)")


class CommitsQuery(PageQuery):
    branch: str | None = None


class TriageBody(BaseModel):
    """PATCH /api/regressions/<id>: the new status, with an optional note and author."""

    model_config = ConfigDict(extra="forbid")
    status: Literal[TRIAGE_STATUSES]
    note: str | None = Field(None, max_length=10_000)
    author: str | None = Field(None, max_length=255)

    @field_validator("note", "author")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("must not hold NUL bytes")
        return value


class JobsQuery(PageQuery):
    status: Literal[JOB_STATUSES] | None = Field(None, description="only jobs in this state")
