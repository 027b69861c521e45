"""The environment block of a results document: what the fingerprint is derived from."""

from __future__ import annotations

import platform
import socket
from typing import Any

from perfci.measure.telemetry import nvml_driver_version


def describe_environment(device_kind: str) -> dict[str, Any]:
    """Device name and software versions of this process (imports torch and triton)."""
    import torch
    import triton

    if device_kind == "cuda":
        device_name = torch.cuda.get_device_name()
        cuda = torch.version.cuda
        driver = nvml_driver_version()
    else:
        device_name = f"Triton interpreter on {platform.machine()} {platform.processor() or 'CPU'}".strip()
        cuda = None
        driver = None
    return {
        "device_kind": device_kind,
        "device_name": device_name,
        "driver": driver,
        "cuda": cuda,
        "torch": torch.__version__,
        "triton": triton.__version__,
        "python": platform.python_version(),
        "hostname": socket.gethostname(),
    }
