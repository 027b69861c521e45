"""GET /api/openapi.json: the API's OpenAPI 3.1 description (tests fail when it drifts from the routes)."""

from __future__ import annotations

from typing import Any

from dashboard.api import api
from dashboard.api.confirmations import Confirmations
from perfci import __version__
from perfci.findings import FINDING_KINDS
from perfci.store.models import TRIAGE_STATUSES


def _param(
    name: str, where: str = "query", schema: dict[str, Any] | None = None, required: bool = False, description: str = ""
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema or {"type": "string"},
        "description": description,
    }


PAGE = [
    _param("page", schema={"type": "integer", "minimum": 1, "maximum": 1_000_000}),
    _param("per_page", schema={"type": "integer", "minimum": 1, "maximum": 500}),
]
FILTERS = [
    _param("op", description="paged_prefill | paged_decode"),
    _param("dtype", description="bf16 | fp16 | int8kv"),
    _param("env", description="environment fingerprint"),
    _param("branch"),
    _param("q", description="text in the case id"),
]
ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
JSON_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}


def _ok(description: str, schema: str = "Page") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): ERROR for code in codes}


SECURED = [{"bearer": []}]

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "perfci",
        "version": __version__,
        "description": "Results, series, commits and regressions of SWA kernel benchmarks. Reads are public "
        "unless the server closes them; writes need a bearer write token.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error", "message"],
                "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
            },
            "Page": {
                "type": "object",
                "required": ["items", "page", "per_page", "total", "pages"],
                "properties": {
                    "items": {"type": "array"},
                    "page": {"type": "integer"},
                    "per_page": {"type": "integer"},
                    "total": {"type": "integer"},
                    "pages": {"type": "integer"},
                },
            },
            "Object": {"type": "object"},
        },
    },
    "paths": {
        "/api/series": {
            "get": {
                "summary": "Series (one trend line each), filtered",
                "parameters": PAGE + FILTERS,
                "responses": {"200": _ok("a page of series"), **_errors(400, 401)},
            }
        },
        "/api/series/{series_id}": {
            "get": {
                "summary": "One series with its points (oldest first) and regression / change-point markers",
                "parameters": [
                    _param("series_id", "path", {"type": "integer"}),
                    _param("branch", description="only points of commits on this branch"),
                    _param("last", schema={"type": "integer", "minimum": 0, "maximum": 1_000_000}),
                ],
                "responses": {"200": _ok("the series", "Object"), **_errors(400, 401, 404)},
            }
        },
        "/api/runs": {
            "get": {
                "summary": "Runs, newest first",
                "parameters": PAGE,
                "responses": {"200": _ok("a page of runs"), **_errors(400, 401)},
            },
            "post": {
                "summary": "Store a perfci.results/1 document (idempotent by run.id), judge it, alert",
                "security": SECURED,
                "requestBody": {"required": True, **JSON_OBJECT},
                "responses": {
                    "201": _ok("stored", "Object"),
                    "200": _ok("already stored", "Object"),
                    **_errors(400, 401, 403, 413, 422),
                },
            },
        },
        "/api/runs/{ref}": {
            "get": {
                "summary": "One run",
                "parameters": [_param("ref", "path")],
                "responses": {"200": _ok("the run", "Object"), **_errors(401, 404)},
            }
        },
        "/api/runs/{ref}/confirmations": {
            "post": {
                "summary": "Record a remote runner's process-pair re-measurements of the run's suspected slowdowns",
                "security": SECURED,
                "parameters": [_param("ref", "path", description="the run id")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": Confirmations.model_json_schema()}},
                },
                "responses": {
                    "200": _ok("the run's findings after them", "Object"),
                    **_errors(400, 401, 403, 404, 409, 422),
                },
            }
        },
        "/api/results": {
            "get": {
                "summary": "Results of a run or of a commit",
                "parameters": [*PAGE, _param("run"), _param("commit")],
                "responses": {"200": _ok("a page of results"), **_errors(400, 401, 404)},
            }
        },
        "/api/commits": {
            "get": {
                "summary": "Commits, newest first",
                "parameters": [*PAGE, _param("branch")],
                "responses": {"200": _ok("a page of commits"), **_errors(400, 401)},
            }
        },
        "/api/commits/{ref}": {
            "get": {
                "summary": "A commit's results against their baselines, slowest change first",
                "parameters": [_param("ref", "path", description="full sha or a unique prefix of 7+ hex")],
                "responses": {"200": _ok("the commit", "Object"), **_errors(401, 404)},
            }
        },
        "/api/regressions": {
            "get": {
                "summary": "Regressions (open by default)",
                "parameters": PAGE
                + FILTERS
                + [
                    _param("status", schema={"type": "string", "enum": [*TRIAGE_STATUSES, "all"]}),
                    _param("kind", schema={"type": "string", "enum": list(FINDING_KINDS)}),
                    _param("order", schema={"type": "string", "enum": ["newest", "worst"]}),
                ],
                "responses": {"200": _ok("a page of regressions"), **_errors(400, 401)},
            }
        },
        "/api/regressions/{regression_id}": {
            "patch": {
                "summary": "Triage: set status with note and author",
                "security": SECURED,
                "parameters": [_param("regression_id", "path", {"type": "integer"})],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["status"],
                                "additionalProperties": False,
                                "properties": {
                                    "status": {"type": "string", "enum": list(TRIAGE_STATUSES)},
                                    "note": {"type": "string", "maxLength": 10000},
                                    "author": {"type": "string", "maxLength": 255},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _ok("the triaged regression", "Object"), **_errors(400, 401, 403, 404, 422)},
            }
        },
        "/api/regressions/{regression_id}/history": {
            "get": {
                "summary": "Every triage change of a regression, oldest first",
                "parameters": [_param("regression_id", "path", {"type": "integer"})],
                "responses": {"200": _ok("the history", "Object"), **_errors(401, 404)},
            }
        },
        "/api/openapi.json": {
            "get": {"summary": "This description", "responses": {"200": _ok("OpenAPI 3.1", "Object")}}
        },
    },
}


@api.get("/openapi.json")
def openapi() -> dict[str, Any]:
    return SPEC
