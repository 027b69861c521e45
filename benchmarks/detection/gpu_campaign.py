"""On a GPU: perfci's verdicts on an autotuned kernel whose processes pick different configs.

    python benchmarks/detection/gpu_campaign.py compare --out results/detection   # +10%, then A/A x5 at once
    python benchmarks/detection/gpu_campaign.py aa --repeats 3 --out results/detection  # A/A, one at a time
    python benchmarks/detection/gpu_campaign.py push --out results/detection      # a range, one +5% commit
    python benchmarks/detection/gpu_campaign.py all --out results/detection       # both, push first
    python benchmarks/detection/gpu_campaign.py bisect --out results/detection    # the +5% commit by bisect
    python benchmarks/detection/gpu_campaign.py bisect --gpus 0 --gpus 0,1 --out results/bisect  # on 1 GPU, then 2
    python benchmarks/detection/gpu_campaign.py pool-bisect --out results/bisect   # the same, as a job on a worker

Builds a throwaway repository from this checkout's ``kernels/`` in which the prefill call also
launches an autotuned fixture kernel: two configs (one pass or two over a 48 MB buffer, about 7% of
the case's time) that its autotuner cannot separate (its benchmark returns a random draw), so each
process picks either, as real autotuned kernels do. Commits: identical kernels with notes-only
changes, one commit whose prefill does an extra 32 MB copy (about +5%), and one with the extra work
of a +10% change. Then:

- ``compare``: ``perfci compare`` of the +10% commit against its parent, then of two identical
  commits five times at once (A/A on a GPU kept busy by the other four);
- ``aa``: the A/A compare ``--repeats`` times one after another on an otherwise idle GPU (records
  named from ``--first``);
- ``push``: ``perfci run --range`` over eight identical commits, the +5% commit and two more identical
  ones into a fresh SQLite store, with confirmation on, on a copy of the repository whose fixture
  has no modes (both configs one pass); the findings and the run logs are written;
- ``all``: push, then compare;
- ``bisect``: ``perfci bisect`` from the first commit to the last of that range (same repository
  as ``push``): the +5% commit should be the one culprit, verified against its parent; with
  ``--gpus`` once per value given (``--gpus 0 --gpus 0,1``: one GPU, then speculative midpoints on two).
- ``pool-bisect``: the same bisect as a job: one ``perfci worker`` on GPU 0 (a folder as the broker,
  the store in ``--out``), ``perfci submit --wait``; the job's record (queued, started, finished,
  worker, result) is written with the submit's.

Every perfci command's record (exit code, seconds, JSON output, stderr) is appended to
``--out``/records.jsonl as it finishes; the commits are in shas.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perfci.store import jobs as job_rows
from perfci.store.migrate import open_store

ROOT = Path(__file__).resolve().parents[2]
CASE = "prefill/bf16/b2-q4096-p64-l1023-g16-h32x8-d128"
FIXTURE = '''"""An autotuned kernel whose autotuner cannot separate its two configs (a random benchmark)."""
import random

import torch
import triton
import triton.language as tl

SLOW_PASSES = {slow_passes}

@triton.autotune(configs=[triton.Config({"PASSES": 1}), triton.Config({"PASSES": SLOW_PASSES})], key=["n"],
                 do_bench=lambda kernel_call, quantiles: [random.random(), 0.0, 0.0])
@triton.jit
def _scale(x_ptr, n, PASSES: tl.constexpr, BLOCK: tl.constexpr = 1024):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    for _ in tl.static_range(PASSES):
        tl.store(x_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) * 1.0001, mask=mask)


_buffers = {}


def extra_work(device, extra_copy_mb=0):
    """The autotuned pass (about 7% of the case), plus ``extra_copy_mb`` of copying (a slowdown)."""
    if device not in _buffers:
        _buffers[device] = torch.ones(12 * 2**20, device=device)
    x = _buffers[device]
    _scale[lambda meta: (triton.cdiv(x.numel(), 1024),)](x, x.numel())
    if extra_copy_mb:
        key = (device, extra_copy_mb)
        if key not in _buffers:
            _buffers[key] = (torch.ones(extra_copy_mb * 2**18, device=device), torch.empty(extra_copy_mb * 2**18,
                             device=device))
        src, dst = _buffers[key]
        dst.copy_(src)
'''
WRAPPER = """
from kernels.swa import fixture as _fixture

_paged_prefill = paged_prefill


def paged_prefill(*args, **kwargs):
    out = _paged_prefill(*args, **kwargs)
    _fixture.extra_work(args[0].device, EXTRA_COPY_MB)
    return out
"""


def git(work: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=work, check=True, capture_output=True, text=True).stdout.strip()


def commit(work: Path, message: str, extra_copy_mb: int | None = None, notes: str | None = None) -> str:
    if extra_copy_mb is not None:
        init = (ROOT / "kernels" / "swa" / "__init__.py").read_text()
        (work / "kernels" / "swa" / "__init__.py").write_text(init + f"\nEXTRA_COPY_MB = {extra_copy_mb}\n" + WRAPPER)
    if notes is not None:
        (work / "NOTES").write_text(notes)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", message)
    return git(work, "rev-parse", "HEAD")


def build_repo(work: Path, modes: bool) -> dict[str, str]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    git(work, "config", "user.name", "perfci campaign")
    git(work, "config", "user.email", "campaign@example.com")
    shutil.copytree(ROOT / "kernels", work / "kernels", ignore=shutil.ignore_patterns("__pycache__"))
    (work / "kernels" / "swa" / "fixture.py").write_text(FIXTURE.replace("{slow_passes}", "2" if modes else "1"))
    shas = {"base": commit(work, "autotuned fixture kernels", extra_copy_mb=0, notes="0\n")}
    for index in range(1, 8):
        shas[f"same{index}"] = commit(work, f"notes {index}", notes=f"{index}\n")
    shas["plus5"] = commit(work, "prefill copies 32 MB more (about +5%)", extra_copy_mb=32)
    shas["after1"] = commit(work, "notes after", notes="after 1\n")
    shas["after2"] = commit(work, "notes after", notes="after 2\n")
    git(work, "checkout", "-q", "-b", "ten", shas["same7"])
    shas["plus10"] = commit(work, "prefill copies 64 MB more (about +10%)", extra_copy_mb=64)
    git(work, "checkout", "-q", "main")
    return shas


def perfci(work: Path, out: Path, name: str, *args: str) -> dict:
    """Run one perfci command; its record (exit, seconds, JSON or stdout, stderr) is appended to
    ``out/records.jsonl`` at once, so a campaign cut short keeps what it measured."""
    start = time.time()
    proc = subprocess.run([sys.executable, "-m", "perfci", *args], cwd=work, capture_output=True, text=True)
    record = {
        "name": name,
        "args": list(args),
        "exit": proc.returncode,
        "seconds": round(time.time() - start, 1),
        "stderr": proc.stderr[-6000:],
    }
    try:
        record["json"] = json.loads(proc.stdout)
    except ValueError:
        record["stdout"] = proc.stdout[-6000:]
    with (out / "records.jsonl").open("a") as log:
        log.write(json.dumps(record) + "\n")
    return record


def pool_bisect(work: Path, out: Path, common: list[str]) -> None:
    """The bisect as a job on a one-GPU pool: a worker, a folder as the broker, the store in ``out``."""
    shas = build_repo(work, modes=False)
    (out / "pool-bisect-shas.json").write_text(json.dumps(shas, indent=1) + "\n")
    pool = ["--broker", f"filesystem://{out / 'queue'}", "--db", f"sqlite:///{out / 'pool.db'}"]
    with (out / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "perfci", "worker", *pool, "--queue", "h200", "--gpu", "0", "--cache", "/tmp/pool"],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            bisect = ["bisect", shas["base"], shas["after2"], *common, "--report", str(out / "pool-bisect-report.md")]
            perfci(work, out, "pool-bisect", "submit", *pool, "--queue", "h200", "--wait", *bisect)
        finally:
            worker.terminate()
            worker.wait(30)
    store = open_store(f"sqlite:///{out / 'pool.db'}")
    rows, _ = job_rows.jobs(store, 1, 10)
    (out / "pool-bisect-job.json").write_text(
        json.dumps([job_rows.job(store, uuid.UUID(row["id"])) for row in rows], indent=1)
    )
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["compare", "aa", "push", "all", "bisect", "pool-bisect"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/perfci-campaign/tracked"))
    parser.add_argument("--max-pairs", default="16")
    parser.add_argument("--repeats", type=int, default=5, help="A/A compares")
    parser.add_argument("--first", type=int, default=1, help="number of the first A/A record (aa)")
    parser.add_argument(
        "--gpus", action="append", help="bisect: the GPUs it measures on (perfci bisect --gpus); repeat to run each"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    shas = build_repo(args.work, modes=True)
    (args.out / "shas.json").write_text(json.dumps(shas, indent=1) + "\n")
    records: list[dict] = []
    common = ["--device", "cuda", "--cases", CASE]
    if args.what in ("push", "all"):
        # a kernel without modes (both configs one pass): the +5% step against process-level noise alone
        push_work = args.work.with_name("tracked-push")
        push_shas = build_repo(push_work, modes=False)
        (args.out / "push-shas.json").write_text(json.dumps(push_shas, indent=1) + "\n")
        db = f"sqlite:///{args.out / 'push.db'}"
        # the default confirmation (alpha 0.002 over its looks, up to 64 pairs), its budget cut to fit one call
        (push_work / "perfci.toml").write_text("[detection]\nconfirm_budget_s = 300\n")
        records.append(
            perfci(
                push_work, args.out, "base", "run", "--commit", push_shas["base"], *common, "--budget", "1", "--db", db
            )
        )
        report = str(args.out / "push-report.md")
        records.append(
            perfci(
                push_work,
                args.out,
                "range",
                "run",
                "--range",
                f"{push_shas['base']}..{push_shas['after2']}",
                *common,
                "--budget",
                "1",
                "--db",
                db,
                "--report",
                report,
            )
        )
        records.append(
            perfci(push_work, args.out, "regressions", "regressions", "--json", "--status", "all", "--db", db)
        )
    if args.what == "bisect":
        bisect_work = args.work.with_name("tracked-bisect")
        bisect_shas = build_repo(bisect_work, modes=False)
        (args.out / "bisect-shas.json").write_text(json.dumps(bisect_shas, indent=1) + "\n")
        for gpus in args.gpus or [None]:
            lanes = ["--gpus", gpus] if gpus else []
            suffix = f"-gpus{gpus.replace(',', '-')}" if gpus else ""
            records.append(
                perfci(
                    bisect_work,
                    args.out,
                    f"bisect{suffix}",
                    "bisect",
                    bisect_shas["base"],
                    bisect_shas["after2"],
                    *common,
                    *lanes,
                    "--json",
                    "--report",
                    str(args.out / f"bisect-report{suffix}.md"),
                )
            )
    if args.what == "pool-bisect":
        pool_bisect(args.work.with_name("tracked-pool-bisect"), args.out, common)
    if args.what in ("compare", "all"):
        pairs = ["--json", "--max-pairs", args.max_pairs, "--budget", "150"]
        records.append(perfci(args.work, args.out, "plus10", "compare", shas["same7"], shas["plus10"], *common, *pairs))
        # the A/A compares run side by side: a busy GPU, as a shared CI runner's
        with ThreadPoolExecutor(args.repeats) as pool:
            records += pool.map(
                lambda i: perfci(
                    args.work, args.out, f"aa{i + 1}", "compare", shas["same6"], shas["same7"], *common, *pairs
                ),
                range(args.repeats),
            )
    if args.what == "aa":
        pairs = ["--json", "--max-pairs", args.max_pairs, "--budget", "150"]
        for i in range(args.first, args.first + args.repeats):
            records.append(
                perfci(args.work, args.out, f"aa{i}", "compare", shas["same6"], shas["same7"], *common, *pairs)
            )
    print(json.dumps([{k: r[k] for k in ("name", "exit", "seconds")} for r in records]))


if __name__ == "__main__":
    main()
