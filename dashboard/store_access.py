"""The request's view of the store and the query-string helpers every endpoint shares."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, request
from sqlalchemy.orm import Session

from dashboard.errors import ApiError
from perfci.config import PerfciConfig
from perfci.store.engine import Store

MAX_PER_PAGE = 500
MAX_PAGE = 1_000_000


def store() -> Store:
    return current_app.extensions["perfci"]["store"]


def config() -> PerfciConfig:
    return current_app.extensions["perfci"]["config"]


@contextmanager
def reading() -> Iterator[Session]:
    with store().read() as session:
        yield session


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r}: {raw[:40]!r} is not an integer") from None
    if not low <= value <= high:
        raise ApiError(400, f"query parameter {name!r}: {value} is outside {low}..{high}")
    return value


def choice_arg(name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise ApiError(400, f"query parameter {name!r}: {raw[:40]!r} is not one of {', '.join(choices)}")
    return raw


def pagination() -> tuple[int, int]:
    return int_arg("page", 1, 1, MAX_PAGE), int_arg("per_page", 50, 1, MAX_PER_PAGE)


def page_body(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total, "pages": max(1, -(-total // per_page))}
