"""SWA kernel performance on one GPU, side by side with FlexAttention, against ceilings measured now.

    python benchmarks/kernels_bench.py --out results.json [--only decode|prefill] [--sweep] [--rounds N]
        [--configs 64x64w4s3-tma,128x64w4s2-tma-pack]   # sweep only these
        [--match int8,b64-kv16k]                          # cases whose name contains any of these
        [--fused-int8]                                    # int8 prefill converts in the kernel, not first

Per case: our kernel's median time (GPU kernel time from CUPTI's records with L2 flushed, or
CUDA-graph replay for microsecond decode cases; ``api_*`` fields also give the whole call timed
with CUDA events, host-side argument checks included),
useful TFLOP/s or GB/s (perfci.suite.model), % of the roofline at the ceilings measured at the start
of the same run (device-to-device copy, bf16 GEMM), the error against a float64 reference (or
FlexAttention where the reference would not fit), and FlexAttention on the same mask and shapes
(dense K/V gathered from the pages, ``enable_gqa=True``). ``--sweep`` also times every config.
Our default, every swept config and FlexAttention are timed in interleaved rounds (``--rounds``);
each reported time is the median of the per-round medians, so slow phases of a shared card hit
every contender alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from kernels.swa import decode as decode_mod
from kernels.swa import prefill as prefill_mod
from kernels.swa import reference
from perfci.measure.ceilings import measure_ceilings
from perfci.measure.cuda_timing import time_cuda
from perfci.suite.inputs import PagedInputs, decode_inputs, prefill_inputs
from perfci.suite.model import decode_min_bytes, prefill_flops, prefill_pairs, roofline_seconds

HQ, HKV, D = 32, 8, 128


@dataclass
class Case:
    name: str
    op: str
    batch: int
    kv_len: int
    local: int | None
    sinks: int | None
    page: int
    q_len: int = 1
    int8: bool = False
    graph: bool = False
    peer: bool = True
    check: str = "reference"  # reference | flex | none
    notes: list[str] = field(default_factory=list)


def gather_dense(x: PagedInputs, kv_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, Hkv, kv_len, D) bf16 K/V in logical order (dequantized for int8) for the dense peer."""
    page = x.k_cache.shape[2]
    n_pages = -(-kv_len // page)
    keys, values = [], []
    for b in range(x.block_tables.shape[0]):
        pages = x.block_tables[b, :n_pages].long()
        for cache, scale, out in ((x.k_cache, x.k_scale, keys), (x.v_cache, x.v_scale, values)):
            tokens = cache[pages].permute(1, 0, 2, 3).reshape(HKV, -1, D)[:, :kv_len]
            if scale is not None:
                tokens = tokens.float() * scale[:, None, :]
            out.append(tokens.to(torch.bfloat16))
    return torch.stack(keys), torch.stack(values)


def flex_peer(x: PagedInputs, case: Case) -> tuple[callable, torch.Tensor]:
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    k, v = gather_dense(x, case.kv_len)
    offset = case.kv_len - case.q_len
    local, sinks = case.local, case.sinks

    def mask_mod(b, h, q_idx, kv_idx):
        p = q_idx + offset
        visible = kv_idx <= p
        in_band = (p - kv_idx <= local) if local is not None else (kv_idx < 0)
        is_sink = (kv_idx < sinks) if sinks is not None else (kv_idx < 0)
        return visible & (in_band | is_sink)

    block_mask = create_block_mask(mask_mod, B=None, H=None, Q_LEN=case.q_len, KV_LEN=case.kv_len, device="cuda")
    q = x.q.view(case.batch, case.q_len, HQ, D).transpose(1, 2).contiguous()
    torch._dynamo.reset()  # one compile per case: past dynamo's recompile limit Flex would fall back to eager
    compiled = torch.compile(flex_attention, dynamic=False)

    def run():
        return compiled(q, k, v, block_mask=block_mask, enable_gqa=True)

    out = run().transpose(1, 2).reshape(-1, HQ, D)
    return run, out


def inputs_for(case: Case) -> PagedInputs:
    cache_dtype = torch.int8 if case.int8 else None
    if case.op == "decode":
        return decode_inputs([case.kv_len] * case.batch, HQ, HKV, D, case.page, cache_dtype=cache_dtype, device="cuda")
    return prefill_inputs(
        [case.q_len] * case.batch,
        [case.kv_len] * case.batch,
        HQ,
        HKV,
        D,
        case.page,
        cache_dtype=cache_dtype,
        device="cuda",
    )


def kernel_call(x: PagedInputs, case: Case, config=None, dequantize: bool | None = None):
    out = torch.empty_like(x.q)
    kwargs = {
        "local_window": case.local,
        "global_window": case.sinks,
        "k_scale": x.k_scale,
        "v_scale": x.v_scale,
        "out": out,
        "config": config,
    }
    if case.op == "decode":
        return lambda: decode_mod.paged_decode_with_config(*x.args(), **kwargs), out
    return lambda: prefill_mod.paged_prefill_with_config(*x.args(), dequantize=dequantize, **kwargs), out


def rel_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    return ((out.double() - ref.double()).norm() / ref.double().norm()).item()


def work(case: Case) -> dict:
    if case.op == "decode":
        nbytes = decode_min_bytes(
            [case.kv_len] * case.batch,
            case.local,
            case.sinks,
            q_heads=HQ,
            kv_heads=HKV,
            head_dim=D,
            q_elem=2,
            kv_elem=1 if case.int8 else 2,
            page_size=case.page,
            quantized=case.int8,
        )
        return {"flops": 0, "bytes": nbytes}
    pairs = prefill_pairs([case.q_len] * case.batch, [case.kv_len] * case.batch, case.local, case.sinks)
    kv_elem = 1 if case.int8 else 2
    # bytes: q in, out, and each K/V row visible to some query read once
    rows = case.batch * min(case.kv_len, (case.local or case.kv_len) + case.q_len + (case.sinks or 0))
    nbytes = 2 * case.batch * case.q_len * HQ * D * 2 + rows * HKV * D * 2 * kv_elem
    return {"flops": prefill_flops(pairs, HQ, D), "bytes": nbytes, "pairs": pairs}


def interleaved_medians(
    calls: dict[object, tuple[callable, str]], rounds: int
) -> tuple[dict[object, list[float]], dict[object, list[int | None]]]:
    """Per contender (a call and its timing mode), the median of each round and the SM clock after
    it; rounds visit the contenders in rotated order so a drift of the shared card's speed (clocks,
    neighbours) lands on all of them, not on one."""
    names = list(calls)
    medians: dict[object, list[float]] = {name: [] for name in names}
    clocks: dict[object, list[int | None]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            call, mode = calls[name]
            medians[name].append(statistics.median(time_cuda(call, mode, rep_ms=40)))
            clocks[name].append(sm_clock_mhz())
    return medians, clocks


def sm_clock_mhz() -> int | None:
    """The SM clock now (NVML), to tell a throttled round from a slow kernel."""
    try:
        return torch.cuda.clock_rate()
    except Exception:  # no NVML binding: the times stand alone
        return None


def run_case(
    case: Case, ceilings: dict, sweep: bool, rounds: int, sweep_labels: set[str], dequantize: bool | None = None
) -> dict:
    torch.manual_seed(0)
    x = inputs_for(case)
    mode = "graph" if case.graph else "kernels"
    fn, out = kernel_call(x, case, dequantize=dequantize)
    fn()
    torch.cuda.synchronize()
    record: dict = {"case": case.name, "op": case.op, "mode": mode, "params": case.__dict__ | {"notes": None}}
    if case.check == "reference":
        ref_fn = reference.paged_decode if case.op == "decode" else reference.paged_prefill
        args = (x.seqlens,) if case.op == "decode" else (x.cu_seqlens_q, x.seqlens_kv)
        ref = ref_fn(
            x.q,
            x.k_cache,
            x.v_cache,
            *args,
            x.block_tables,
            local_window=case.local,
            global_window=case.sinks,
            **x.cache_kwargs(),
        )
        record["rel_err"] = rel_error(out, ref)
    else:
        ref = None
    w = work(case)
    floor = roofline_seconds(w["flops"], w["bytes"], ceilings["bf16_tflops"] * 1e12, ceilings["copy_gbps"] * 1e9)
    # Contenders are keyed "default", "api", "flex" or by their KernelConfig (frozen, hashable).
    contenders: dict[object, tuple[callable, str]] = {"default": (fn, mode)}
    if mode == "kernels":  # the same call timed whole: what a caller that syncs after it waits
        contenders["api"] = (fn, "events")
    sweep_entries: dict[object, dict] = {}
    if sweep:
        configs = decode_mod.CUDA_CONFIGS if case.op == "decode" else prefill_mod.CUDA_CONFIGS
        for config in configs:
            if sweep_labels and config.label not in sweep_labels:
                continue
            call, call_out = kernel_call(x, case, config, dequantize)
            try:  # a config that fails to compile is a result, not a crash
                call()
                sweep_entries[config] = {
                    "config": config.as_dict(),
                    "rel_err": rel_error(call_out, ref if ref is not None else out),
                }
                contenders[config] = (call, mode)
            except Exception as error:
                sweep_entries[config] = {"config": config.as_dict(), "error": str(error)[:300]}
    if case.peer and not case.int8:
        try:
            peer_fn, peer_out = flex_peer(x, case)
            record["flex_rel_vs_ours"] = rel_error(out, peer_out)
            contenders["flex"] = (peer_fn, mode)
            if mode == "kernels":  # Flex never syncs: its events and kernel records should agree
                contenders["flex_api"] = (peer_fn, "events")
        except Exception as error:
            record["flex_error"] = f"{type(error).__name__}: {str(error)[:300]}"
    medians, clocks = interleaved_medians(contenders, rounds)
    median_ms = statistics.median(medians["default"])
    record.update(
        samples_ms=medians["default"],
        sm_clock_mhz=clocks["default"],
        median_ms=median_ms,
        work=w,
        tflops=w["flops"] / (median_ms * 1e-3) / 1e12,
        gbps=w["bytes"] / (median_ms * 1e-3) / 1e9,
        roofline_fraction=floor / (median_ms * 1e-3),
    )
    if case.op == "decode":
        record["config"] = decode_mod.default_config(x.q, case.page, case.int8).as_dict()
    else:  # the config and int8 path the call launched, as the kernel chose them
        plan = prefill_mod.launch_plan(
            *x.args(), local_window=case.local, global_window=case.sinks, **x.cache_kwargs(), dequantize=dequantize
        )
        record.update(config=plan.config.as_dict(), int8_prefill_path=plan.path)
    if "api" in medians:
        record.update(api_round_medians_ms=medians["api"], api_median_ms=statistics.median(medians["api"]))
    for config, entry in sweep_entries.items():
        if config in medians:
            entry["round_medians_ms"] = medians[config]
            entry["median_ms"] = statistics.median(medians[config])
    record["sweep"] = list(sweep_entries.values())
    if "flex" in medians:
        record["flex_round_medians_ms"] = medians["flex"]
        record["flex_sm_clock_mhz"] = clocks["flex"]
        record["flex_median_ms"] = statistics.median(medians["flex"])
        record["speedup_vs_flex"] = record["flex_median_ms"] / median_ms
    if "flex_api" in medians:
        record.update(
            flex_api_round_medians_ms=medians["flex_api"], flex_api_median_ms=statistics.median(medians["flex_api"])
        )
    del x, ref
    torch.cuda.empty_cache()
    return record


def cases(only: str | None, match: list[str]) -> list[Case]:
    decode = [
        Case("decode/b8-kv1024-p32-l1023-g4", "decode", 8, 1024, 1023, 4, 32, graph=True),
        Case("decode/b32-kv4096-p128-l4095-g64", "decode", 32, 4096, 4095, 64, 128, graph=True),
        Case("decode/b1-kv32k-p128-l4095-g4", "decode", 1, 32768, 4095, 4, 128, graph=True),
        Case("decode/b64-kv16k-p128-l4095-g4", "decode", 64, 16384, 4095, 4, 128),
        Case("decode/b64-kv16k-p128-l4095-g4-int8", "decode", 64, 16384, 4095, 4, 128, int8=True),
        Case("decode/b32-kv8k-p128-l4095-g4", "decode", 32, 8192, 4095, 4, 128, peer=False),
        Case("decode/b32-kv32k-p128-l4095-g4", "decode", 32, 32768, 4095, 4, 128, peer=False),
        Case("decode/b32-kv128k-p128-l4095-g4", "decode", 32, 131072, 4095, 4, 128, peer=False),
        Case("decode/b64-kv4096-p16-l127-g4", "decode", 64, 4096, 127, 4, 16),
        Case("decode/b32-kv32k-p128-l4095-g4-int8", "decode", 32, 32768, 4095, 4, 128, int8=True, peer=False),
    ]
    prefill = [
        Case("prefill/b2-q4096-p64-l1023-g16", "prefill", 2, 4096, 1023, 16, 64, q_len=4096),
        Case("prefill/b2-q4096-p64-l1023-g16-int8", "prefill", 2, 4096, 1023, 16, 64, q_len=4096, int8=True),
        Case("prefill/b1-q16k-p64-l1023-g4", "prefill", 1, 16384, 1023, 4, 64, q_len=16384, check="flex"),
        Case(
            "prefill/b1-q16k-p64-l1023-g4-int8", "prefill", 1, 16384, 1023, 4, 64, q_len=16384, int8=True, check="none"
        ),
        Case("prefill/b1-q16k-p128-l4095-g64", "prefill", 1, 16384, 4095, 64, 128, q_len=16384, check="flex"),
        Case("prefill/b8-q8k-p128-l4095-g4", "prefill", 8, 8192, 4095, 4, 128, q_len=8192, check="flex"),
        Case("prefill/b4-q2k-prefix16k-p64-l4095-g4", "prefill", 4, 18432, 4095, 4, 64, q_len=2048, check="flex"),
        Case("prefill/b16-q1k-p16-l127-g4", "prefill", 16, 1024, 127, 4, 16, q_len=1024),
    ]
    chosen = [c for c in decode + prefill if only is None or c.op == only]
    return [c for c in chosen if not match or any(text in c.name for text in match)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", choices=["decode", "prefill"])
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per contender")
    parser.add_argument("--match", default="", help="only cases whose name contains one of these (comma-separated)")
    parser.add_argument("--configs", default="", help="sweep only these, e.g. 64x64w4s3-tma,128x64w4s2-tma-pack")
    parser.add_argument("--fused-int8", action="store_true", help="int8 prefill: the fused kernel (dequantize=False)")
    args = parser.parse_args()
    labels = {label for label in args.configs.split(",") if label}
    known = {config.label for config in decode_mod.CUDA_CONFIGS + prefill_mod.CUDA_CONFIGS}
    if labels - known:
        parser.error(f"--configs: unknown {sorted(labels - known)}; known: {sorted(known)}")
    ceilings = measure_ceilings()
    torch.cuda.empty_cache()
    report = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "triton": __import__("triton").__version__,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "ceilings": ceilings,
        "results": [],
    }
    print(
        f"{report['device']}: copy {report['ceilings']['copy_gbps']:.0f} GB/s, "
        f"bf16 GEMM {report['ceilings']['bf16_tflops']:.0f} TFLOP/s",
        flush=True,
    )
    for case in cases(args.only, [text for text in args.match.split(",") if text]):
        t0 = time.time()
        try:
            record = run_case(
                case,
                report["ceilings"],
                args.sweep or bool(labels),
                args.rounds,
                labels,
                False if args.fused_int8 else None,
            )
        except Exception as error:
            record = {"case": case.name, "error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
        record["wall_s"] = time.time() - t0
        report["results"].append(record)
        args.out.write_text(json.dumps(report, indent=1))
        if "error" in record:
            print(f"{case.name:45s} ERROR {record['error'][:200]}", flush=True)
            continue
        flex = record.get("flex_error", "")[:80]
        if "flex_median_ms" in record:
            flex = f"flex {record['flex_median_ms']:.4f} ms x{record['speedup_vs_flex']:.2f}"
        print(
            f"{case.name:45s} {record['median_ms']:.4f} ms {record['tflops']:6.1f} TF/s {record['gbps']:7.1f} GB/s "
            f"roof {record['roofline_fraction']:.0%} err {record.get('rel_err', float('nan')):.1e} {flex} "
            f"api {record.get('api_median_ms', float('nan')):.4f} "
            f"flex api {record.get('flex_api_median_ms', float('nan')):.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
