"""Which webhooks a run's findings go to, and sending what the outbox holds.

Deliveries are planned when a run is judged and queued in the store with the judgement
(``perfci.store.outbox``); they are sent afterwards — by ``perfci serve``'s sender thread
(:mod:`perfci.alerts.sender`), or right away by ``perfci run`` / ``perfci import``, which wait for
their own run's deliveries — so a request never waits on a webhook and a stored run never loses its
alerts. Each try is one POST; a failed try is due again after the webhook's back-off (doubling),
until its ``attempts`` are spent; then the delivery is ``failed``, listed by ``perfci alerts`` and
re-queued by ``--retry``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from perfci.alerts.webhook import AlertContext, body_for
from perfci.config import ConfigError, PerfciConfig, Webhook
from perfci.document import ResultsDocument
from perfci.findings import Finding
from perfci.httpclient import PostError, post_json
from perfci.store import models, outbox
from perfci.store.engine import Store, retry_transient
from perfci.store.queries import recorded_findings, run_identity

#: a delivery left "sending" this long by a sender that stopped is claimed again
DEFAULT_LEASE_S = 300.0
#: deliveries tried at once by one sender
SENDERS = 8


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook: str
    status: str  # "pending" | "sending" | "sent" | "failed"
    attempts: int
    error: str | None


def plan(config: PerfciConfig, context: AlertContext, findings: Sequence[Finding]) -> list[outbox.QueuedDelivery]:
    """One delivery per webhook that has findings of its kinds; nothing to send -> no delivery."""
    planned = []
    for hook in config.webhooks:
        chosen = [f for f in findings if f.kind in hook.kinds]
        if chosen:
            planned.append(outbox.QueuedDelivery(hook.name, hook.url, body_for(hook.format, context, chosen)))
    return planned


def alert_context(document: ResultsDocument, run_uuid: uuid.UUID) -> AlertContext:
    """Which run a document's findings come from, for the webhook bodies."""
    run = document.run
    return AlertContext(
        str(run_uuid), run.repo, run.commit.sha, run.commit.branch, run.trigger, run.environment.device_name
    )


def _try_once(hook: Webhook, payload: dict) -> tuple[bool, str | None, bool]:
    """(sent, error, final): one POST; ``final`` when trying again cannot help."""
    try:
        post_json(hook.url, payload, headers=hook.resolved_headers(), attempts=1, timeout_s=hook.timeout_s)
        return True, None, False
    except PostError as error:
        return False, str(error), error.final
    except ConfigError as error:  # a header's ${VAR} is unset: fails until the environment is fixed
        return False, str(error), True


def _send_one(store: Store, hooks: dict[str, Webhook], claimed: outbox.ClaimedDelivery) -> Delivery:
    hook = hooks.get(claimed.webhook) or Webhook(name=claimed.webhook, url=claimed.url)
    sent, error, final = _try_once(hook, claimed.payload)
    attempts = claimed.attempts + 1
    if sent:
        status, retry_at = "sent", None
    elif final or attempts >= hook.attempts:
        status, retry_at = "failed", None
    else:
        status, retry_at = "pending", models.utcnow() + timedelta(seconds=hook.backoff_s * 2 ** (attempts - 1))
    outbox.finish(store, claimed.id, status=status, error=error, retry_at=retry_at)
    return Delivery(claimed.id, claimed.webhook, status, attempts, error)


def send_due(
    store: Store,
    config: PerfciConfig,
    *,
    ids: list[int] | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    limit: int = 20,
) -> list[Delivery]:
    """Claim the due deliveries (``ids``: only those), try each once — side by side, so a webhook
    that hangs holds up only its own deliveries — and record the outcomes."""
    hooks = {hook.name: hook for hook in config.webhooks}
    claimed = outbox.claim_due(store, lease_s=lease_s, limit=limit, ids=ids)
    if not claimed:
        return []
    with ThreadPoolExecutor(max_workers=min(len(claimed), SENDERS)) as pool:
        return list(pool.map(lambda c: _send_one(store, hooks, c), claimed))


def deliver_now(store: Store, config: PerfciConfig, ids: list[int], *, poll_s: float = 0.2) -> list[Delivery]:
    """Send these deliveries until each is sent or failed, waiting out their back-offs: the CLI's
    way, where the user waits for the outcome anyway."""
    while True:
        send_due(store, config, ids=ids)
        rows = outbox.deliveries(store, ids=ids)
        if all(row.status in ("sent", "failed") for row in rows):
            return [Delivery(r.id, r.webhook, r.status, r.attempts, r.last_error) for r in rows]
        time.sleep(poll_s)


def queue_for_run(store: Store, config: PerfciConfig, context: AlertContext, findings: Sequence[Finding]) -> list[int]:
    """Queue a run's alerts in their own transaction (after a re-measurement changed its findings)."""

    def attempt() -> list[int]:
        with store.write() as session:
            return outbox.enqueue(session, uuid.UUID(context.run_id), plan(config, context, findings))

    return retry_transient(attempt)


def queue_unalerted(store: Store, config: PerfciConfig, *, older_than_s: float) -> int:
    """Queue the recorded findings of runs whose alerts were never queued because the process that
    was re-measuring them stopped; returns how many runs were swept."""
    swept = 0
    for run_uuid in outbox.runs_awaiting_alerts(store, older_than_s=older_than_s):
        with store.read() as session:
            context = AlertContext(**run_identity(session, run_uuid))
            findings = recorded_findings(session, run_uuid)
        queue_for_run(store, config, context, findings)
        swept += 1
    return swept


def failed_deliveries(store: Store) -> list[models.AlertDelivery]:
    return outbox.deliveries(store, status="failed")


def retry_failed(store: Store, config: PerfciConfig) -> list[Delivery]:
    """Re-queue every failed delivery with a fresh set of attempts and send them now."""
    ids = outbox.requeue_failed(store)
    return deliver_now(store, config, ids) if ids else []
