"""A throwaway tracked repository: reference kernels and slower, wrong, crashing and hanging variants."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import git

from perfci.document import parse_document

ROOT = Path(__file__).resolve().parents[2]
CASE = "decode/bf16/b3-kv96-*"

KERNEL_TEMPLATE = """
import os, signal, time
from kernels.swa import reference
{extra}

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
#: An autotuned kernel whose autotuner cannot separate its two configs, so each process picks
#: either (as real autotuned kernels do, +7% apart on an H200): per-process modes, on any device.
#: The pick is drawn from $PERFCI_FIXTURE_DRAWS (a file each process appends a byte to: its size
#: seeds the draw, so a sequence of processes is reproducible), else at random; $PERFCI_FIXTURE_PICK
#: (64 or 128) makes every process pick that config (BLOCK 64 is the slower under the interpreter).
AUTOTUNED = """
import random
import torch
import triton
import triton.language as tl


_benchmarked = []


def _draw():
    pick = os.environ.get("PERFCI_FIXTURE_PICK")
    if pick:  # the configs are benchmarked in order (BLOCK 64, then 128): the one named wins
        _benchmarked.append(None)
        return 0.0 if (len(_benchmarked) % 2 == 1) == (pick == "64") else 1.0
    path = os.environ.get("PERFCI_FIXTURE_DRAWS")
    if not path:
        return random.random()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, b"x")
        return random.Random(os.fstat(fd).st_size).random()
    finally:
        os.close(fd)


@triton.autotune(configs=[triton.Config({"BLOCK": 64}), triton.Config({"BLOCK": 128})], key=["n"],
                 do_bench=lambda kernel_call, quantiles: [_draw(), 0.0, 0.0])
@triton.jit
def _scale(x_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(x_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) * 1.0001, mask=mask)


def _autotuned_work(device, n=1024):
    x = torch.ones(n, device=device)
    _scale[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, n)
"""
BODIES = {
    "fast": "pass",
    "autotuned": "_autotuned_work(result.device)",
    "autotuned-slower": "_autotuned_work(result.device); time.sleep(0.05)",
    "slower": "time.sleep(0.05)",
    "slowest": "time.sleep(0.1)",
    "wrong": "result = result * 1.1",
    "crash": "os.kill(os.getpid(), signal.SIGSEGV)",
    "hang": "time.sleep(3600)",
}


def commit_kernel(repo: git.Repo, body: str, message: str) -> str:
    path = Path(repo.working_tree_dir) / "kernels" / "swa" / "__init__.py"
    extra = AUTOTUNED if body.startswith("autotuned") else ""
    path.write_text(KERNEL_TEMPLATE.replace("{extra}", extra).replace("{body}", BODIES[body]))
    repo.index.add([str(path)])
    return repo.index.commit(message).hexsha


def perfci(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-P", "-m", "perfci", *args], cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs
    )


def commit_notes(repo: git.Repo, message: str) -> str:
    """A commit that changes no kernel (a notes file only)."""
    path = Path(repo.working_tree_dir) / "NOTES"
    path.write_text(message + "\n")
    repo.index.add(["NOTES"])
    return repo.index.commit(message).hexsha


def import_history(work: Path, db: str, sha: str, tmp_path: Path, copies: int = 7) -> None:
    """``copies`` earlier results of the case in the store ``db``, from one real run of ``sha``
    (as older made-up commits), and that run itself."""
    out = tmp_path / "doc.json"
    measured = run_tiny(work, "--commit", sha, "--no-store", "-o", str(out))
    assert measured.returncode == 0, measured.stderr
    document = json.loads(out.read_text())
    authored = parse_document(document).run.commit.authored_at
    documents = []
    for index in range(copies):
        copy = json.loads(json.dumps(document))
        del copy["run"]["id"]
        copy["run"]["commit"]["sha"] = f"{index + 1:040x}"
        copy["run"]["commit"]["authored_at"] = (authored - timedelta(hours=copies - index)).isoformat()
        documents.append(copy)
    (tmp_path / "history.jsonl").write_text("\n".join(json.dumps(d) for d in [*documents, document]))
    imported = perfci("import", str(tmp_path / "history.jsonl"), "--db", db, cwd=work)
    assert imported.returncode in (0, 1), imported.stderr


def run_tiny(work: Path, *args: str, budget: str = "0.3", **kwargs: Any) -> subprocess.CompletedProcess:
    """``perfci run`` of the tracked case under the interpreter, the way most tests run it."""
    return perfci(
        "run",
        "--suite",
        "tiny",
        "--cases",
        CASE,
        "--device",
        "interpreter",
        "--budget",
        budget,
        *args,
        cwd=work,
        **kwargs,
    )
