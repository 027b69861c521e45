"""Render kernels_bench.py results as the markdown table of docs/perf/kernels.md (no GPU needed).

    python benchmarks/kernels_table.py results/kernels/decode-grid.json \
        results/kernels/prefill-grid.json

One row per case: timing mode, our median time, the useful rate (TFLOP/s on visible pairs for
prefill, GB/s on docs/spec/swa-kernels.md's minimum bytes for decode), that time as a fraction of the roofline
at the ceilings measured in the same run, FlexAttention's time and our speed-up over it, the error
against the float64 reference (or against FlexAttention, marked, where the reference would not
fit), and the config (with the int8 prefill path) the call launched. The tables in the docs are
this script's output, so a number there can be traced to its results file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def config_label(config: dict, path: str | None) -> str:
    label = f"{config['BLOCK_M']}x{config['BLOCK_N']}w{config['num_warps']}s{config['num_stages']}"
    label += ("-tma" if config.get("TMA") else "") + ("-pack" if config.get("PACK_GQA") else "")
    return f"{label} ({path})" if path else label


def error_text(record: dict) -> str:
    if record.get("rel_err") is not None:
        return f"{record['rel_err']:.1e}"
    if record.get("flex_rel_vs_ours") is not None:
        return f"{record['flex_rel_vs_ours']:.1e} vs Flex"
    return "-"


def row(record: dict) -> str:
    if "error" in record:
        return f"| {record['case']} | error: {record['error'][:80]} |" + " |" * 7
    rate = f"{record['tflops']:.0f} TFLOP/s" if record["op"] == "prefill" else f"{record['gbps']:.0f} GB/s"
    flex = "-", "-"
    if "flex_median_ms" in record:
        flex = f"{record['flex_median_ms']:.4f}", f"{record['speedup_vs_flex']:.2f}x"
    path = record.get("int8_prefill_path") if record["op"] == "prefill" and record["params"].get("int8") else None
    cells = [
        record["case"],
        record["mode"],
        f"{record['median_ms']:.4f}",
        rate,
        f"{record['roofline_fraction']:.0%}",
        *flex,
        error_text(record),
        config_label(record["config"], path),
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, nargs="+", help="kernels_bench.py --out files")
    args = parser.parse_args()
    header = [
        "case",
        "timing",
        "ms",
        "useful rate",
        "% of roofline",
        "FlexAttention ms",
        "ours vs Flex",
        "rel. error",
        "config",
    ]
    print("| " + " | ".join(header) + " |\n" + "|---" * len(header) + "|")
    for path in args.results:
        report = json.loads(path.read_text())
        for record in report["results"]:
            print(row(record))
    for path in args.results:
        report = json.loads(path.read_text())
        ceilings = report["ceilings"]
        print(
            f"\n{path.name}: {report['device']}, {report['date']}, ceilings copy {ceilings['copy_gbps']:.0f} GB/s, "
            f"bf16 GEMM {ceilings['bf16_tflops']:.0f} TFLOP/s"
        )


if __name__ == "__main__":
    main()
