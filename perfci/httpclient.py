"""POST JSON with retries: exponential back-off on connection errors, 5xx and 429; other 4xx are final."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import tenacity


class PostError(RuntimeError):
    """The server did not accept the body; ``attempts`` says how many tries were made, ``final``
    whether trying again cannot help (a 4xx other than 429)."""

    def __init__(self, message: str, attempts: int, final: bool = False) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.final = final


class _Retryable(Exception):
    """A try that failed in a way another try may not: network errors, 5xx, 429."""


def post_json(
    url: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    attempts: int = 5,
    first_delay_s: float = 1.0,
    timeout_s: float = 30.0,
) -> tuple[dict[str, Any], int]:
    """(the response as JSON, or {"response": text}; the attempts it took). Back-off doubles from
    ``first_delay_s`` between tries."""
    body = json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **(headers or {})}

    def send(attempt: int) -> dict[str, Any]:
        request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                text = response.read().decode(errors="replace") or "{}"
                return json.loads(text) if text.strip().startswith("{") else {"response": text}
        except urllib.error.HTTPError as error:
            detail = f"HTTP {error.code}: {error.read().decode(errors='replace')[:500]}"
            if error.code < 500 and error.code != 429:
                raise PostError(detail, attempt, final=True) from None
            raise _Retryable(detail) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
            raise _Retryable(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_Retryable),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_exponential(multiplier=first_delay_s),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                return send(number), number
    except _Retryable as error:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        raise PostError(f"{url} failed{tries} ({error})", attempts) from None
    raise AssertionError("tenacity either returns or raises")
