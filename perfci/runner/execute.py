"""Run the suite's cases for one materialised commit, each in its own worker process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.runner.processes import merge_processes
from perfci.runner.worker import RESULT_PREFIX
from perfci.suite.cases import SuiteCase


class KernelsImportError(RuntimeError):
    """The commit's kernels package does not import; the message holds the error's last line."""


@dataclass(frozen=True)
class ExecutionSettings:
    device: str  # "cuda" | "interpreter"
    timeout_s: float = 600.0
    precision: float = 0.005
    budget_s: float = 3.0
    ceilings: dict[str, float] | None = None
    #: fresh worker processes per case (the unit of evidence); their samples share one result
    processes: int = 1
    #: the GPU its worker processes see (CUDA_VISIBLE_DEVICES); None: what this process sees
    gpu: str | None = None


def worker_env(device: str, gpu: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    if device == "interpreter":
        env["TRITON_INTERPRET"] = "1"
        # one thread per worker: OpenMP threads that spin between CPU ops steal the other worker's core
        # (two interleaved workers on a 2-core machine measured a 30x difference inverted)
        env.setdefault("OMP_NUM_THREADS", "1")
    else:
        env.pop("TRITON_INTERPRET", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def check_kernels_import(worktree: Path, device: str) -> None:
    """Fail fast (before any case runs) when the commit's ``kernels.swa`` (or the adapter over its
    own modules) does not import or lacks the contract's functions."""
    code = "import sys; from perfci.runner.adapter import load_kernels; load_kernels(sys.argv[1])"
    proc = subprocess.run(
        [sys.executable, "-P", "-c", code, str(worktree)],
        capture_output=True,
        text=True,
        env=worker_env(device),
        timeout=300,
        cwd=worktree,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise KernelsImportError(last)


def crash_text(returncode: int, stderr: str) -> str:
    """How a worker died (signal or exit code) and the last lines it wrote to stderr."""
    tail = "\n".join(stderr.strip().splitlines()[-8:]) or "(no output)"
    how = f"signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
    return f"worker crashed ({how}):\n{tail}"


def run_one(case: SuiteCase, worktree: Path, settings: ExecutionSettings) -> dict[str, Any]:
    """One case's result fields (status, samples, correctness, ...); crashes and hangs included."""
    request = {
        "case": case.params(),
        "device": settings.device,
        "worktree": str(worktree),
        "precision": settings.precision,
        "budget_s": settings.budget_s,
        "ceilings": settings.ceilings,
    }
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            # -P: the worktree (cwd) must not shadow the installed perfci; kernels come from the request's path
            [sys.executable, "-P", "-m", "perfci.runner.worker"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=worker_env(settings.device, settings.gpu),
            timeout=settings.timeout_s,
            cwd=worktree,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"no result within {settings.timeout_s:.0f} s; the worker was killed"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
            phases = result.get("timing", {}).get("phases")
            if phases is not None:  # the whole process, start and imports included: what a case costs
                phases["process_s"] = round(time.perf_counter() - started, 4)
            return result
    return {"status": "failed", "error": crash_text(proc.returncode, proc.stderr)}


def run_cases(
    cases: list[SuiteCase],
    worktree: Path,
    settings: ExecutionSettings,
    on_result: Callable[[SuiteCase, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Results in the document's shape, in case order; ``on_result`` sees each as it lands."""
    results = []
    for case in cases:
        fields = merge_processes([run_one(case, worktree, settings) for _ in range(settings.processes)])
        result = {"case": case.id, "op": case.op, "params": case.params(), **fields}
        results.append({key: value for key, value in result.items() if value is not None})
        if on_result:
            on_result(case, result)
    return results
