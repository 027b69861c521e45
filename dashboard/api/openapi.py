"""GET /api/openapi.json: the API's OpenAPI 3.1 description, generated (apispec) from what the server
really does: the paths and methods from the routes Flask serves, query parameters and bodies from
the pydantic models each endpoint declares with :func:`documented` (the same models validate the
bodies), the bearer requirement from :func:`dashboard.auth.require_write_token`. An API route
without a declaration fails the description, so a new endpoint cannot go undescribed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from flask import Flask, current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dashboard.api import api
from dashboard.api.schemas import ErrorBody, PageBody
from perfci import __version__

SCHEMA_REF = "#/components/schemas/{model}"
PATH_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
INTEGER_CONVERTERS = {"int", "id"}


@dataclasses.dataclass(frozen=True)
class Operation:
    """What an endpoint declares about itself: ``answers`` maps each success status to its
    description and body model (None: a JSON object described in the endpoint's docs)."""

    summary: str
    answers: dict[int, tuple[str, type[BaseModel] | None]]
    errors: tuple[int, ...]
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path: dict[str, str] = dataclasses.field(default_factory=dict)


def documented(
    summary: str,
    *,
    answers: dict[int, tuple[str, type[BaseModel] | None]],
    errors: tuple[int, ...] = (),
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    path: dict[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API view's operation (put it between the route and the view). ``path`` describes
    path parameters by name; their type comes from the route's converter."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.openapi = Operation(summary, answers, errors, query, body, path or {})  # type: ignore[attr-defined]
        return view

    return mark


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _model_ref(model: type[BaseModel] | None) -> dict[str, Any]:
    return {"$ref": SCHEMA_REF.format(model=model.__name__)} if model else {"type": "object"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=SCHEMA_REF)
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = {key: value for key, value in field.items() if key != "title"}
        if "anyOf" in field:  # an optional parameter is absent, never null: its schema is the non-null one
            (field_type,) = [option for option in field.pop("anyOf") if option != {"type": "null"}]
            field = {**field_type, **{key: value for key, value in field.items() if value is not None}}
        description = field.pop("description", "")
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": field, "description": description}
        )
    return parameters


def _path_parameters(rule: str, described: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if converter in INTEGER_CONVERTERS else "string"},
            "description": described.get(name, ""),
        }
        for converter, name in PATH_ARGUMENT.findall(rule)
    ]


def _operation(rule: str, view: Callable[..., Any]) -> dict[str, Any]:
    declared: Operation | None = getattr(view, "openapi", None)
    if declared is None:
        raise LookupError(f"API route {rule} ({view.__name__}) has no @documented declaration")
    operation: dict[str, Any] = {
        "summary": declared.summary,
        "parameters": _path_parameters(rule, declared.path)
        + (_query_parameters(declared.query) if declared.query else []),
        "responses": {
            **{
                str(code): {"description": text, **_json(_model_ref(model))}
                for code, (text, model) in declared.answers.items()
            },
            **{str(code): {"description": "error", **_json(_model_ref(ErrorBody))} for code in declared.errors},
        },
    }
    if declared.body is not None:
        operation["requestBody"] = {"required": True, **_json(_model_ref(declared.body))}
    if getattr(view, "write_token", False):
        operation["security"] = [{"bearer": []}]
    return operation


def _served(app: Flask) -> list[tuple[str, set[str], Callable[..., Any]]]:
    return [
        (rule.rule, rule.methods - {"HEAD", "OPTIONS"}, app.view_functions[rule.endpoint])
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
        if rule.rule.startswith(api.url_prefix + "/")
    ]


def describe(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s API routes."""
    spec = APISpec(
        title="perfci",
        version=__version__,
        openapi_version="3.1.0",
        info={
            "description": "Results, series, commits and regressions of SWA kernel benchmarks. Reads are public "
            "unless the server closes them; writes need a bearer write token."
        },
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    served = _served(app)
    models = {ErrorBody, PageBody}
    for _, _, view in served:
        declared: Operation | None = getattr(view, "openapi", None)
        if declared is not None:
            models |= {model for _, model in declared.answers.values() if model} | ({declared.body} - {None})
    _, definitions = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda model: model.__name__)], ref_template=SCHEMA_REF
    )
    for name, schema in definitions.get("$defs", {}).items():
        spec.components.schema(name, schema)
    for rule, methods, view in served:
        path = PATH_ARGUMENT.sub(r"{\2}", rule)
        spec.path(path=path, operations={method.lower(): _operation(rule, view) for method in sorted(methods)})
    return spec.to_dict()


@api.get("/openapi.json")
@documented("This description", answers={200: ("OpenAPI 3.1", None)})
def openapi() -> dict[str, Any]:
    state = current_app.extensions["perfci"]
    if "openapi" not in state:  # the routes do not change once the app serves
        state["openapi"] = describe(current_app)
    return state["openapi"]
