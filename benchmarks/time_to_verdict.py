"""Time to verdict, this checkout against another perfci side by side: smoke runs and a compare's pairs.

    python benchmarks/time_to_verdict.py --before DIR --out results/runner/time-to-verdict.json
        [--device cuda] [--suite smoke] [--rounds 2] [--pairs 6] [--full-budget 2]

``DIR`` holds the other perfci's ``perfci`` package (e.g. ``git archive REF perfci | tar -x -C DIR``).
Builds the throwaway repository of ``benchmarks/detection/gpu_campaign.py`` (this checkout's kernels
and identical commits) and runs, alternating the two perfcis round by round so both see the same
machine: ``perfci run --suite smoke --no-store`` of one commit (its wall time, and its case phases
summed: sampling against the rest), the same run sampling each case for ``--full-budget`` seconds
(a precision target it cannot reach: what the fixed cost is against that much measuring), and
``perfci compare`` of two identical commits on one case with ``--min-pairs``/``--max-pairs`` both
``--pairs`` (seconds per pair: two worker processes, each started, compiled, checked and sampled).
Writes every command's record and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "detection"))

from gpu_campaign import CASE, build_repo  # noqa: E402

from perfci.runner.phases import breakdown  # noqa: E402


def timed(perfci_dir: Path, work: Path, args: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(perfci_dir), env.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-P", "-m", "perfci", *args], cwd=work, capture_output=True, text=True, env=env
    )
    return time.perf_counter() - start, done


#: a precision target no case reaches: each case is sampled for the whole budget
UNREACHABLE_PRECISION = "1e-9"


def smoke(
    perfci_dir: Path, work: Path, sha: str, device: str, suite: str, document: Path, full_budget: float | None = None
) -> dict:
    sampling = ["--budget", str(full_budget), "--precision", UNREACHABLE_PRECISION] if full_budget else []
    wall, done = timed(
        perfci_dir,
        work,
        ["run", "--commit", sha, "--suite", suite, "--device", device, "--no-store", "-o", str(document), *sampling],
    )
    results = json.loads(document.read_text())["results"] if document.exists() else []
    phases = breakdown(results) or {}
    return {
        "exit": done.returncode,
        "wall_s": round(wall, 2),
        "sampling_s": round(phases.get("sampling_s", 0.0), 2),
        "cases_s": round(phases.get("process_s", 0.0), 2),
        "stderr": done.stderr[-3000:],
    }


def pairs(perfci_dir: Path, work: Path, base: str, head: str, device: str, case: str, count: int) -> dict:
    bounds = ["--min-pairs", str(count), "--max-pairs", str(count)]
    wall, done = timed(
        perfci_dir, work, ["compare", base, head, "--device", device, "--cases", case, *bounds, "--json"]
    )
    try:
        measured = json.loads(done.stdout)["cases"][0]["pairs"]
    except (ValueError, LookupError, TypeError):
        measured = None
    return {
        "exit": done.returncode,
        "wall_s": round(wall, 2),
        "pairs": measured,
        "s_per_pair": round(wall / measured, 2) if measured else None,
        "stderr": done.stderr[-3000:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", choices=("cuda", "interpreter"), default="cuda")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--suite", default="smoke", help="the run's tier (tiny under the interpreter)")
    parser.add_argument("--case", default=CASE, help="the compared case")
    parser.add_argument("--full-budget", type=float, default=2.0, help="seconds of sampling a case (0: no such run)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/perfci-time-to-verdict/tracked"))
    args = parser.parse_args()
    shas = build_repo(args.work, modes=False)
    sides = {"before": args.before.resolve(), "after": ROOT}
    records: list[dict] = []
    documents = args.work.parent
    smoke(ROOT, args.work, shas["same7"], args.device, args.suite, documents / "warm.json")  # fills Triton's cache
    for index in range(args.rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for side in order:
            document = documents / f"smoke-{side}-{index}.json"
            records.append(
                {
                    "side": side,
                    "round": index,
                    "what": "smoke",
                    **smoke(sides[side], args.work, shas["same7"], args.device, args.suite, document),
                }
            )
            print(json.dumps({k: v for k, v in records[-1].items() if k != "stderr"}), flush=True)
        for side in order if args.full_budget else []:
            document = documents / f"smoke-full-{side}-{index}.json"
            sha = shas["same7"]
            records.append(
                {
                    "side": side,
                    "round": index,
                    "what": "smoke_full_budget",
                    **smoke(sides[side], args.work, sha, args.device, args.suite, document, args.full_budget),
                }
            )
            print(json.dumps({k: v for k, v in records[-1].items() if k != "stderr"}), flush=True)
        for side in order:
            records.append(
                {
                    "side": side,
                    "round": index,
                    "what": "pairs",
                    **pairs(sides[side], args.work, shas["same6"], shas["same7"], args.device, args.case, args.pairs),
                }
            )
            print(json.dumps({k: v for k, v in records[-1].items() if k != "stderr"}), flush=True)
    medians = {}
    for side in sides:
        mine = [r for r in records if r["side"] == side]
        per_pair = [r["s_per_pair"] for r in mine if r["what"] == "pairs" and r["s_per_pair"]]
        medians[side] = {"s_per_pair": statistics.median(per_pair) if per_pair else None}
        for what in ("smoke", "smoke_full_budget"):
            runs = [r for r in mine if r["what"] == what and r["exit"] == 0]
            if runs:
                medians[side][f"{what}_wall_s"] = statistics.median(r["wall_s"] for r in runs)
                medians[side][f"{what}_sampling_s"] = statistics.median(r["sampling_s"] for r in runs)
                medians[side][f"{what}_sampling_share"] = statistics.median(r["sampling_s"] / r["wall_s"] for r in runs)
    document = {
        "device": args.device,
        "suite": args.suite,
        "case": CASE,
        "pairs": args.pairs,
        "full_budget_s": args.full_budget,
        "medians": medians,
        "records": records,
    }
    if args.device == "cuda":
        document["card"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"], capture_output=True, text=True
        ).stdout.strip()
    args.out.write_text(json.dumps(document, indent=1))
    print(json.dumps(medians, indent=1))


if __name__ == "__main__":
    main()
