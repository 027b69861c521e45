"""Send a results document to a perfci server, with retries; keep it on disk when that fails."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfci.httpclient import PostError, post_json

__all__ = ["PostError", "keep_unsent", "post_document"]


def post_document(
    url: str, token: str | None, document: dict[str, Any], *, attempts: int = 5, first_delay_s: float = 1.0,
    timeout_s: float = 30.0,
) -> dict[str, Any]:  # fmt: skip
    """POST the document with the write token; 4xx (a bad document or token) is final."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response, _ = post_json(url, document, headers=headers, attempts=attempts, first_delay_s=first_delay_s,
                            timeout_s=timeout_s)  # fmt: skip
    return response


def keep_unsent(document: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{document['run']['id']}.json"
    path.write_text(json.dumps(document))
    return path
