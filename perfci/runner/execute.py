"""Run the suite's cases for one materialised commit in warm worker processes, a crash costing
one case."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfci.runner.forkserver import ForkedWorker
from perfci.runner.live_worker import LiveWorker, WorkerGone, worker_env
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
    #: worker processes per case (the unit of evidence); their samples share one result
    processes: int = 1
    #: each worker process measures every case of the commit in turn; False: a fresh one per case
    warm: bool = True
    #: the GPU its worker processes see (CUDA_VISIBLE_DEVICES); None: what this process sees
    gpu: str | None = None


def check_kernels_import(worktree: Path, device: str) -> None:
    """Fail fast (before any case runs) when the commit's ``kernels.swa`` (or the adapter over its
    own modules) does not import or lacks the contract's functions."""
    with tempfile.TemporaryFile(mode="w+") as stderr:
        process = ForkedWorker(f"--load {worktree}", worktree, worker_env(device), stderr)
        process.stdin.close()
        try:
            returncode = process.wait(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise KernelsImportError("importing the kernels did not finish within 300 s") from None
        if returncode != 0:
            stderr.seek(0)
            raise KernelsImportError((stderr.read().strip().splitlines() or ["(no output)"])[-1])


class CaseWorker:
    """One worker process of a commit, kept warm: it measures the commit's cases one after another
    (``worker --cases``), so the interpreter's start, torch's import, the CUDA context and CUPTI's
    start are paid once, not per case. A crash, a hang or a failed case costs that case only: the
    process is ended with it and the next case starts a fresh one. With ``settings.warm`` False
    every case gets a fresh process."""

    def __init__(self, worktree: Path, settings: ExecutionSettings) -> None:
        self.worktree, self.settings = worktree, settings
        self.live: LiveWorker | None = None

    def measure(self, case: SuiteCase) -> dict[str, Any]:
        """One case's result fields (status, samples, correctness, ...); crashes and hangs included."""
        settings = self.settings
        request = {
            "case": case.params(),
            "device": settings.device,
            "worktree": str(self.worktree),
            "precision": settings.precision,
            "budget_s": settings.budget_s,
            "ceilings": settings.ceilings,
        }
        started = time.perf_counter()
        if self.live is None:
            self.live = LiveWorker("--cases", self.worktree, settings.device, settings.gpu, settings.timeout_s)
        try:
            self.live.send(request)
            result = self.live.read(RESULT_PREFIX)
        except WorkerGone as error:
            self.kill()
            return {"status": error.status, "error": str(error)}
        phases = result.get("timing", {}).get("phases")
        if phases is not None:  # what the case cost, from its request (and the process's start, if new)
            phases["process_s"] = round(time.perf_counter() - started, 4)
        if not settings.warm or result["status"] not in ("ok", "incorrect"):
            self.close()  # a failed case may leave the process (its CUDA context) broken
        return result

    def close(self) -> None:
        if self.live is not None:
            self.live.close()
            self.live = None

    def kill(self) -> None:
        if self.live is not None:
            self.live.kill()
            self.live = None


def run_cases(
    cases: list[SuiteCase],
    worktree: Path,
    settings: ExecutionSettings,
    on_result: Callable[[SuiteCase, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Results in the document's shape, in case order; ``on_result`` sees each as it lands. Each of
    ``settings.processes`` workers measures every case, in turn."""
    workers = [CaseWorker(worktree, settings) for _ in range(settings.processes)]
    results = []
    try:
        for case in cases:
            parts: list[dict[str, Any]] = []
            for worker in workers:
                parts.append(worker.measure(case))
                if parts[-1]["status"] not in ("ok", "incorrect"):
                    break  # the case failed: its other processes would only wait for the same crash or hang
            fields = merge_processes(parts, settings.processes)
            result = {"case": case.id, "op": case.op, "params": case.params(), **fields}
            results.append({key: value for key, value in result.items() if value is not None})
            if on_result:
                on_result(case, result)
    except BaseException:  # interrupted (a signal, Ctrl-C): no case is finished
        for worker in workers:
            worker.kill()
        raise
    for worker in workers:
        worker.close()
    return results
