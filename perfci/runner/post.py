"""Send a results document to a perfci server, with retries; keep it on disk when that fails."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class PostError(RuntimeError):
    """The server did not accept the document; the message says where it was kept."""


def post_document(
    url: str, token: str | None, document: dict[str, Any], *, attempts: int = 5, first_delay_s: float = 1.0,
    timeout_s: float = 30.0,
) -> dict[str, Any]:  # fmt: skip
    """POST with exponential back-off on connection errors and 5xx/429; 4xx is final (bad document)."""
    body = json.dumps(document).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    delay = first_delay_s
    last_error = ""
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                text = response.read().decode() or "{}"
                return json.loads(text) if text.strip().startswith("{") else {"response": text}
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            last_error = f"HTTP {error.code}: {detail}"
            if error.code < 500 and error.code != 429:
                raise PostError(last_error) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            last_error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        if attempt < attempts - 1:
            time.sleep(delay)
            delay *= 2
    raise PostError(f"{url} unreachable after {attempts} attempts ({last_error})")


def keep_unsent(document: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{document['run']['id']}.json"
    path.write_text(json.dumps(document))
    return path
