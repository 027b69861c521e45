"""POST JSON with retries: exponential back-off on connection errors, 5xx and 429; other 4xx are final."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


class PostError(RuntimeError):
    """The server did not accept the body; ``attempts`` says how many tries were made, ``final``
    whether trying again cannot help (a 4xx other than 429)."""

    def __init__(self, message: str, attempts: int, final: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.final = final


def post_json(
    url: str, payload: Any, *, headers: dict[str, str] | None = None, attempts: int = 5, first_delay_s: float = 1.0,
    timeout_s: float = 30.0,
) -> tuple[dict[str, Any], int]:  # fmt: skip
    """(the response as JSON, or {"response": text}; the attempts it took)."""
    body = json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    delay = first_delay_s
    last_error = ""
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                text = response.read().decode(errors="replace") or "{}"
                parsed = json.loads(text) if text.strip().startswith("{") else {"response": text}
                return parsed, attempt
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            last_error = f"HTTP {error.code}: {detail}"
            if error.code < 500 and error.code != 429:
                raise PostError(last_error, attempt, final=True) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
            last_error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        if attempt < attempts:
            time.sleep(delay)
            delay *= 2
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    raise PostError(f"{url} failed{tries} ({last_error})", attempts)
