"""Time to verdict of one commit: warm worker processes against a fresh process per case.

    python benchmarks/warm_workers.py --out results/runner [--suite smoke] [--device cuda]
        [--cases 'decode/*'] [--rounds 1] [--name warm]

Builds a throwaway repository holding this checkout's ``kernels/`` (one commit) and runs
``perfci run --suite SUITE --budget 2 --no-store`` on it, one run after another: warm processes
(the default) once to fill Triton's compile cache, then ``--rounds`` times ``--fresh-processes``
and warm again. Writes each run's document and log (``NAME-warm-0``, ``NAME-fresh-1``,
``NAME-warm-1``, ...) and ``NAME-summary.json``: per run its wall time and phase totals
(``timing.phases`` summed), and per round and case the fresh run's median over the warm run's, so
a shift the warm processes bring to the values would show.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfci.runner.phases import breakdown  # noqa: E402


def tracked_repository(work: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(ROOT / "kernels", work / "kernels", ignore=shutil.ignore_patterns("__pycache__"))
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "perfci benchmark"],
        ["config", "user.email", "benchmark@example.com"],
        ["add", "-A"],
        ["commit", "-q", "-m", "kernels"],
    ):
        subprocess.run(["git", *args], cwd=work, check=True)


def measured_run(work: Path, out: Path, name: str, selection: list[str], *extra: str) -> dict:
    document = out / f"{name}.json"
    command = ["run", *selection, "--budget", "2", "--no-store", "-o", str(document)]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "perfci", *command, *extra], cwd=work, capture_output=True, text=True)
    wall = time.perf_counter() - start
    (out / f"{name}.log").write_text(proc.stderr)
    results = json.loads(document.read_text())["results"] if document.exists() else []
    return {
        "name": name,
        "args": list(extra),
        "exit": proc.returncode,
        "wall_s": round(wall, 1),
        "phases_s": {k: round(v, 2) for k, v in (breakdown(results) or {}).items()},
        "medians_ms": {r["case"]: statistics.median(r["samples"]) for r in results if r.get("samples")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--suite", default="smoke")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--cases", help="only the cases matching this pattern (perfci run --cases)")
    parser.add_argument("--rounds", type=int, default=1, help="fresh-then-warm rounds after the first warm run")
    parser.add_argument("--name", default="warm", help="prefix of the files written")
    parser.add_argument("--work", type=Path, default=Path("/tmp/perfci-warm/tracked"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    tracked_repository(args.work)
    selection = ["--suite", args.suite, "--device", args.device, *(["--cases", args.cases] if args.cases else [])]
    plan = [("warm-0", ())]
    for index in range(1, args.rounds + 1):
        plan += [(f"fresh-{index}", ("--fresh-processes",)), (f"warm-{index}", ())]
    runs = []
    for name, extra in plan:
        runs.append(measured_run(args.work, args.out, f"{args.name}-{name}", selection, *extra))
        print(json.dumps({k: runs[-1][k] for k in ("name", "exit", "wall_s")}), flush=True)
    rounds = []
    for fresh, warm in zip(runs[1::2], runs[2::2], strict=True):
        a, b = fresh["medians_ms"], warm["medians_ms"]
        rounds.append({case: a[case] / b[case] for case in a if case in b})
    summary = {"selection": selection, "runs": runs, "fresh_over_warm": rounds}
    (args.out / f"{args.name}-summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
