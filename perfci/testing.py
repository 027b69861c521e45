"""Builders of valid perfci.results/1 documents (plain dicts, as they travel), for tests and
benchmarks of perfci and of tools that feed it."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def sha_for(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()


def make_document(
    *,
    commit_index: int = 0,
    run_id: str | None = None,
    cases: int = 3,
    samples: int = 10,
    device_name: str = "NVIDIA H100 80GB HBM3",
    repo: str = "perfci-tests",
    seed: int = 0,
) -> dict[str, Any]:
    rng = random.Random(seed)
    sha = sha_for(f"commit-{commit_index}")
    results = []
    for case in range(cases):
        base = 0.1 * (case + 1)
        results.append(
            {
                "case": f"decode/bf16/case{case}",
                "op": "paged_decode",
                "params": {"B": 8, "kv_len": 1024 * (case + 1), "L": 1023},
                "status": "ok",
                "unit": "ms",
                "samples": [base * (1 + rng.gauss(0, 0.003)) for _ in range(samples)],
                "correctness": {"rel_err": 0.003, "max_abs_err": 0.02, "tolerance": 0.01, "passed": True},
                "metrics": {"gbps": 1234.5, "roofline_fraction": 0.41},
                "config": {"BLOCK_N": 64, "num_warps": 4},
                "telemetry": {"sm_clock_mhz": 1980, "temp_c": 41},
            }
        )
    return {
        "schema": "perfci.results/1",
        "run": {
            "id": run_id or str(uuid.uuid4()),
            "repo": repo,
            "commit": {
                "sha": sha,
                "parents": [sha_for(f"commit-{commit_index - 1}")] if commit_index else [],
                "branch": "main",
                "authored_at": (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=commit_index)).isoformat(),
                "author": "Ada <ada@example.com>",
                "message": f"commit {commit_index}",
            },
            "trigger": "push",
            "started_at": "2026-11-26T10:00:00+00:00",
            "finished_at": "2026-11-26T10:05:00+00:00",
            "environment": {
                "device_kind": "cuda",
                "device_name": device_name,
                "driver": "570.86",
                "cuda": "12.8",
                "torch": "2.11.0",
                "triton": "3.6.0",
                "python": "3.12.3",
                "hostname": "runner-1",
            },
        },
        "results": results,
    }
