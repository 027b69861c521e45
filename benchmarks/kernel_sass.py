"""Compile the SWA kernels for Hopper (sm_90a) on a machine without a GPU and count what they issue.

    python benchmarks/kernel_sass.py prefill [--int8] [--block-m 64 --block-n 64 --warps 4 --stages 3 --tma --pack 4]
        [--long-band]
    python benchmarks/kernel_sass.py decode [--int8] [--block-n 64 --warps 4 --stages 3]
    (either with --sass-out FILE: the whole SASS listing, to diff two versions of a kernel)

Prints registers per thread and stack (spill) bytes from the cubin, shared memory, and for each loop
of the SASS (a backward branch) its instruction count and most frequent opcodes: the per-iteration
cost of the masked, unmasked and int8 walks, without spending GPU time. Shapes: Hq 32, Hkv 8, D 128,
bf16 q, pages of 64 (prefill) / 128 (decode). Uses the ptxas/cuobjdump that ship with Triton.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from kernels.swa import decode, prefill

TOOLS = Path(triton.__file__).parent / "backends" / "nvidia" / "bin"


def compile_kernel(
    fn, types: dict[str, str], constants: dict[str, object], warps: int, stages: int
) -> tuple[bytes, int, str]:
    """The cubin, its shared memory and the TTGIR Triton would build on an H100/H200 for these
    argument types and constexprs; pointers and strides marked 16-divisible, as Triton's launcher does."""
    names = list(fn.arg_names)
    signature = {name: types.get(name, "constexpr") for name in names}
    for name, value in constants.items():
        if value is None:
            signature[name] = "constexpr"
    aligned = {
        (names.index(name),): [["tt.divisibility", 16]]
        for name, kind in signature.items()
        if kind.startswith("*") or (name.startswith("stride") and name != "stride_bt")
    }
    source = ASTSource(fn, signature, constants, aligned)
    kernel = triton.compile(
        source, target=GPUTarget("cuda", 90, 32), options={"num_warps": warps, "num_stages": stages}
    )
    return kernel.asm["cubin"], kernel.metadata.shared, kernel.asm["ttgir"]


def _common_types(kv: str) -> dict[str, str]:
    """Argument types both kernels share: bf16 q and out, ``kv`` caches with fp32 scales."""
    return {
        "Q": "*bf16",
        "K": f"*{kv}",
        "V": f"*{kv}",
        "KS": "*fp32",
        "VS": "*fp32",
        "O": "*bf16",
        "BT": "*i32",
        "qk_scale": "fp32",
        "local": "i32",
        "sinks": "i32",
    }


def prefill_kernel(args: argparse.Namespace) -> tuple[bytes, int, str]:
    kv = "i8" if args.int8 else "bf16"
    types = _common_types(kv) | {"CU_Q": "*i32", "SEQ_KV": "*i32"}
    types |= {name: "i32" for name in prefill._prefill_kernel.arg_names if name.startswith("stride")}
    if args.tma:
        types |= {
            "DESC_K": f"tensordesc<{kv}[{args.block_n}, 128]>",
            "DESC_V": f"tensordesc<{kv}[{args.block_n}, 128]>",
        }
    constants = {
        "GROUP": 4,
        "PACK": args.pack,
        "NUM_KV_HEADS": 8,
        "INTERLEAVE": False,
        "HEAD_DIM": 128,
        "BLOCK_D": 128,
        "BLOCK_M": args.block_m,
        "BLOCK_N": args.block_n,
        "PAGE": 64,
        "PAGE_ALIGNED": True,
        "CAUSAL": True,
        "HAS_SEQ_KV": True,
        "QUANT": args.int8,
        "UPCAST": False,
        "USE_TMA": args.tma,
        "BLOCK_S": min(16, args.block_n),
        "SPLIT_BAND": args.long_band,
    }
    if not args.tma:
        constants |= {"DESC_K": None, "DESC_V": None}
    if not args.int8:
        constants |= {"KS": None, "VS": None}
    return compile_kernel(prefill._prefill_kernel, types, constants, args.warps, args.stages)


def decode_kernel(args: argparse.Namespace) -> tuple[bytes, int, str]:
    kv = "i8" if args.int8 else "bf16"
    types = _common_types(kv) | {"SEQ": "*i32", "M_WS": "*fp32", "L_WS": "*fp32", "ACC_WS": "*fp32", "capacity": "i32"}
    types |= {name: "i32" for name in decode._decode_kernel.arg_names if name.startswith("stride")}
    constants = {
        "GROUP": 4,
        "GROUP_PAD": 16,
        "NUM_KV_HEADS": 8,
        "INTERLEAVE": False,
        "HEAD_DIM": 128,
        "BLOCK_D": 128,
        "BLOCK_N": args.block_n,
        "SPLITS": 2,
        "PAGE": 128,
        "PAGE_ALIGNED": True,
        "QUANT": args.int8,
        "UPCAST": False,
        "V_WORDS": args.int8,
    }
    if not args.int8:
        constants |= {"KS": None, "VS": None}
    return compile_kernel(decode._decode_kernel, types, constants, args.warps, args.stages)


def loops(sass: str) -> list[tuple[int, collections.Counter]]:
    """(instruction count, opcode histogram) of every innermost loop body (backward branch) of a
    SASS listing; barrier-wait spins (a few instructions) are skipped."""
    instructions = [
        (int(m.group(1), 16), m.group(2).strip()) for m in re.finditer(r"/\*([0-9a-f]{4,})\*/\s+(.*?);", sass)
    ]
    index = {address: i for i, (address, _) in enumerate(instructions)}
    spans = []
    for i, (address, text) in enumerate(instructions):
        branch = re.search(r"\bBRA\b.*?0x([0-9a-f]+)", text)
        if branch and int(branch.group(1), 16) < address and int(branch.group(1), 16) in index:
            start = index[int(branch.group(1), 16)]
            if i - start > 8:
                spans.append((start, i))
    innermost = [(a, b) for a, b in spans if not any(a <= c and d <= b and (c, d) != (a, b) for c, d in spans)]
    found = []
    for a, b in innermost:
        opcodes = [re.sub(r"^@!?U?P\w+\s+", "", text).split()[0].split(".")[0] for _, text in instructions[a : b + 1]]
        found.append((b - a + 1, collections.Counter(opcodes)))
    return found


def pipeline_buffers(ttgir: str) -> list[str]:
    """The shared-memory ring each software-pipelined load got: ``name: N x shape``. N is how many
    tiles the loop keeps in flight (1 = the next tile is fetched while this one is used, no more);
    ``num_stages`` alone does not say it, because a load whose address comes from another load
    (the page table) spends one stage waiting for that."""
    rings = re.findall(r"%(\w+?)(?:_\d+)? = ttg\.local_alloc : \(\) -> !ttg\.memdesc<(\d+)x([\dx]+)x(\w+),", ttgir)
    # i64 rings are the TMA loads' mbarriers, not data
    return [f"{name}: {depth} x {shape} {dtype}" for name, depth, shape, dtype in rings if dtype != "i64"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("op", choices=["prefill", "decode"])
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--block-m", type=int, default=64)
    parser.add_argument("--block-n", type=int, default=64)
    parser.add_argument("--warps", type=int, default=4)
    parser.add_argument("--stages", type=int, default=3)
    parser.add_argument("--tma", action="store_true")
    parser.add_argument("--pack", type=int, default=1, help="query heads per program (prefill)")
    parser.add_argument("--long-band", action="store_true", help="prefill: a walk per mask kind (bands >= 2048)")
    parser.add_argument("--sass-out", type=Path, help="also write the whole SASS listing here (to diff two versions)")
    args = parser.parse_args()
    cubin, shared, ttgir = (prefill_kernel if args.op == "prefill" else decode_kernel)(args)
    with tempfile.NamedTemporaryFile(suffix=".cubin") as file:
        file.write(cubin)
        file.flush()
        usage = subprocess.run([TOOLS / "cuobjdump", "-res-usage", file.name], capture_output=True, text=True).stdout
        sass = subprocess.run([TOOLS / "cuobjdump", "-sass", file.name], capture_output=True, text=True).stdout
    if args.sass_out:
        args.sass_out.write_text(sass)
    registers = re.search(r"REG:(\d+)", usage)
    stack = re.search(r"STACK:(\d+)", usage)
    print(
        f"{args.op}: registers {registers.group(1) if registers else '?'}, stack {stack.group(1) if stack else '?'} "
        f"bytes, shared memory {shared} bytes"
    )
    print("  pipelined loads: " + ("; ".join(pipeline_buffers(ttgir)) or "none"))
    for count, ops in loops(sass):
        print(f"  loop: {count:5d} instructions/iteration  " + ", ".join(f"{k} {v}" for k, v in ops.most_common(10)))


if __name__ == "__main__":
    main()
