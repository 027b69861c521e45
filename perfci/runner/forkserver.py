"""Worker processes forked from a server that imported torch already.

A measuring process started as ``python -P -m perfci.runner.worker`` pays the interpreter's start
and torch's import before its first sample: 3.1 s of the 7.6 s a fresh process took to reach its
first profiled kernel on an H200 (``benchmarks/process_start.py``, results/runner/process-start.json).
Forked from ``multiprocessing``'s fork server, which imports torch (and what measuring a case imports
besides, ``CASE_IMPORTS``) once for this perfci process, a worker starts in about 0.1 s. The fork
server never touches CUDA (no import makes a context), so each child is still what a fresh process
is as evidence: its own CUDA context, compilation, autotuning and CUPTI, its own environment (the
device it sees, the interpreter switch), and a crash or a hang ends it alone. What the children
share is the server's imported modules and host memory layout.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import subprocess
import sys
import time
from multiprocessing import forkserver, reduction
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import IO, Any

from perfci.runner.worker import CASE_IMPORTS

#: what the fork server imports once: the cost every worker would otherwise pay (none touches CUDA).
#: Never Triton: its import compiles its own library (``tl.cdiv``, ...) for the GPU or for the
#: interpreter as the environment says then, so each worker imports it under its own environment.
PRELOAD = ["torch", *CASE_IMPORTS]


@functools.cache
def _context() -> BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up() -> None:
    """Start the fork server now: its import of torch then runs beside the caller's own work."""
    _context()
    forkserver.ensure_running()


class _PassedFd:
    """A file descriptor the child receives through the fork server's socket (SCM_RIGHTS)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return _received, (reduction.DupFd(self.fd),)


def _received(duplicate: Any) -> int:
    return duplicate.detach()


def _child(mode: str, env: dict[str, str], cwd: str, stdin: int, stdout: int, stderr: int) -> None:
    """The worker's main, in the forked child: its own standard streams, environment and directory."""
    started = time.perf_counter()
    # what the server imported is never garbage: a collection (one after each case) skips it
    gc.freeze()
    for fd, standard in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, standard)
        os.close(fd)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 (the process's own stdin, for its lifetime)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    # as `python -P`: the worktree (now the working directory) must not shadow the installed perfci
    sys.path[:] = [entry for entry in sys.path if entry not in ("", ".")]
    if env.get("OMP_NUM_THREADS"):  # OpenMP read the variable when the server imported torch
        import torch

        torch.set_num_threads(int(env["OMP_NUM_THREADS"]))
    from perfci.runner.worker import serve_mode

    serve_mode(mode, started)


class ForkedWorker:
    """A worker forked from the server, driven like a ``subprocess.Popen`` with text pipes:
    ``stdin``, ``stdout``, ``poll``, ``wait``, ``kill``, ``returncode`` (negative: the signal that
    ended it)."""

    def __init__(self, mode: str, cwd: Path, env: dict[str, str], stderr: IO[str]) -> None:
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        self.process = _context().Process(
            target=_child,
            args=(mode, env, str(cwd), _PassedFd(stdin_read), _PassedFd(stdout_write), _PassedFd(stderr.fileno())),
            daemon=True,  # ended with this process, never waited for at its exit
        )
        try:
            self.process.start()
        finally:
            os.close(stdin_read)
            os.close(stdout_write)
        self.stdin: IO[str] = open(stdin_write, "w")  # noqa: SIM115 (closed with the worker)
        self.stdout: IO[str] = open(stdout_read)  # noqa: SIM115

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired("perfci worker", timeout or 0.0)
        for stream in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):  # a pipe whose reader died: nothing left to flush
                stream.close()
        return self.process.exitcode

    def kill(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()
