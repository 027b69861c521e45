"""A commit's cases in one process: its kernels, today's suite, timing and correctness.

Forked from a server that imported torch already (``perfci.runner.forkserver``), or run as
``python -m perfci.runner.worker MODE``. ``--cases``: one JSON request per line on stdin (a case),
one line ``PERFCI_RESULT {json}`` per case on stdout, until an empty line. The parent keeps the
process for the commit's next case (imports, CUDA context and CUPTI paid once) and ends it after a
case that failed; a crash (illegal memory access, segfault, out of memory) or a hang costs that
case only, the next case starting a fresh process. ``--serve`` is ``perfci compare``'s mode: one
case prepared, then one round of samples per line. ``--load WORKTREE`` only loads the commit's
kernels: the check that they import, before any case runs. ``--probe DEVICE`` finds the device,
the environment and (``ceilings``) the card's ceilings for the command (``perfci.runner.probe``).

Import order matters: perfci (installed) is imported first, then the commit's worktree is put at
the front of sys.path and ``kernels`` is imported from it (or an adapter file maps the commit's own
functions onto the contract: ``perfci.runner.adapter``), once per process. Correctness is judged
against the commit's own float64 reference (``kernels.swa.reference``), or the adapter's.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: when this module started running: what came before (interpreter start) is the process's own cost
MODULE_STARTED = time.perf_counter()


class Laps:
    """A case's phases: each mark names the seconds since the previous one (the first since
    ``started``: this module's start for a process's first case, the request's arrival for a later
    one), so the phases add up to the case's time in this process."""

    def __init__(self, started: float = MODULE_STARTED) -> None:
        self._last = started
        self.seconds: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._last, 4)
        self._last = now


#: what measuring a case imports besides torch and Triton (scipy's statistics the largest part, most
#: of a second): the fork server imports them once, not each worker (``perfci.runner.forkserver``)
CASE_IMPORTS = (
    "perfci.analysis.summary",
    "perfci.measure.adaptive",
    "perfci.measure.autotune",
    "perfci.measure.cuda_timing",
    "perfci.measure.telemetry",
    "perfci.runner.adapter",
    "perfci.suite.inputs",
    "perfci.suite.model",
)
RESULT_PREFIX = "PERFCI_RESULT "
READY_PREFIX = "PERFCI_READY "
ROUND_PREFIX = "PERFCI_ROUND "
#: Above this many float64 score bytes per sequence, prefill is checked on its first and last rows.
REFERENCE_BYTES_LIMIT = 2 * 1024**3
CHECK_ROWS = 256


def _rel_and_max(out: Any, ref: Any) -> tuple[float, float]:
    diff = out.double() - ref.double()
    norm = ref.double().norm().item()
    rel = diff.norm().item() / norm if norm > 0 else diff.norm().item()
    return rel, diff.abs().max().item() if diff.numel() else 0.0


def _prefill_reference_rows(reference: Any, x: Any, case: Any, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """(row index, reference rows): every row when the reference fits, else each sequence's first
    and last CHECK_ROWS rows, computed as smaller exact problems (rows are independent)."""
    import torch

    scores_bytes = case.q_heads * case.q_len * case.kv_len * 8
    if scores_bytes <= REFERENCE_BYTES_LIMIT:
        ref = reference.paged_prefill(*x.args(), **kwargs)
        return torch.arange(x.q.shape[0], device=x.q.device), ref
    rows, refs = [], []
    rows_per = min(CHECK_ROWS, case.q_len)
    prefix = case.kv_len - case.q_len
    for first in (True, False):
        index, q_parts = [], []
        for b in range(case.batch):
            start = b * case.q_len + (0 if first else case.q_len - rows_per)
            index.append(torch.arange(start, start + rows_per, device=x.q.device))
            q_parts.append(x.q[start : start + rows_per])
        # the first rows of a chunk see the same keys as a chunk of rows_per tokens after the prefix
        kv = prefix + rows_per if first else case.kv_len
        cu = torch.arange(0, (case.batch + 1) * rows_per, rows_per, dtype=torch.int32, device=x.q.device)
        seqlens = torch.full((case.batch,), kv, dtype=torch.int32, device=x.q.device)
        refs.append(
            reference.paged_prefill(torch.cat(q_parts), x.k_cache, x.v_cache, cu, seqlens, x.block_tables, **kwargs)
        )
        rows.append(torch.cat(index))
    return torch.cat(rows), torch.cat(refs)


def _kernel_config(swa: Any, case: Any, x: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The launch config the commit's kernels pick, when they say (best effort: an annotation)."""
    try:
        if case.op == "paged_decode":
            config = swa.decode.default_config(x.q, case.page_size, case.cache == "int8")
        elif hasattr(swa.prefill, "launch_plan"):  # commits since the kernels report what they launch
            plan = swa.prefill.launch_plan(*x.args(), **kwargs)
            return {**plan.config.as_dict(), **({"INT8_PATH": plan.path} if plan.path else {})}
        elif case.cache == "int8" and hasattr(swa.prefill, "int8_path"):  # older commits with the two-step path
            path = swa.prefill.int8_path(x.q, x.k_cache)
            config = swa.prefill.default_config(x.q, case.head_dim, path == "fused", case.local_window)
            return {**config.as_dict(), "INT8_PATH": path}
        else:
            config = swa.prefill.default_config(x.q, case.head_dim, case.cache == "int8", case.local_window)
        return dict(config.as_dict())
    except Exception:
        return {}


@dataclass
class PreparedCase:
    """A case ready to time: inputs built, kernel compiled, output checked against the reference."""

    case: Any
    device: str
    call: Callable[[], object]
    correctness: dict[str, Any]
    config: dict[str, Any]
    #: the config each autotuned kernel chose in this process (kernel name -> config)
    autotune: dict[str, dict[str, Any]]
    #: the process's phases so far: imports, loading the kernels, building inputs, the first
    #: (compiling) call and the check against the reference, the fixed cost before any sample
    laps: Laps


@functools.cache
def _kernels(worktree: str) -> tuple[Any, Any]:
    """The commit's kernels and reference, loaded once per process (a process measures one commit)."""
    from perfci.runner.adapter import load_kernels

    return load_kernels(worktree)


def prepare_case(request: dict[str, Any], started: float = MODULE_STARTED) -> PreparedCase:
    """Build inputs, compile (outside every timed region) and check correctness once."""
    import torch

    from perfci.suite.cases import SuiteCase
    from perfci.suite.inputs import decode_inputs, prefill_inputs

    laps = Laps(started)
    laps.mark("boot_s")  # reading the request, perfci's and torch's imports (a process's first case)
    swa, reference = _kernels(request["worktree"])
    laps.mark("load_s")

    case = SuiteCase(**request["case"])
    device = "cuda" if request["device"] == "cuda" else "cpu"
    dtype = torch.bfloat16 if case.dtype == "bf16" else torch.float16
    cache_dtype = torch.int8 if case.cache == "int8" else None
    shape = {"q_heads": case.q_heads, "kv_heads": case.kv_heads, "head_dim": case.head_dim, "page_size": case.page_size}
    if case.op == "paged_decode":
        x = decode_inputs(case.kv_lens(), dtype=dtype, cache_dtype=cache_dtype, device=device, seed=case.seed, **shape)
    else:
        x = prefill_inputs(
            case.q_lens(), case.kv_lens(), dtype=dtype, cache_dtype=cache_dtype, device=device, seed=case.seed, **shape
        )
    laps.mark("inputs_s")
    kwargs = {
        "local_window": case.local_window,
        "global_window": case.global_window,
        "k_scale": x.k_scale,
        "v_scale": x.v_scale,
    }
    out = torch.full_like(x.q, float("nan"))
    if case.op == "paged_decode":
        call = lambda: swa.paged_decode(*x.args(), out=out, **kwargs)
    else:
        call = lambda: swa.paged_prefill(*x.args(), out=out, **kwargs)

    from perfci.measure.autotune import recording_autotune

    with recording_autotune() as autotune:
        call()  # compiles (and autotunes) outside every timed region; writes into the NaN-poisoned buffer
        if device == "cuda":
            torch.cuda.synchronize()
    laps.mark("first_call_s")
    if case.op == "paged_decode":
        rows = torch.arange(x.q.shape[0], device=x.q.device)
        ref = reference.paged_decode(*x.args(), **kwargs)
    else:
        rows, ref = _prefill_reference_rows(reference, x, case, kwargs)
    checked = out[rows]
    finite = bool(torch.isfinite(checked).all())
    rel_err, max_abs = _rel_and_max(checked, ref) if finite else (float("inf"), float("inf"))
    passed = finite and rel_err <= case.tolerance
    del ref
    correctness = {
        "rel_err": rel_err if finite else None,
        "max_abs_err": max_abs if finite else None,
        "tolerance": case.tolerance,
        "passed": passed,
        "checked_rows": int(rows.numel()),
        "all_finite": finite,
    }
    config = _kernel_config(swa, case, x, kwargs)
    laps.mark("check_s")
    return PreparedCase(case, device, call, correctness, config, dict(autotune), laps)


def choose_timing_mode(prepared: PreparedCase) -> str:
    """The case's timing mode. ``auto``: graph replay for ops under AUTO_GRAPH_BELOW_MS, else the
    GPU time of the call's kernels (CUPTI records; events where the profiler cannot record them)."""
    from perfci.measure.cuda_timing import kernel_records_available, time_with_graph
    from perfci.suite.cases import AUTO_GRAPH_BELOW_MS

    if prepared.device != "cuda":
        return "wall-clock"
    mode = prepared.case.timing
    if mode != "auto":
        return mode
    if prepared.case.op == "paged_decode":
        # Estimated in a graph: event timing of a short op measures Python launch overhead.
        estimate = sorted(time_with_graph(prepared.call, replays=5))
        if estimate[len(estimate) // 2] < AUTO_GRAPH_BELOW_MS:
            return "graph"  # decided before the profiler is tried: starting CUPTI costs seconds a process
    # prefill reads its varlen metadata on the host: not graph-capturable, and ms-scale
    return "kernels" if kernel_records_available() else "events"


def measure_round(prepared: PreparedCase, mode: str) -> list[float]:
    """One round of samples in milliseconds (CUDA: ~50 ms of repetitions; interpreter: one call)."""
    if mode == "wall-clock":
        t0 = time.perf_counter()
        prepared.call()
        return [(time.perf_counter() - t0) * 1000.0]
    from perfci.measure.cuda_timing import time_cuda

    return time_cuda(prepared.call, mode, rep_ms=50)  # type: ignore[arg-type]


def _error_text(prepared: PreparedCase) -> str | None:
    c = prepared.correctness
    if c["passed"]:
        return None
    rel = c["rel_err"] if c["rel_err"] is not None else float("inf")
    return f"rel_err {rel:.3e} over tolerance {c['tolerance']:.0e}" + (
        "" if c["all_finite"] else " (NaN/Inf or unwritten output rows)"
    )


def run_case(request: dict[str, Any], started: float = MODULE_STARTED, warm: bool = False) -> dict[str, Any]:
    """The case's result; ``warm`` when this process measured an earlier case first (recorded: the
    fastest graph-timed decode cases read a few percent higher in a warm process on an H200)."""
    from perfci.analysis.summary import summarize
    from perfci.measure.adaptive import sample_until_precise
    from perfci.measure.telemetry import merge_telemetry, nvml_snapshot
    from perfci.suite.model import roofline_seconds

    prepared = prepare_case(request, started)
    case = prepared.case
    on_cuda = prepared.device == "cuda"
    before = nvml_snapshot() if on_cuda else {}
    mode = choose_timing_mode(prepared)
    prepared.laps.mark("mode_s")  # telemetry and choosing the timing mode
    samples, sampling = sample_until_precise(
        lambda: measure_round(prepared, mode),
        precision=request.get("precision", 0.005 if on_cuda else 0.02),
        budget_s=request.get("budget_s", 3.0),
        min_samples=20 if on_cuda else 3,
    )
    after = nvml_snapshot() if on_cuda else {}
    prepared.laps.mark("sampling_s")
    median_s = summarize(samples).median / 1000.0  # the median the store keeps
    flops, nbytes = case.flops(), case.min_bytes()
    metrics: dict[str, float | None] = {
        "tflops": flops / median_s / 1e12,
        "gbps": nbytes / median_s / 1e9,
        "useful_flops": float(flops),
        "min_bytes": float(nbytes),
    }
    ceilings = request.get("ceilings") or {}
    if ceilings.get("bf16_tflops") and ceilings.get("copy_gbps"):
        floor = roofline_seconds(flops, nbytes, ceilings["bf16_tflops"] * 1e12, ceilings["copy_gbps"] * 1e9)
        metrics["roofline_fraction"] = floor / median_s
    return {
        "status": "ok" if prepared.correctness["passed"] else "incorrect",
        "error": _error_text(prepared),
        "unit": "ms",
        "samples": samples,
        "correctness": prepared.correctness,
        "metrics": metrics,
        "config": prepared.config,
        "autotune": prepared.autotune,
        "telemetry": merge_telemetry(before, after),
        "timing": {"mode": mode, **sampling, "phases": prepared.laps.seconds, "warm": warm},
    }


def _emit(prefix: str, payload: dict[str, Any]) -> None:
    sys.stdout.write(prefix + json.dumps(payload, allow_nan=False, default=str) + "\n")
    sys.stdout.flush()


def serve(started: float = MODULE_STARTED) -> None:
    """Interactive mode for `perfci compare`: prepare once, then one round per request line.

    stdin: the request JSON on the first line, then ``{"mode": M}`` per round (empty line ends).
    stdout: ``PERFCI_READY {status, error, correctness, config, autotune, mode}``, then ``PERFCI_ROUND {samples}``.
    Two such workers (base and head) are driven alternately, so both see the same GPU state.
    """
    request = json.loads(sys.stdin.readline())
    try:
        prepared = prepare_case(request, started)
        mode = choose_timing_mode(prepared)
    except Exception as error:
        _emit(
            READY_PREFIX,
            {"status": "failed", "error": f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}"},
        )
        return
    status = "ok" if prepared.correctness["passed"] else "incorrect"
    _emit(
        READY_PREFIX,
        {
            "status": status,
            "error": _error_text(prepared),
            "correctness": prepared.correctness,
            "config": prepared.config,
            "autotune": prepared.autotune,
            "mode": mode,
        },
    )
    for line in sys.stdin:
        if not line.strip():
            break
        _emit(ROUND_PREFIX, {"samples": measure_round(prepared, json.loads(line)["mode"])})


def _result(request: dict[str, Any], started: float, warm: bool) -> dict[str, Any]:
    """The case's result, or a failed one saying what went wrong in this process."""
    if request["device"] != "cuda":
        os.environ.setdefault("TRITON_INTERPRET", "1")
    try:
        return run_case(request, started, warm)
    except Exception as error:
        return {"status": "failed", "error": f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=6)}"}


def _release_memory() -> None:
    """What a finished case held goes back before the next case allocates (its inputs can be GBs)."""
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def serve_cases(started: float = MODULE_STARTED) -> None:
    """``--cases``: one case per request line, each answered by a ``PERFCI_RESULT`` line."""
    first = True
    for line in sys.stdin:
        if not line.strip():
            break
        # the first case's phases include the process's start and imports; a later one's, from its request
        _emit(RESULT_PREFIX, _result(json.loads(line), started if first else time.perf_counter(), warm=not first))
        first = False
        _release_memory()


def serve_mode(mode: str, started: float = MODULE_STARTED) -> None:
    """Run ``mode`` (``--cases``, ``--serve``, ``--probe DEVICE [ceilings]`` or ``--load WORKTREE``)
    from ``started``, this process's start: the first case's phases count from there."""
    if mode == "--serve":
        serve(started)
    elif mode == "--cases":
        serve_cases(started)
    elif mode.startswith("--probe "):
        from perfci.runner.probe import PROBE_PREFIX, answer

        _emit(PROBE_PREFIX, answer(*mode.split()[1:]))
    elif mode.startswith("--load "):
        # nobody reads this mode's stdout: what the import prints goes with its errors, never fills a pipe
        with contextlib.redirect_stdout(sys.stderr):
            _kernels(mode.removeprefix("--load "))
    else:
        sys.exit(
            "usage: python -m perfci.runner.worker --cases | --serve (requests on stdin) | --load WORKTREE"
            " | --probe auto|cuda|interpreter [ceilings]"
        )


def main() -> None:
    serve_mode(" ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
