"""What a fresh measuring process costs before its first sample, phase by phase.

    python benchmarks/process_start.py --out results/runner/process-start.json [--device cuda] [--repeats 3]

Each repeat starts a process the way the runner started a worker before its fork server
(``python -P``) and, beside it, one forked from a process that imported torch already
(``multiprocessing``'s fork server, the way ``perfci.runner.forkserver`` starts workers). Each process
reports, in seconds: reaching its first line (the interpreter's start, or the fork), torch's import
(0 when forked), the CUDA context, and on CUDA the profiler's first and second start and stop around
one small kernel, with CPU and CUDA activities as the ``kernels`` timing mode records them: through
the profiler that mode uses (``perfci.measure.cuda_timing.kernel_profiler``) and, in a third process,
through ``torch.profiler.profile``, which it used before.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
marks = {}
def lap(name):
    global t0
    now = time.perf_counter(); marks[name] = round(now - t0, 4); t0 = now
import torch
lap("torch_import_s")
device = sys.argv[1]
if device == "cuda":
    x = torch.ones(1 << 20, device="cuda"); torch.cuda.synchronize()
    lap("cuda_context_s")
    if sys.argv[2] == "torch.profiler":
        from torch.profiler import ProfilerActivity, profile
        start = lambda: profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
    else:
        from perfci.measure.cuda_timing import kernel_profiler as start
    for name in ("profiler_first_s", "profiler_second_s"):
        with start() as p:
            x.mul_(1.0); torch.cuda.synchronize()
        p.profiler.function_events if sys.argv[2] == "torch.profiler" else p.function_events
        lap(name)
print("PROBE " + json.dumps(marks), flush=True)
"""


def fresh(device: str, profiler: str = "perfci") -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-P", "-c", PROBE, device, profiler], capture_output=True, text=True, check=True, cwd=ROOT
    )
    lines = proc.stdout.splitlines()
    marks = json.loads(next(line for line in lines if line.startswith("PROBE "))[6:])
    total = time.perf_counter() - started
    return {"first_line_s": round(total - sum(marks.values()), 4), **marks, "total_s": round(total, 4)}


def _forked(device: str, queue: multiprocessing.Queue) -> None:
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    sys.argv = ["probe", device, "perfci"]
    with redirect_stdout(out):
        exec(PROBE, {"__name__": "probe"})
    queue.put(json.loads(out.getvalue().split("PROBE ", 1)[1]))


def forked(context: multiprocessing.context.BaseContext, device: str) -> dict[str, float]:
    queue = context.Queue()
    started = time.perf_counter()
    process = context.Process(target=_forked, args=(device, queue))
    process.start()
    marks = queue.get(timeout=600)
    process.join()
    total = time.perf_counter() - started
    return {"first_line_s": round(total - sum(marks.values()), 4), **marks, "total_s": round(total, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["torch"])
    ready = time.perf_counter()
    forked(context, "cpu")  # starts the fork server (its own torch import) before anything is timed
    server_start = time.perf_counter() - ready
    runs: dict[str, list[dict[str, float]]] = {"fresh": [], "forked": [], "fresh_torch_profiler": []}
    for _ in range(args.repeats):  # alternating, so all see the same machine
        runs["fresh"].append(fresh(args.device))
        runs["forked"].append(forked(context, args.device))
        runs["fresh_torch_profiler"].append(fresh(args.device, "torch.profiler"))
    medians = {
        kind: {key: round(statistics.median(r[key] for r in rows), 4) for key in rows[0]} for kind, rows in runs.items()
    }
    document = {"device": args.device, "fork_server_start_s": round(server_start, 3), "medians": medians, "runs": runs}
    if args.device == "cuda":
        import torch

        document["device_name"] = torch.cuda.get_device_name()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1))
    print(json.dumps(medians, indent=1))


if __name__ == "__main__":
    main()
