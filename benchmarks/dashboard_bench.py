"""Dashboard and API latency on a store of >= 1,000,000 results (200 series x 5,000 commits).

Usage: python benchmarks/dashboard_bench.py [--series 200] [--commits 5000] [--repeats 30]
       [--db /tmp/perfci-dash-bench.db] [--out results/dashboard/bench.json]

The store is generated with bulk inserts (ingest + judge of a million results would take hours and
measures the writer, which store_bench.py does): 100 cases x 2 GPUs, 5,000 commits on main, a run
per commit and GPU, 8 float64 samples per result, ceilings per environment, and ~2 regressions per
series with verdicts. The app then runs on waitress (what `perfci serve` runs) in this process and
every page and API call is timed over real HTTP from a client thread: p50 / p95 / max in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import struct
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from dashboard import create_app
from perfci.config import PerfciConfig, ServerConfig
from perfci.store import models
from perfci.store.migrate import open_store
from perfci.testing import make_document, sha_for
from perfci.tokens import hash_token

TOKEN = "bench-token"
ENVIRONMENTS = [("NVIDIA H100 80GB HBM3", "h100fingerprint0"), ("NVIDIA H200", "h200fingerprint0")]


def generate(db_url: str, n_series: int, n_commits: int, n_samples: int) -> dict:
    rng = random.Random(0)
    store = open_store(db_url)
    t0 = time.perf_counter()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with store.write() as session:
        repo = models.Repository(name="bench/kernels")
        session.add(repo)
        session.flush()
        envs = []
        for name, fingerprint in ENVIRONMENTS:
            env = models.Environment(
                fingerprint=fingerprint,
                device_kind="cuda",
                device_name=name,
                driver="570.86",
                cuda="12.8",
                torch="2.11.0",
                triton="3.6.0",
                python="3.12",
            )
            session.add(env)
            envs.append(env)
        cases = []
        for i in range(n_series // len(envs)):
            op = "paged_decode" if i % 2 else "paged_prefill"
            dtype = ("bf16", "fp16", "int8kv")[i % 3]
            kind = "decode" if op == "paged_decode" else "prefill"
            case = models.Case(key=f"{kind}/{dtype}/bench-case-{i:03d}", op=op, params={"B": 8, "kv_len": 1024 * i})
            session.add(case)
            cases.append(case)
        session.flush()
        series = []
        for env in envs:
            for case in cases:
                s = models.Series(repository_id=repo.id, case_id=case.id, environment_id=env.id)
                session.add(s)
                series.append((s, case, env))
        session.flush()
        repo_id = repo.id
        series_rows = [(s.id, c.id, e.id, c.op) for s, c, e in series]
        env_ids = [e.id for e in envs]
    commits = [
        {
            "repository_id": repo_id,
            "sha": sha_for(f"bench-{i}"),
            "parents": [sha_for(f"bench-{i - 1}")] if i else [],
            "branch": "main",
            "authored_at": start + timedelta(minutes=30 * i),
            "author": "Bench <bench@example.com>",
            "message": f"kernels: change {i} <with> markup & text",
        }
        for i in range(n_commits)
    ]
    engine = store.engine
    with engine.begin() as connection:
        connection.execute(insert(models.Commit.__table__), commits)
        commit_ids = dict(connection.execute(select(models.Commit.sha, models.Commit.id)).all())
        runs = []
        for i in range(n_commits):
            for env_id in env_ids:
                runs.append(
                    {
                        "uuid": uuid.UUID(int=i * 16 + env_id),
                        "repository_id": repo_id,
                        "commit_id": commit_ids[sha_for(f"bench-{i}")],
                        "environment_id": env_id,
                        "trigger": "push",
                        "status": "complete",
                        "started_at": None,
                        "finished_at": None,
                        "ingested_at": (start + timedelta(minutes=30 * i + 20)),
                        "hostname": "runner",
                        "extra": {
                            "run": {"suite": "full"},
                            "environment_extra": {"ceilings": {"copy_gbps": 4100.0, "bf16_tflops": 720.0}},
                        },
                    }
                )
        connection.execute(insert(models.Run.__table__), runs)
        run_ids = {
            (r.commit_id, r.environment_id): r.id
            for r in connection.execute(select(models.Run.id, models.Run.commit_id, models.Run.environment_id))
        }
    level = {sid: rng.uniform(0.05, 5.0) for sid, *_ in series_rows}
    steps = {sid: sorted(rng.sample(range(100, n_commits), 2)) for sid, *_ in series_rows}
    regressions = []
    batch: list[dict] = []
    blobs: list[dict] = []
    next_id = 1
    for i in range(n_commits):
        commit_id = commit_ids[sha_for(f"bench-{i}")]
        at = start + timedelta(minutes=30 * i)
        for sid, case_id, env_id, op in series_rows:
            if i in steps[sid]:
                factor = 1.05 if steps[sid].index(i) == 0 else 0.97
                level[sid] *= factor
                regressions.append(
                    {
                        "series_id": sid,
                        "commit_id": commit_id,
                        "baseline_commit_id": commit_ids[sha_for(f"bench-{i - 1}")],
                        "kind": "latency" if factor > 1 else "improvement",
                        "change": factor - 1,
                        "verdict": {
                            "detector": "verdict",
                            "p_value": 1e-6,
                            "ci_low": factor - 1.01,
                            "ci_high": factor - 0.99,
                            "threshold": 0.02,
                            "min_detectable_change": 0.004,
                        },
                        "status": "open",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            values = [level[sid] * (1 + rng.gauss(0, 0.004)) for _ in range(n_samples)]
            ordered = sorted(values)
            median = ordered[n_samples // 2]
            batch.append(
                {
                    "id": next_id,
                    "run_id": run_ids[(commit_id, env_id)],
                    "case_id": case_id,
                    "series_id": sid,
                    "commit_id": commit_id,
                    "authored_at": at,
                    "status": "ok",
                    "error": None,
                    "unit": "ms",
                    "n_samples": n_samples,
                    "median": median,
                    "mean": sum(values) / n_samples,
                    "minimum": ordered[0],
                    "maximum": ordered[-1],
                    "q1": ordered[n_samples // 4],
                    "q3": ordered[3 * n_samples // 4],
                    "stdev": 0.0,
                    "rel_err": 0.003,
                    "max_abs_err": 0.01,
                    "tolerance": 0.01,
                    "correct": True,
                    "metrics": {
                        "tflops": 1e12 / median / 1e9 if op == "paged_prefill" else 1.0,
                        "gbps": 2e9 / median / 1e6,
                        "useful_flops": 1e12,
                        "min_bytes": 1e9,
                        "roofline_fraction": 0.5,
                    },
                    "config": {"BLOCK_M": 64, "BLOCK_N": 64, "num_warps": 4},
                    "telemetry": {"sm_clock_mhz": 1980, "temp_c": 45},
                    "extra": {},
                }
            )
            blobs.append({"result_id": next_id, "values": struct.pack(f"<{n_samples}d", *values)})
            next_id += 1
        if len(batch) >= 50_000 or i == n_commits - 1:
            with engine.begin() as connection:
                connection.execute(insert(models.Result.__table__), batch)
                connection.execute(insert(models.Samples.__table__), blobs)
            batch, blobs = [], []
    with engine.begin() as connection:
        connection.execute(insert(models.Regression.__table__), regressions)
        connection.exec_driver_sql("ANALYZE")
    with store.read() as session:
        counts = {
            "results": session.scalar(select(func.count()).select_from(models.Result)),
            "samples": session.scalar(select(func.sum(models.Result.n_samples))),
            "series": session.scalar(select(func.count()).select_from(models.Series)),
            "commits": session.scalar(select(func.count()).select_from(models.Commit)),
            "regressions": session.scalar(select(func.count()).select_from(models.Regression)),
        }
    store.dispose()
    return {**counts, "build_s": time.perf_counter() - t0}


def _request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, int]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, len(response.read())


def measure(db_url: str, repeats: int, n_commits: int) -> list[dict]:
    import waitress

    config = PerfciConfig(server=ServerConfig(write_tokens=[hash_token(TOKEN)], secret_key="bench"))
    app = create_app(db_url, config)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    last_sha, old_sha = sha_for(f"bench-{n_commits - 1}"), sha_for(f"bench-{int(n_commits * 0.8)}")
    regression_id = 1
    targets = [
        ("page: overview", "/"),
        ("page: series list", "/series"),
        ("page: series trend (all 5,000 points)", "/series/1"),
        ("page: series trend (last 1,000)", "/series/1?last=1000"),
        ("page: commit", f"/commit/{last_sha}"),
        ("page: compare two commits", f"/compare?base={old_sha[:10]}&head={last_sha[:10]}"),
        ("page: regressions (worst first)", "/regressions"),
        ("page: regressions (all, newest)", "/regressions?status=all&order=newest"),
        ("page: regressions filtered", "/regressions?status=all&op=paged_decode&dtype=bf16&q=case-01"),
        ("page: roofline", "/roofline"),
        ("api: GET /api/series", "/api/series?per_page=200"),
        ("api: GET /api/series/1 (5,000 points)", "/api/series/1"),
        ("api: GET /api/runs", "/api/runs"),
        ("api: GET /api/results?commit=", f"/api/results?commit={last_sha}&per_page=200"),
        ("api: GET /api/commits", "/api/commits"),
        ("api: GET /api/commits/<sha>", f"/api/commits/{last_sha}"),
        ("api: GET /api/regressions", "/api/regressions?status=all"),
        ("api: GET /api/openapi.json", "/api/openapi.json"),
    ]
    out = []
    for label, path in targets:
        for _ in range(2):
            _request(base + path)  # warm the page cache and the code paths
        times, size = [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            status, size = _request(base + path)
            times.append((time.perf_counter() - t0) * 1000)
            assert status == 200, (label, status)
        out.append(_stats(label, path, times, size))
    for cases, first in ((58, 100_000), (200, 200_000)):  # the full tier's size, and a 200-case stress document
        posts = []
        for i in range(repeats):
            document = make_document(commit_index=first + i, cases=cases, samples=20, repo="bench/kernels", seed=i)
            body = json.dumps(document).encode()
            t0 = time.perf_counter()
            status, size = _request(base + "/api/runs", "POST", body)
            posts.append((time.perf_counter() - t0) * 1000)
            assert status == 201
        out.append(_stats(f"api: POST /api/runs ({cases} results, judged)", "/api/runs", posts, len(body)))
    patches = []
    for i in range(repeats):
        body = json.dumps({"status": ("acknowledged", "open")[i % 2], "note": f"bench {i}", "author": "bench"}).encode()
        t0 = time.perf_counter()
        _request(f"{base}/api/regressions/{regression_id}", "PATCH", body)
        patches.append((time.perf_counter() - t0) * 1000)
    out.append(_stats("api: PATCH /api/regressions/<id>", "/api/regressions/1", patches, 0))
    app.extensions["perfci"]["store"].dispose()
    return out


def _stats(label: str, path: str, times: list[float], size: int) -> dict:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "call": label,
        "path": path,
        "n": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": p95,
        "max_ms": ordered[-1],
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--db", default="/tmp/perfci-dash-bench.db")
    parser.add_argument("--reuse", action="store_true", help="Measure an existing --db instead of rebuilding it.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    db_url = f"sqlite:///{args.db}"
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(args.db + suffix):
                os.remove(args.db + suffix)
        built = generate(db_url, args.series, args.commits, args.samples)
        print(f"store: {built}", flush=True)
    else:
        built = {"reused": args.db}
    rows = measure(db_url, args.repeats, args.commits)
    print(f"{'call':48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>10}")
    for row in rows:
        print(f"{row['call']:48} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['max_ms']:8.1f} {row['bytes']:10d}")
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "store": built,
        "db_bytes": os.path.getsize(args.db),
        "repeats": args.repeats,
        "calls": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
