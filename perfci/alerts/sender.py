"""The outbox sender of ``perfci serve``: a background thread that sends queued webhook deliveries.

It runs beside the request threads, never inside them, so a hanging webhook slows only its own
deliveries. Every ``poll_s`` it sends what is due and queues the alerts of runs whose
re-measurement was cut short (stored more than ``sweep_after_s`` ago, alerts never queued). Several
servers on one PostgreSQL store may each run one: a delivery is claimed by exactly one sender.
"""

from __future__ import annotations

import logging
import threading

from perfci.alerts.notify import DEFAULT_LEASE_S, queue_unalerted, send_due
from perfci.config import PerfciConfig
from perfci.store.engine import Store

log = logging.getLogger(__name__)

#: a run's confirmation (``perfci run``) finishes within its budget; after this its alerts are swept
SWEEP_AFTER_S = 3600.0


class OutboxSender(threading.Thread):
    def __init__(
        self,
        store: Store,
        config: PerfciConfig,
        *,
        poll_s: float = 1.0,
        lease_s: float = DEFAULT_LEASE_S,
        sweep_after_s: float = SWEEP_AFTER_S,
    ) -> None:
        super().__init__(name="perfci-outbox", daemon=True)
        self.store, self.config = store, config
        self.poll_s, self.lease_s, self.sweep_after_s = poll_s, lease_s, sweep_after_s
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                queue_unalerted(self.store, self.config, older_than_s=self.sweep_after_s)
                while send_due(self.store, self.config, lease_s=self.lease_s) and not self._stop_event.is_set():
                    pass
            except Exception:  # a database hiccup must not end the thread: log it, try again next poll
                log.exception("perfci outbox: sending queued alerts failed; retrying in %.0f s", self.poll_s)
            self._stop_event.wait(self.poll_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop_event.set()
        self.join(timeout_s)
