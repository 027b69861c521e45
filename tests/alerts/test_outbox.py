"""The alert outbox on SQLite and PostgreSQL: POST /api/runs never waits on a webhook, a run is
stored, judged and its alerts queued in one transaction (kill -9 leaves all or nothing), each
queued delivery is sent exactly once by racing senders, a sender that died loses nothing."""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
from sqlalchemy import func, select, update

from dashboard import create_app
from perfci.alerts.notify import deliver_now, queue_unalerted, send_due
from perfci.alerts.sender import OutboxSender
from perfci.config import PerfciConfig, ServerConfig, Webhook
from perfci.document import parse_document
from perfci.pipeline import process_document
from perfci.store import models, outbox
from perfci.store.migrate import open_store
from perfci.tokens import hash_token
from tests.store.test_judge import _doc

TOKEN = "outbox-write-token"


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []
    release: ClassVar[threading.Event] = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/hang":
            Hook.release.wait(60)  # a webhook that never answers in time
        Hook.received.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[str]:
    Hook.received.clear()
    Hook.release.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    Hook.release.set()
    server.shutdown()


def _config(url: str) -> PerfciConfig:
    return PerfciConfig(
        webhook=[
            Webhook(name="ok", url=f"{url}/ok", backoff_s=0.01),
            Webhook(name="hang", url=f"{url}/hang", timeout_s=20, attempts=1),
        ],
        server=ServerConfig(write_tokens=[hash_token(TOKEN)], secret_key="k"),
    )


def _history(store, config: PerfciConfig, commits: int = 8) -> None:
    for commit in range(commits):
        process_document(store, config, parse_document(_doc(commit, [1.0], seed=commit, processes=3)))


def test_a_hanging_webhook_never_slows_a_post_or_a_page(db_url, hooks):
    config = _config(hooks)
    app = create_app(db_url, config)
    store = app.extensions["perfci"]["store"]
    _history(store, config)
    client = app.test_client()
    start = time.monotonic()
    answer = client.post(
        "/api/runs", json=_doc(8, [1.10], seed=8, processes=3), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    posted_in = time.monotonic() - start
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert [f["kind"] for f in body["findings"]] == ["latency"]
    assert [(a["webhook"], a["status"]) for a in body["alerts"]] == [("ok", "pending"), ("hang", "pending")]
    assert posted_in < 1.0

    sender = OutboxSender(store, config, poll_s=0.05)
    sender.start()
    try:
        deadline = time.monotonic() + 10
        while "/ok" not in Hook.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert Hook.received == ["/ok"]
        start = time.monotonic()  # the sender now waits on the hanging hook: pages do not
        assert client.get("/").status_code == 200
        assert client.get("/regressions").status_code == 200
        assert time.monotonic() - start < 2.0
        statuses = {row.webhook: row.status for row in outbox.deliveries(store)}
        assert statuses == {"ok": "sent", "hang": "sending"}
    finally:
        Hook.release.set()
        sender.stop(timeout_s=10)
    assert {row.webhook: row.status for row in outbox.deliveries(store)} == {"ok": "sent", "hang": "sent"}
    store.dispose()


KILL_IN_JUDGE = """
import os, signal, sys, json
import perfci.pipeline as pipeline
from perfci.config import PerfciConfig, Webhook
from perfci.document import parse_document
from perfci.store.migrate import open_store

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

pipeline.judge_stored_run = die  # the process dies after storing, inside judging
config = PerfciConfig(webhook=[Webhook(name="ok", url="http://127.0.0.1:9/ok")])
pipeline.process_document(open_store(sys.argv[1]), config, parse_document(json.loads(sys.argv[2])))
"""


def test_kill_9_while_judging_leaves_nothing_and_a_retry_stores_judges_and_queues(db_url):
    config = PerfciConfig(webhook=[Webhook(name="ok", url="http://127.0.0.1:9/ok")])
    store = open_store(db_url)
    _history(store, config)
    regressed = _doc(8, [1.10], seed=8, processes=3)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_IN_JUDGE, db_url, json.dumps(regressed)],
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Run)) == 8  # not stored unjudged
    processed = process_document(store, config, parse_document(regressed))  # the runner's retry
    assert processed.stored and [f.kind for f in processed.findings] == ["latency"]
    assert [row.status for row in outbox.deliveries(store, ids=processed.deliveries)] == ["pending"]
    again = process_document(store, config, parse_document(regressed))  # idempotent, and still gates
    assert not again.stored and [f.kind for f in again.findings] == ["latency"]
    assert len(outbox.deliveries(store)) == 1
    store.dispose()


def test_alerts_of_a_run_whose_confirmation_never_finished_are_swept_into_the_outbox(db_url):
    config = PerfciConfig(webhook=[Webhook(name="ok", url="http://127.0.0.1:9/ok", kinds=["suspected", "latency"])])
    store = open_store(db_url)
    _history(store, config)

    def dies(_suspects):
        raise KeyboardInterrupt  # the runner stopped while re-measuring

    with pytest.raises(KeyboardInterrupt):
        process_document(store, config, parse_document(_doc(8, [1.10], seed=8)), confirm=dies)
    assert outbox.deliveries(store) == []
    assert queue_unalerted(store, config, older_than_s=3600) == 0  # it may still be re-measuring
    assert queue_unalerted(store, config, older_than_s=0) == 1
    (row,) = outbox.deliveries(store)
    assert row.status == "pending" and row.payload["findings"][0]["kind"] == "suspected"
    assert queue_unalerted(store, config, older_than_s=0) == 0  # swept once
    store.dispose()


def test_racing_senders_send_each_delivery_once_and_a_dead_senders_claim_expires(db_url, hooks):
    config = PerfciConfig(webhook=[Webhook(name="ok", url=f"{hooks}/ok", backoff_s=0.01)])
    store = open_store(db_url)
    _history(store, config, commits=1)
    with store.read() as session:
        (run_uuid,) = session.scalars(select(models.Run.uuid)).all()
    with store.write() as session:
        ids = outbox.enqueue(
            session, run_uuid, [outbox.QueuedDelivery("ok", f"{hooks}/ok", {"n": n}) for n in range(30)]
        )
    threads = [threading.Thread(target=lambda: [send_due(store, config) for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # an attempt the loaded machine failed (the hook's socket, the store's lock) is retried, never repeated
    deliver_now(store, config, ids)
    assert len(Hook.received) == 30
    assert {row.status for row in outbox.deliveries(store, ids=ids)} == {"sent"}

    with store.write() as session:  # a sender claimed this one and died (kill -9) before sending it
        (orphan,) = outbox.enqueue(session, run_uuid, [outbox.QueuedDelivery("ok", f"{hooks}/ok", {"n": 30})])
        session.execute(update(models.AlertDelivery).where(models.AlertDelivery.id == orphan).values(status="sending"))
    assert send_due(store, config, lease_s=300) == []  # still within its lease
    time.sleep(0.05)
    (sent,) = send_due(store, config, lease_s=0.01)
    assert sent.id == orphan and sent.status == "sent" and len(Hook.received) == 31
    store.dispose()
