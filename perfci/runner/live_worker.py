"""A ``perfci.runner.worker`` process kept alive and driven one line at a time.

Each is forked from the fork server (``perfci.runner.forkserver``): a fresh process as evidence,
without paying the interpreter's start and torch's import again.

``perfci compare`` drives one per side of a pair (``--serve``: prepare a case, then one round per
line); ``perfci run`` one per process of a commit (``--cases``: one case per line). Every answer
has a deadline: a worker that hangs is killed, one that dies is reported with how it died and the
last lines it wrote. Its stderr goes to a file, never a pipe: a process that serves many cases can
write more than a pipe holds, and a full pipe would stall it mid-case.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from perfci.runner.forkserver import ForkedWorker


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


def crash_text(returncode: int, stderr: str) -> str:
    """How a worker died (signal or exit code) and the last lines it wrote to stderr."""
    tail = "\n".join(stderr.strip().splitlines()[-8:]) or "(no output)"
    how = f"signal {-returncode}" if returncode < 0 else f"exit code {returncode}"
    return f"worker crashed ({how}):\n{tail}"


class WorkerGone(RuntimeError):
    """The worker crashed or hung; ``status`` is the result status it means ("failed" or "timeout")."""

    def __init__(self, message: str, status: str = "failed") -> None:
        super().__init__(message)
        self.status = status


class LiveWorker:
    """The worker in ``MODE`` in ``worktree``, on ``device`` (and ``gpu``)."""

    def __init__(self, mode: str, worktree: Path, device: str, gpu: str | None, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in kill(), with the process)
        self.proc = ForkedWorker(mode, worktree, worker_env(device, gpu), self.stderr)

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerGone(self._death()) from None

    def _death(self) -> str:
        self.proc.kill()
        self.proc.wait()
        self.stderr.seek(0)
        return crash_text(self.proc.returncode, self.stderr.read())

    def read(self, prefix: str) -> dict[str, Any]:
        """The next line with ``prefix`` as JSON; WorkerGone on exit or when ``timeout_s`` passes."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + self.timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    self.kill()
                    raise WorkerGone(
                        f"timeout: no answer within {self.timeout_s:.0f} s; the worker was killed", "timeout"
                    )
                line = self.proc.stdout.readline()
                if not line:
                    raise WorkerGone(self._death())
                if line.startswith(prefix):
                    return json.loads(line[len(prefix) :])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()

    def close(self) -> None:
        """Ends the worker between two requests (an empty line), killing it if it does not exit."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        self.kill()
