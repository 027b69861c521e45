"""Noise families for the detection benchmark: each draws one worker process's samples at a level.

A process is the unit of noise: it lands on its own offset (autotune config, clock state,
co-tenant phase) and its samples scatter around it. Every family is built from real measurements:

- ``h200``: a real process of ../shared/data/gpu-noise-h200.jsonl (quiet, dedicated H200);
- ``spread2``: that, plus 2% per-sample spread and a 0.7% per-process offset;
- ``outliers+bimodal``: that, with 5% of samples 10-50% slow and each sample in a +4% clock state
  with p = 0.3;
- ``modes``: that, with the whole process in a slow mode (gap 3-10%, 20-50% of processes; drawn
  per history), as a kernel that autotunes per process;
- ``busy-gpu``: a real process of ../shared/data/gpu-process-modes-h200.jsonl (a busy, shared H200:
  per-process medians spread 1.3-2.9x, third-party autotuned kernels beside ours);
- ``offsets``: h200 processes, one in six 20-45% slow (what perfci compare met on a shared H200,
  docs/perf/compare.md);
- ``interpreter``: processes of A/A tiny-tier runs under Triton's interpreter on a loaded 2-core
  machine (benchmarks/detection/data/interpreter-aa.jsonl, recorded by record_interpreter.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
INTERPRETER_DATA = Path(__file__).resolve().parent / "data" / "interpreter-aa.jsonl"
SAMPLES_PER_PROCESS = 50
#: (rng, level) -> one process's samples
Process = Callable[[np.random.Generator, float], np.ndarray]
FAMILIES = ("h200", "spread2", "outliers+bimodal", "modes", "busy-gpu", "offsets", "interpreter")


def _normalised(runs: list[list[float]]) -> list[np.ndarray]:
    """Each process's samples divided by the median of the processes' medians."""
    arrays = [np.asarray(run, dtype=np.float64) for run in runs]
    center = float(np.median([np.median(a) for a in arrays]))
    return [a / center for a in arrays]


@cache
def _jsonl(path: Path) -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in path.read_text().splitlines() if line.strip())


def real_processes(family: str) -> dict[str, list[np.ndarray]]:
    """Per kernel (or case), the normalised processes a family draws from."""
    if family == "busy-gpu":
        lines = _jsonl(SHARED / "gpu-process-modes-h200.jsonl")
        kernels = [k for k in lines[0] if not k.startswith("_")]
    elif family == "interpreter":
        lines = _jsonl(INTERPRETER_DATA)
        kernels = sorted({k for line in lines for k in line})
    else:
        lines = _jsonl(SHARED / "gpu-noise-h200.jsonl")
        kernels = ["mm4096", "copy256MB", "swa_decode_b8", "swa_decode_b32", "flex_prefill"]
    return {k: _normalised([line[k]["all"] for line in lines if k in line]) for k in kernels}


def _pick(rng: np.random.Generator, runs: list[np.ndarray]) -> np.ndarray:
    source = runs[rng.integers(len(runs))]
    return rng.choice(source, size=min(SAMPLES_PER_PROCESS, source.size), replace=False)


def make_process(family: str, rng: np.random.Generator) -> Process:
    """A process generator for one history (or comparison): its kernel and mode parameters are drawn now."""
    kernels = real_processes(family)
    runs = kernels[list(kernels)[rng.integers(len(kernels))]]
    gap, slow_share = float(rng.uniform(0.03, 0.10)), float(rng.uniform(0.2, 0.5))

    def process(r: np.random.Generator, level: float) -> np.ndarray:
        samples = _pick(r, runs) * level
        if family == "spread2":
            samples = samples * (1 + r.normal(0, 0.02, samples.size)) * (1 + r.normal(0, 0.007))
        elif family == "outliers+bimodal":
            samples = samples * np.where(r.random(samples.size) < 0.3, 1.04, 1.0)
            outliers = r.random(samples.size) < 0.05
            samples[outliers] *= r.uniform(1.1, 1.5, outliers.sum())
        elif family == "modes" and r.random() < slow_share:
            samples = samples * (1 + gap)
        elif family == "offsets" and r.random() < 1 / 6:
            samples = samples * r.uniform(1.20, 1.45)
        return samples

    return process
