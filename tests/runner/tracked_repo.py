"""A throwaway tracked repository: reference kernels and slower, wrong, crashing and hanging variants."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import git

ROOT = Path(__file__).resolve().parents[2]
CASE = "decode/bf16/b3-kv96-*"

KERNEL_TEMPLATE = """
import os, signal, time
from kernels.swa import reference


def _finish(result, out):
    {body}
    if out is None:
        return result
    out.copy_(result)
    return out


def paged_decode(q, k_cache, v_cache, seqlens, block_tables, *, out=None, **kwargs):
    return _finish(reference.paged_decode(q, k_cache, v_cache, seqlens, block_tables, **kwargs), out)


def paged_prefill(q, k_cache, v_cache, cu_seqlens_q, seqlens_kv, block_tables, *, out=None, causal=True, **kwargs):
    ref = reference.paged_prefill(q, k_cache, v_cache, cu_seqlens_q, seqlens_kv, block_tables, causal=causal, **kwargs)
    return _finish(ref, out)
"""
BODIES = {
    "fast": "pass",
    "slower": "time.sleep(0.05)",
    "wrong": "result = result * 1.1",
    "crash": "os.kill(os.getpid(), signal.SIGSEGV)",
    "hang": "time.sleep(3600)",
}


def commit_kernel(repo: git.Repo, body: str, message: str) -> str:
    path = Path(repo.working_tree_dir) / "kernels" / "swa" / "__init__.py"
    path.write_text(KERNEL_TEMPLATE.replace("{body}", BODIES[body]))
    repo.index.add([str(path)])
    return repo.index.commit(message).hexsha


def perfci(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-P", "-m", "perfci", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, **kwargs)  # fmt: skip
