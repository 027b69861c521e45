"""Send a judged run's findings to the configured webhooks and record every delivery.

The run is already stored when this runs, so a failing webhook can never lose a result. Each
delivery (sent or failed, with its payload, attempts and last error) is a row of
``alert_deliveries``: failures are printed by the caller and listed by ``perfci alerts``, which
re-sends them with ``--retry``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from perfci.alerts.webhook import AlertContext, body_for
from perfci.config import ConfigError, PerfciConfig, Webhook
from perfci.document import ResultsDocument
from perfci.findings import Finding
from perfci.httpclient import PostError, post_json
from perfci.store import models
from perfci.store.engine import Store, retry_transient


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook: str
    status: str  # "sent" | "failed"
    attempts: int
    error: str | None


def _send(hook: Webhook, payload: dict) -> tuple[str, int, str | None]:
    try:
        _, attempts = post_json(hook.url, payload, headers=hook.resolved_headers(), attempts=hook.attempts,
                                first_delay_s=hook.backoff_s, timeout_s=hook.timeout_s)  # fmt: skip
        return "sent", attempts, None
    except PostError as error:
        return "failed", error.attempts, str(error)
    except ConfigError as error:  # a header's ${VAR} is unset: a failed delivery, kept for --retry
        return "failed", 0, str(error)


def _save(store: Store, row: models.AlertDelivery) -> int:
    def attempt() -> int:
        with store.write() as session:
            session.add(row)
            session.flush()
            return row.id

    return retry_transient(attempt)


def notify(store: Store, config: PerfciConfig, context: AlertContext, findings: Sequence[Finding]) -> list[Delivery]:
    """One delivery per webhook that has findings of its kinds; nothing to send -> no delivery."""
    deliveries = []
    for hook in config.webhooks:
        chosen = [f for f in findings if f.kind in hook.kinds]
        if not chosen:
            continue
        payload = body_for(hook.format, context, chosen)
        status, attempts, error = _send(hook, payload)
        now = models.utcnow()
        row = models.AlertDelivery(run_uuid=uuid.UUID(context.run_id), webhook=hook.name, url=hook.url,
                                   payload=payload, status=status, attempts=attempts, last_error=error,
                                   created_at=now, updated_at=now)  # fmt: skip
        deliveries.append(Delivery(_save(store, row), hook.name, status, attempts, error))
    return deliveries


def alert_context(document: ResultsDocument, run_uuid: uuid.UUID) -> AlertContext:
    """Which run a document's findings come from, for the webhook bodies."""
    run = document.run
    return AlertContext(str(run_uuid), run.repo, run.commit.sha, run.commit.branch, run.trigger,
                        run.environment.device_name)  # fmt: skip


def failed_deliveries(store: Store) -> list[models.AlertDelivery]:
    with store.read() as session:
        query = select(models.AlertDelivery).where(models.AlertDelivery.status == "failed")
        return list(session.scalars(query.order_by(models.AlertDelivery.created_at, models.AlertDelivery.id)))


def retry_failed(store: Store, config: PerfciConfig) -> list[Delivery]:
    """Re-send every failed delivery with its stored payload (the webhook's current settings)."""
    hooks = {hook.name: hook for hook in config.webhooks}
    out = []
    for row in failed_deliveries(store):
        hook = hooks.get(row.webhook) or Webhook(name=row.webhook, url=row.url)
        status, attempts, error = _send(hook, row.payload)

        def attempt(row_id: int = row.id, status: str = status, attempts: int = attempts,
                    error: str | None = error) -> None:  # fmt: skip
            with store.write() as session:
                stored = session.get(models.AlertDelivery, row_id)
                assert stored is not None
                stored.status, stored.last_error = status, error
                stored.attempts += attempts
                stored.updated_at = models.utcnow()

        retry_transient(attempt)
        out.append(Delivery(row.id, row.webhook, status, row.attempts + attempts, error))
    return out
