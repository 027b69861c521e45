"""Soak: 8 remote runners x 100 documents against `perfci serve` on PostgreSQL, with a webhook that
never answers and two kill -9s of the server mid-stream.

    python benchmarks/soak.py --out results/dashboard/soak.json [--pg postgresql://postgres@127.0.0.1:5432/test]

Each runner posts its own repository's 100 commits in order (2 cases, 3 processes each; case0 is
10% slower from commit 60 on), retrying a refused connection or a 5xx as the runner does, and
re-posting a document whose answer it never got. A reader thread loads the overview, the
regression list and /api/series meanwhile. The server runs with 8 threads; its webhooks are one
that never answers (5 s timeout, 2 attempts) and one that records what it receives. The server is
killed with SIGKILL after 1/3 and 2/3 of the posts and started again on the same port.

Checked at the end, in the store: every document stored exactly once, every result of every run
judged, every run's alerts queued, exactly one latency finding per runner (case0 at commit 60) and
nothing else; 0 answers 5xx. Reported: POST and page latency percentiles under load, deliveries by
status, and what the recording webhook received.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, select, text

from perfci.store import models
from perfci.store.migrate import open_store
from perfci.tokens import hash_token

RUNNERS, DOCUMENTS, STEP_AT = 8, 100, 60
TOKEN = "soak-write-token"


class Hooks(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []
    stop = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/hang":
            Hooks.stop.wait(600)
            return
        Hooks.received.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _document(runner: int, commit: int) -> dict:
    rng = random.Random(runner * 1000 + commit)
    results = []
    for case, base in enumerate((0.5, 1.0)):
        level = base * (1.10 if case == 0 and commit >= STEP_AT else 1.0)
        groups = [[level * (1 + rng.gauss(0, 0.002)) * (1 + rng.gauss(0, 0.003)) for _ in range(20)] for _ in range(3)]
        results.append(
            {
                "case": f"decode/bf16/soak{case}",
                "op": "paged_decode",
                "params": {"B": 8},
                "status": "ok",
                "unit": "ms",
                "samples": [x for g in groups for x in g],
                "processes": [{"samples": g} for g in groups],
                "correctness": {"rel_err": 0.001, "tolerance": 0.01, "passed": True},
            }
        )
    sha = uuid.uuid5(uuid.NAMESPACE_URL, f"soak-{runner}-{commit}").hex + "00000000"
    parent = uuid.uuid5(uuid.NAMESPACE_URL, f"soak-{runner}-{commit - 1}").hex + "00000000"
    return {
        "schema": "perfci.results/1",
        "run": {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"soak-run-{runner}-{commit}")),
            "repo": f"soak-{runner}",
            "commit": {
                "sha": sha,
                "parents": [parent] if commit else [],
                "branch": "main",
                "authored_at": f"2026-01-01T00:{commit // 60:02d}:{commit % 60:02d}+00:00",
            },
            "trigger": "push",
            "status": "complete",
            "environment": {
                "device_kind": "cuda",
                "device_name": "NVIDIA H200",
                "hostname": f"runner-{runner}",
                "driver": "580",
                "cuda": "12.8",
                "torch": "2.11",
                "triton": "3.6",
            },
        },
        "results": results,
    }


class Server:
    def __init__(self, port: int, config: Path, db_url: str, log: Path) -> None:
        self.port, self.config, self.db_url, self.log = port, config, db_url, log
        self.process: subprocess.Popen | None = None

    def start(self) -> float:
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "perfci",
                "serve",
                "--port",
                str(self.port),
                "--threads",
                "8",
                "--config",
                str(self.config),
                "--db",
                self.db_url,
            ],
            stderr=self.log.open("a"),
            stdout=subprocess.DEVNULL,
        )
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/openapi.json", timeout=2)
                return time.monotonic() - began
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def _post(url: str, body: bytes, timings: list[float], statuses: list[int]) -> dict:
    """POST until answered (a runner's retries): refused or reset connections and 5xx are retried."""
    delay = 0.2
    while True:
        request = urllib.request.Request(
            url, body, {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        )
        began = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                timings.append(time.monotonic() - began)
                statuses.append(answer.status)
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
            if error.code < 500:
                raise
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.RemoteDisconnected):
            statuses.append(0)  # no answer: the server is down (killed) or restarting
        time.sleep(delay)
        delay = min(delay * 2, 5)


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
    return {
        "n": len(values),
        "p50_ms": round(pick(0.5), 1),
        "p95_ms": round(pick(0.95), 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    work = Path("/tmp/perfci-soak")
    work.mkdir(exist_ok=True)
    schema = f"soak_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    db_url = f"{args.pg}?options=-csearch_path%3D{schema}"
    hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    hooks.daemon_threads = True
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{hooks.server_address[1]}"
    config = work / "perfci.toml"
    config.write_text(
        f'[server]\nwrite_tokens = ["{hash_token(TOKEN)}"]\nsecret_key = "soak"\n\n'
        f'[[webhook]]\nname = "hangs"\nurl = "{hook_url}/hang"\ntimeout_s = 5\nattempts = 2\n'
        f'backoff_s = 1\n\n[[webhook]]\nname = "records"\nurl = "{hook_url}/ok"\n'
    )
    port = _free_port()
    server = Server(port, config, db_url, work / "server.log")
    started = [server.start()]
    base = f"http://127.0.0.1:{port}"
    post_timings: list[float] = []
    statuses: list[int] = []
    page_timings: dict[str, list[float]] = {"/": [], "/regressions": [], "/api/series": []}
    page_statuses: list[int] = []
    posted = [0]
    done = threading.Event()
    gating: list[int] = []

    def runner(index: int) -> None:
        for commit in range(DOCUMENTS):
            body = json.dumps(_document(index, commit)).encode()
            answer = _post(base + "/api/runs", body, post_timings, statuses)
            gating.extend(1 for f in answer["findings"] if f["kind"] in ("latency", "correctness", "missing"))
            posted[0] += 1

    def reader() -> None:
        while not done.is_set():
            for path, timings in page_timings.items():
                began = time.monotonic()
                try:
                    with urllib.request.urlopen(base + path, timeout=60) as page:
                        page.read()
                        timings.append(time.monotonic() - began)
                        page_statuses.append(page.status)
                except urllib.error.HTTPError as error:
                    page_statuses.append(error.code)
                except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.RemoteDisconnected):
                    page_statuses.append(0)
                time.sleep(0.05)

    began = time.monotonic()
    threads = [threading.Thread(target=runner, args=(i,)) for i in range(RUNNERS)]
    reading = threading.Thread(target=reader)
    for thread in [*threads, reading]:
        thread.start()
    kills = []
    for fraction in (1 / 3, 2 / 3):
        while posted[0] < fraction * RUNNERS * DOCUMENTS:
            time.sleep(0.05)
        server.kill()
        kills.append(posted[0])
        started.append(server.start())
    for thread in threads:
        thread.join()
    done.set()
    reading.join()
    elapsed = time.monotonic() - began
    time.sleep(8)  # the sender sends what the last runs queued
    server.stop()
    Hooks.stop.set()

    store = open_store(db_url)
    with store.read() as session:
        runs = session.scalar(select(func.count()).select_from(models.Run))
        distinct_runs = session.scalar(select(func.count(func.distinct(models.Run.uuid))))
        results = session.scalar(select(func.count()).select_from(models.Result))
        judged = session.scalar(
            select(func.count()).select_from(models.Result).where(models.Result.judgement.isnot(None))
        )
        alerted = session.scalar(select(func.count()).select_from(models.Run).where(models.Run.alerted_at.isnot(None)))
        findings = session.execute(
            select(models.Regression.kind, models.Case.key, func.count())
            .join(models.Series, models.Series.id == models.Regression.series_id)
            .join(models.Case, models.Case.id == models.Series.case_id)
            .group_by(models.Regression.kind, models.Case.key)
        ).all()
        deliveries = dict(
            session.execute(
                select(models.AlertDelivery.webhook + ":" + models.AlertDelivery.status, func.count()).group_by(
                    models.AlertDelivery.webhook, models.AlertDelivery.status
                )
            ).all()
        )
    store.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    five_hundreds = sum(1 for s in statuses + page_statuses if s >= 500)
    report = {
        "store": "PostgreSQL",
        "runners": RUNNERS,
        "documents_each": DOCUMENTS,
        "server_threads": 8,
        "killed_after_posts": kills,
        "server_start_s": [round(s, 1) for s in started],
        "elapsed_s": round(elapsed, 1),
        "runs_stored": runs,
        "distinct_run_ids": distinct_runs,
        "results": results,
        "results_judged": judged,
        "runs_with_alerts_queued": alerted,
        "findings": [{"kind": k, "case": c, "count": n} for k, c, n in findings],
        "gating_findings_answered": sum(gating),
        "answers_5xx": five_hundreds,
        "post_attempts_without_answer": statuses.count(0),
        "post_latency": _percentiles(post_timings),
        "pages": {path: _percentiles(t) for path, t in page_timings.items() if t},
        "deliveries": deliveries,
        "recording_webhook_received": len(Hooks.received),
        "machine": f"{os.cpu_count()} cores",
    }
    ok = (
        runs == distinct_runs == RUNNERS * DOCUMENTS
        and judged == results
        and alerted == runs
        and five_hundreds == 0
        and findings
        and all(k == "latency" and c.endswith("soak0") and n == RUNNERS for k, c, n in findings)
    )
    report["all_checks_hold"] = bool(ok)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
