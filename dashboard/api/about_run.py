"""What a remote runner posts about a run it posted (its re-measurements, its bisects): the checks
every such route makes, in one order, before it records anything."""

from __future__ import annotations

import uuid

from flask import request

from dashboard.api.schemas import ModelT, validated
from dashboard.errors import ApiError
from dashboard.store_access import reading
from perfci.document import MalformedJson, decode_json
from perfci.store import reads


def posted_about_run(ref: str, model: type[ModelT], what: str, shape: str) -> tuple[uuid.UUID, ModelT]:
    """(the stored run's id, the request body as ``model``): a body that is not JSON is a 400 that
    asks for ``what`` as JSON, a run not stored a 404, malformed JSON a 400 showing ``shape``, a body
    ``model`` refuses a 422 naming the field."""
    if not (request.mimetype or "").endswith("json"):
        raise ApiError(400, f"send the {what} as JSON with 'Content-Type: application/json'")
    with reading() as session:
        run = reads.find_run(session, ref)
        run_uuid = uuid.UUID(str(run.uuid)) if run is not None else None
    if run_uuid is None:
        raise ApiError(404, f"run {ref[:60]!r} is not stored; POST the run's document to /api/runs first")
    try:
        value = decode_json(request.get_data(cache=False), "request body")
    except MalformedJson as error:
        raise ApiError(400, f"{error}; send {shape}") from None
    return run_uuid, validated(model, value)
