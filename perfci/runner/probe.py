"""The device a command measures on, its environment and ceilings, found in a worker process.

``perfci run``, ``compare`` and ``bisect`` learn which device they have (``--device auto``), what
the results document's environment block says (device name, driver, torch and Triton versions) and,
for a run on CUDA, the card's ceilings (copy bandwidth, bf16 GEMM rate) from one process forked from
the fork server, which imported torch already. perfci's own process then never imports torch or
Triton nor makes a CUDA context: on an H200 those were 2-3 s of every command before its first case
(torch's import 1.3 s, Triton's, the CUDA context and the ceilings' allocations).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROBE_PREFIX = "PERFCI_PROBE "
#: finding the device; a first CUDA context and the ceilings take seconds, a stuck driver forever
PROBE_TIMEOUT_S = 300.0


class ProbeError(RuntimeError):
    """No usable device as requested, or the probe's process failed; the message says which."""


@dataclass(frozen=True)
class Probe:
    #: "cuda" or "interpreter"
    device: str
    #: the results document's ``run.environment`` (without ``extra``)
    environment: dict[str, Any]
    #: ``{"copy_gbps", "bf16_tflops"}`` when asked for on CUDA, else None
    ceilings: dict[str, float] | None


def probe(requested: str, ceilings: bool = False) -> Probe:
    """What ``--device requested`` (auto, cuda or interpreter) gives here, from a forked worker;
    with ``ceilings``, the CUDA card's ceilings measured there too."""
    from perfci.runner.live_worker import LiveWorker, WorkerGone

    mode = f"--probe {requested}" + (" ceilings" if ceilings else "")
    worker = LiveWorker(mode, Path.cwd(), requested, None, PROBE_TIMEOUT_S)
    try:
        answer = worker.read(PROBE_PREFIX)
    except WorkerGone as error:
        raise ProbeError(f"finding the device failed: {error}") from None
    finally:
        worker.close()
    if "error" in answer:
        raise ProbeError(answer["error"])
    return Probe(answer["device"], answer["environment"], answer.get("ceilings"))


def answer(requested: str, *flags: str) -> dict[str, Any]:
    """The probe's side, in the forked worker: what its ``PERFCI_PROBE`` line says."""
    from perfci.measure.environment import describe_environment

    if requested == "interpreter":
        device = "interpreter"
    else:
        import torch

        available = torch.cuda.is_available()
        if requested == "cuda" and not available:
            return {"error": "--device cuda: no CUDA device is visible; use --device interpreter (or auto)"}
        device = "cuda" if available else "interpreter"
    measured = None
    if device == "cuda" and "ceilings" in flags:
        from perfci.measure.ceilings import measure_ceilings

        measured = measure_ceilings()
    return {"device": device, "environment": describe_environment(device), "ceilings": measured}
