"""Run the suite's cases for one materialised commit in warm worker processes, a crash costing
one case."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

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


class CaseWorker:
    """One worker process of a commit, kept warm: it measures the commit's cases one after another
    (``worker --cases``), so the interpreter's start, torch's import, the CUDA context and CUPTI's
    start are paid once, not per case. A crash, a hang or a failed case costs that case only: the
    process is ended with it and the next case starts a fresh one. With ``settings.warm`` False
    every case gets a fresh process."""

    def __init__(self, worktree: Path, settings: ExecutionSettings) -> None:
        self.worktree, self.settings = worktree, settings
        self.live: LiveWorker | None = None
        #: seconds the import check took in this process: its start and imports, which the next
        #: case would otherwise have paid, so they are counted in that case's phases
        self.checked_s = 0.0

    def _process(self) -> LiveWorker:
        if self.live is None:
            settings = self.settings
            self.live = LiveWorker("--cases", self.worktree, settings.device, settings.gpu, settings.timeout_s)
        return self.live

    def check_import(self) -> None:
        """KernelsImportError unless the commit's kernels (or the adapter over them) import here;
        the process then measures the commit's first case with them loaded."""
        started = time.perf_counter()
        try:
            live = self._process()
            live.send({"check": str(self.worktree), "device": self.settings.device})
            answer = live.read(RESULT_PREFIX)
        except WorkerGone as error:
            self.kill()
            raise KernelsImportError(str(error).strip().splitlines()[-1]) from None
        if answer["status"] != "ok":
            self.close()
            raise KernelsImportError(answer["error"])
        self.checked_s = time.perf_counter() - started

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
        try:
            live = self._process()
            live.send(request)
            result = live.read(RESULT_PREFIX)
        except WorkerGone as error:
            self.kill()
            return {"status": error.status, "error": str(error)}
        phases = result.get("timing", {}).get("phases")
        if phases is not None:  # what the case cost, from its request (and the process's start, if new)
            phases["boot_s"] = round(phases.get("boot_s", 0.0) + self.checked_s, 4)
            phases["process_s"] = round(time.perf_counter() - started + self.checked_s, 4)
        self.checked_s = 0.0
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


class CommitWorkers:
    """The worker processes measuring one commit: ``settings.processes`` of them, each measuring
    every case in turn. Ended when the commit is done; killed when it is interrupted."""

    def __init__(self, worktree: Path, settings: ExecutionSettings) -> None:
        self.settings = settings
        self.workers = [CaseWorker(worktree, settings) for _ in range(settings.processes)]

    def __enter__(self) -> CommitWorkers:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        for worker in self.workers:
            if kind is None:
                worker.close()
            else:  # interrupted (a signal, Ctrl-C) or bad input: no case is to be finished
                worker.kill()

    def check_import(self) -> None:
        """Fail fast, before any case runs, when the commit's kernels do not import (in the first
        worker, which goes on to measure with them: no process of its own for the check)."""
        try:
            self.workers[0].check_import()
        except BaseException:
            self.workers[0].kill()
            raise

    def run(
        self, cases: list[SuiteCase], on_result: Callable[[SuiteCase, dict[str, Any]], None] | None = None
    ) -> list[dict[str, Any]]:
        """Results in the document's shape, in case order; ``on_result`` sees each as it lands. An
        interruption (a signal, Ctrl-C) kills the workers at once: the case underway is not finished."""
        results = []
        try:
            for case in cases:
                parts: list[dict[str, Any]] = []
                for worker in self.workers:
                    parts.append(worker.measure(case))
                    if parts[-1]["status"] not in ("ok", "incorrect"):
                        break  # the case failed: its other processes would only wait for the same crash or hang
                fields = merge_processes(parts, self.settings.processes)
                result = {"case": case.id, "op": case.op, "params": case.params(), **fields}
                results.append({key: value for key, value in result.items() if value is not None})
                if on_result:
                    on_result(case, result)
        except BaseException:
            for worker in self.workers:
                worker.kill()
            raise
        return results
