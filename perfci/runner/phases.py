"""Where a run's time went: each case reports its phases in its worker process (a new process's
imports, loading the kernels, building inputs, the first, compiling call, the check against the
reference, choosing the timing mode, sampling) and the parent the case's whole time; summed over a
commit's cases this says how much of the wall time measured the kernels, which is what time to
verdict is made of."""

from __future__ import annotations

from typing import Any

#: phase -> what it is, in the order a process goes through them
PHASES = {
    "start_s": "process start and exit",
    "boot_s": "request and imports",
    "load_s": "loading the kernels",
    "inputs_s": "inputs",
    "first_call_s": "first call (compile)",
    "check_s": "reference check",
    "mode_s": "timing mode",
    "sampling_s": "sampling",
}


def breakdown(results: list[dict[str, Any]]) -> dict[str, float] | None:
    """Seconds per phase over the results that report them (``start_s``: a case's time less its
    reported phases, a new process's start and exit), plus ``process_s``, their total, and
    ``cases``, how many; None when no result reports phases."""
    reported = [(result.get("timing") or {}).get("phases") or {} for result in results]
    reported = [phases for phases in reported if "process_s" in phases]
    if not reported:
        return None
    totals = {name: sum(phases.get(name, 0.0) for phases in reported) for name in (*PHASES, "process_s")}
    totals["start_s"] = sum(
        max(phases["process_s"] - sum(phases.get(name, 0.0) for name in PHASES), 0.0) for phases in reported
    )
    return {**totals, "cases": len(reported)}


def describe(results: list[dict[str, Any]]) -> str | None:
    """One line: the cases' time and each phase's share, sampling first (None: no phases)."""
    totals = breakdown(results)
    if totals is None:
        return None
    whole = totals["process_s"] or 1.0
    order = ["sampling_s", *(name for name in PHASES if name != "sampling_s")]
    parts = [f"{PHASES[name]} {totals[name]:.1f} s ({totals[name] / whole:.0%})" for name in order]
    cases = int(totals["cases"])
    return f"time: {cases} case{'s' * (cases != 1)}, {totals['process_s']:.1f} s: " + ", ".join(parts)
