"""One result from several worker processes of a case (``perfci run --processes N``).

Each process is one draw of autotune config, clock state and placement; N of them in one document
are the process-level evidence a result needs to gate on its own (the judge compares per-process
values). The merged result keeps every sample, and per process its samples, config, autotune
choice and telemetry.
"""

from __future__ import annotations

import statistics
from typing import Any

RATE_METRICS = ("tflops", "gbps", "roofline_fraction")


def merge_processes(parts: list[dict[str, Any]], planned: int) -> dict[str, Any]:
    """The result of a case measured in ``parts`` (worker outputs, one per process, of ``planned``;
    a process that failed or timed out ends the case, and makes it failed: its error says which)."""
    if planned == 1:
        return parts[0]
    for index, part in enumerate(parts):
        if part["status"] not in ("ok", "incorrect"):
            return {**part, "error": f"process {index + 1} of {planned}: {part.get('error') or part['status']}"}
    worst = max(parts, key=lambda p: (p["status"] == "incorrect", (p.get("correctness") or {}).get("rel_err") or 0))
    samples = [x for part in parts for x in part["samples"]]
    first = parts[0]
    scale = statistics.median(first["samples"]) / statistics.median(samples)
    metrics = {k: (v * scale if k in RATE_METRICS and v is not None else v) for k, v in first["metrics"].items()}
    merged = {
        **first,
        "status": worst["status"],
        "error": worst.get("error"),
        "correctness": worst.get("correctness"),
        "samples": samples,
        "metrics": metrics,
        "processes": [
            {
                "samples": p["samples"],
                "config": p.get("config") or {},
                "autotune": p.get("autotune") or {},
                "telemetry": p.get("telemetry") or {},
            }
            for p in parts
        ],
    }
    merged.pop("autotune", None)
    return merged
