"""Send a results document to a perfci server, with retries; keep it on disk when that fails.

The server judges what it stores and answers with its findings; the runner gates its CI job on
them, since a remote runner that stores nothing locally has no other verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfci.findings import Finding, Unjudged
from perfci.httpclient import PostError, post_json

__all__ = ["UNSENT_DIR", "PostError", "keep_unsent", "post_bisects", "post_confirmations", "post_document"]

#: Where a runner keeps documents it could not deliver (``perfci resend`` sends them).
UNSENT_DIR = Path(".perfci") / "unsent"


def post_document(
    url: str,
    token: str | None,
    document: dict[str, Any],
    *,
    attempts: int = 5,
    first_delay_s: float = 1.0,
    timeout_s: float = 30.0,
) -> tuple[list[Finding], list[Unjudged]]:
    """POST the document with the write token; the server's findings for it and the cases it did
    not judge (or judged without gating), with why. 4xx (a bad document or
    token) is final; an answer without a ``findings`` list is not a perfci server's and fails too."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response, attempts = post_json(
        url, document, headers=headers, attempts=attempts, first_delay_s=first_delay_s, timeout_s=timeout_s
    )
    findings = response.get("findings")
    if not isinstance(findings, list):
        raise PostError(
            f"{url} answered without a findings list ({str(response)[:200]}); is it a perfci server's /api/runs?",
            attempts,
        )
    try:
        return (
            [Finding.from_json(item) for item in findings],
            [Unjudged(str(item["case"]), str(item["reason"])) for item in response.get("not_judged") or []],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise PostError(f"{url} answered with a malformed finding ({error!r})", attempts) from None


def post_confirmations(
    url: str, token: str | None, run_id: str, verdicts: dict[str, dict[str, Any]], *, attempts: int = 5
) -> list[Finding]:
    """POST this runner's re-measurements of the server's suspicions (by case) to
    ``<url>/<run_id>/confirmations``; the run's findings after them, as the server recorded them."""
    body = {"confirmations": [{"case": case, "verdict": verdict} for case, verdict in verdicts.items()]}
    return _post_about_run(f"{url.rstrip('/')}/{run_id}/confirmations", token, body, attempts)


def post_bisects(
    url: str, token: str | None, run_id: str, searches: dict[str, dict[str, Any]], *, attempts: int = 5
) -> list[Finding]:
    """POST this runner's searches behind the server's slowdowns that the run's own processes
    proved (by case) to ``<url>/<run_id>/bisects``; the run's findings after them."""
    body = {"bisects": [{"case": case, "search": search} for case, search in searches.items()]}
    return _post_about_run(f"{url.rstrip('/')}/{run_id}/bisects", token, body, attempts)


def _post_about_run(url: str, token: str | None, body: dict[str, Any], attempts: int) -> list[Finding]:
    """POST what this runner measured about a run the server stored; the run's findings after it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response, attempts = post_json(url, body, headers=headers, attempts=attempts)
    findings = response.get("findings")
    if not isinstance(findings, list):
        raise PostError(f"{url} answered without a findings list ({str(response)[:200]})", attempts)
    try:
        return [Finding.from_json(item) for item in findings]
    except (KeyError, TypeError, ValueError) as error:
        raise PostError(f"{url} answered with a malformed finding ({error!r})", attempts) from None


def keep_unsent(document: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{document['run']['id']}.json"
    path.write_text(json.dumps(document))
    return path
