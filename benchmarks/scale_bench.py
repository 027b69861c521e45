"""What a fleet asks of the store and the broker, measured on this machine (docs/scale.md).

    python benchmarks/scale_bench.py --out results/scale/scale.json [--pg postgresql://...]

- **push documents**: copies of a real H200 smoke run (results/runner/smoke-phases-after.json: 14
  cases, 20-203 samples each), one commit apart, through ``perfci.pipeline.process_document`` (store,
  judge, alert planning: what ``POST /api/runs`` and ``perfci run`` do) on SQLite and PostgreSQL;
  seconds per document and the store's bytes per run once ``--runs`` are in.
- **jobs**: ``queue_job`` + ``claim`` + ``beat`` + ``finish`` per job on each store (what one pool job
  costs the store).
- **broker**: Celery ``send_task`` of ``perfci.execute`` messages to the local RabbitMQ (a queue of
  its own, purged afterwards): messages per second a submitter can publish.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sqlalchemy import create_engine, text

from perfci.config import PerfciConfig
from perfci.document import parse_document
from perfci.pipeline import process_document
from perfci.store import jobs as job_rows
from perfci.store.migrate import open_store
from perfci.testing import make_document

TEMPLATE = Path(__file__).resolve().parents[1] / "results" / "runner" / "smoke-phases-after.json"


def _document(template: dict[str, Any], index: int, rng: np.random.Generator) -> dict[str, Any]:
    """The template as commit ``index`` of a branch: new ids, times and per-process noise."""
    data = copy.deepcopy(template)
    data["run"]["id"] = str(uuid.uuid4())
    data["run"]["trigger"] = "push"
    data["run"]["commit"] = make_document(commit_index=index, cases=0)["run"]["commit"]
    for result in data["results"]:
        if result.get("samples"):
            scale = float(1 + rng.normal(0, 0.003))
            result["samples"] = [x * scale for x in result["samples"]]
            for process in result.get("processes") or []:
                process["samples"] = [x * scale for x in process["samples"]]
    return data


def _store_bytes(url: str) -> int:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    engine = create_engine(url)
    with engine.connect() as connection:
        size = connection.execute(
            text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        ).scalar_one()
    engine.dispose()
    return int(size)


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "p95": ordered[int(0.95 * (len(ordered) - 1))], "max": ordered[-1]}


def measure_store(url: str, runs: int, jobs: int) -> dict[str, Any]:
    template = json.loads(TEMPLATE.read_text())
    rng = np.random.default_rng(0)
    store = open_store(url)
    config = PerfciConfig()
    empty = _store_bytes(url)
    seconds = []
    try:
        for index in range(runs):
            document = parse_document(_document(template, index, rng))
            start = time.perf_counter()
            process_document(store, config, document)
            seconds.append(time.perf_counter() - start)
        stored = _store_bytes(url)
        start = time.perf_counter()
        for _ in range(jobs):
            job_id = job_rows.queue_job(store, "run", "https://example.com/kernels.git", ["--commit", "abc"], "h200")
            job_rows.claim(store, job_id, "h200-0@bench", 60.0)
            job_rows.beat(store, job_id, "h200-0@bench")
            job_rows.finish(store, job_id, "h200-0@bench", 0, "done", None)
        job_seconds = time.perf_counter() - start
    finally:
        store.dispose()
    cases = len(template["results"])
    samples = sum(len(r.get("samples") or []) for r in template["results"])
    return {
        "runs": runs,
        "cases_per_run": cases,
        "samples_per_run": samples,
        "document_bytes": len(json.dumps(template)),
        "process_document_s": _quantiles(seconds),
        "store_bytes_per_run": (stored - empty) / runs,
        "jobs": jobs,
        "jobs_per_s": jobs / job_seconds,
    }


def measure_broker(url: str, messages: int) -> dict[str, Any]:
    from perfci.jobs.tasks import TASK, make_app

    app = make_app(url)
    queue = f"scale-bench-{uuid.uuid4().hex[:8]}"
    try:
        with app.connection_for_write() as connection, app.producer_pool.acquire(block=True) as producer:
            connection.ensure_connection(max_retries=1)
            start = time.perf_counter()
            for _ in range(messages):
                app.send_task(TASK, args=[str(uuid.uuid4())], queue=queue, producer=producer)
            seconds = time.perf_counter() - start
        with app.connection_for_write() as connection:
            channel = connection.default_channel
            channel.queue_delete(queue)
    finally:
        app.close()
    return {"broker": url.split("@")[-1], "messages": messages, "messages_per_s": messages / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": f"{os.uname().machine} cpus={os.cpu_count()}", "stores": {}}
    with tempfile.TemporaryDirectory() as tmp:
        report["stores"]["sqlite"] = measure_store(f"sqlite:///{tmp}/scale.db", args.runs, args.jobs)
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        report["stores"]["postgresql"] = measure_store(
            f"{args.pg}?options=-csearch_path%3D{schema}", args.runs, args.jobs
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    report["broker"] = measure_broker(args.broker, args.messages)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
