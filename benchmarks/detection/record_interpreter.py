"""Record A/A timing noise of the tiny tier under Triton's interpreter on this machine.

    python benchmarks/detection/record_interpreter.py --runs 30 --out benchmarks/detection/data/interpreter-aa.jsonl
    python benchmarks/detection/record_interpreter.py --from DIR --out ...   # convert documents already written

Each run is ``perfci run`` of the same commit (this checkout's HEAD) over three tiny cases, one
worker process per case, written with ``-o``; the output has one JSON line per run:
``{case: {"median": ms, "all": [every sample in ms]}}``, the shape of ../shared/data's files.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = ("decode/bf16/b3-kv96-*", "prefill/bf16/b2-q40-*", "decode/int8kv/b2-kv40-*")


def convert(documents: list[Path]) -> list[dict]:
    lines = []
    for path in documents:
        document = json.loads(path.read_text())
        lines.append(
            {
                r["case"]: {"median": statistics.median(r["samples"]), "all": r["samples"]}
                for r in document["results"]
                if r.get("samples")
            }
        )
    return lines


def record(runs: int, directory: Path) -> list[Path]:
    paths = []
    for index in range(runs):
        out = directory / f"run-{index + 1}.json"
        selection = [arg for case in CASES for arg in ("--cases", case)]
        options = ["--device", "interpreter", "--budget", "1", "--no-store", "-o", str(out), "--allow-dirty"]
        subprocess.run(
            [sys.executable, "-m", "perfci", "run", "--suite", "tiny", *selection, *options],
            check=False,
            capture_output=True,
        )
        if out.exists():
            paths.append(out)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--from", dest="source", type=Path, help="a folder of documents written with -o")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.source:
        paths = sorted(args.source.glob("*.json"), key=lambda p: int(p.stem.split("-")[-1]))
    else:
        paths = record(args.runs, Path(tempfile.mkdtemp()))
    lines = convert(paths)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(line) + "\n" for line in lines))
    print(f"{len(lines)} runs -> {args.out}")


if __name__ == "__main__":
    main()
