"""Store throughput: import rate into SQLite, and one series' history read from a 1M-sample store.

Usage: python benchmarks/store_bench.py [--out results/store/bench.json]
Builds its databases in a temporary directory; prints and optionally writes the numbers.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from perfci.document import parse_document
from perfci.store import models
from perfci.store.ingest import ingest_document
from perfci.store.migrate import open_store
from perfci.store.queries import series_history
from perfci.testing import make_document


def import_rate(directory: Path, documents: int, cases: int, samples: int) -> dict:
    raw = [make_document(commit_index=i, cases=cases, samples=samples, seed=i) for i in range(documents)]
    store = open_store(f"sqlite:///{directory / 'import.db'}")
    start = time.perf_counter()
    for data in raw:
        ingest_document(store, parse_document(data))
    elapsed = time.perf_counter() - start
    store.dispose()
    results = documents * cases
    return {
        "documents": documents,
        "results": results,
        "samples_per_result": samples,
        "seconds": elapsed,
        "results_per_s": results / elapsed,
    }


def history_read(directory: Path, commits: int, cases: int, samples: int, repeats: int) -> dict:
    store = open_store(f"sqlite:///{directory / 'big.db'}")
    start = time.perf_counter()
    for i in range(commits):
        ingest_document(store, parse_document(make_document(commit_index=i, cases=cases, samples=samples, seed=i)))
    build_s = time.perf_counter() - start
    with store.read() as session:
        total_samples = session.scalar(select(func.sum(models.Result.n_samples)))
        series_id = session.scalars(select(models.Series.id).order_by(models.Series.id)).first()
    gc.collect()  # the build's garbage is not the reader's cost
    for _ in range(3):  # warm the page cache: the dashboard reads a hot database
        with store.read() as session:
            series_history(session, series_id)
    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with store.read() as session:
            rows = series_history(session, series_id)
        timings.append((time.perf_counter() - t0) * 1000)
    assert len(rows) == commits
    store.dispose()
    timings.sort()
    return {
        "store_samples": int(total_samples),
        "series_points": len(rows),
        "build_s": build_s,
        "read_ms_median": statistics.median(timings),
        "read_ms_p95": timings[int(0.95 * (len(timings) - 1))],
        "read_ms_min": timings[0],
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--commits", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        report = {
            "machine": f"{platform.machine()} cpus={os.cpu_count()}",
            "python": platform.python_version(),
            "import": import_rate(directory, documents=200, cases=25, samples=20),
            "history": history_read(directory, commits=args.commits, cases=5, samples=20, repeats=30),
        }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
