"""Run perfci's worker on every case of a tier, without a store: what `perfci run` would measure
and record per case (timing mode, median, correctness), on a GPU machine that lacks perfci's
database dependencies.

    python benchmarks/worker_smoke.py [--tier smoke] [--budget 3] [--device cuda|cpu] [--match prefill/]
        --out results.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perfci.runner.worker import RESULT_PREFIX  # noqa: E402
from perfci.suite.cases import tier  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tier", default="smoke")
    parser.add_argument("--budget", type=float, default=3.0, help="sampling seconds per case")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda", help="cpu: Triton's interpreter")
    parser.add_argument("--match", default="", help="only the cases whose id contains this text")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    results = []
    for case in [case for case in tier(args.tier) if args.match in case.id]:
        request = {
            "worktree": str(ROOT),
            "device": args.device,
            "case": dataclasses.asdict(case),
            "budget_s": args.budget,
        }
        done = subprocess.run(
            [sys.executable, "-m", "perfci.runner.worker", "--cases"],
            input=json.dumps(request) + "\n",
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        result = json.loads(lines[-1][len(RESULT_PREFIX) :]) if lines else {"status": "failed", "error": done.stderr}
        result["case"] = case.id
        results.append(result)
        median = statistics.median(result["samples"]) if result.get("samples") else float("nan")
        mode = (result.get("timing") or {}).get("mode")
        print(f"{case.id:60s} {result['status']:9s} {mode!s:8s} {median:.4f} ms", flush=True)
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
