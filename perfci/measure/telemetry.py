"""GPU telemetry from NVML (nvidia-ml-py): clocks, temperature, power and throttle reasons.

Read before and after each measurement; a measurement during which the GPU throttled (thermal,
power cap, hardware slowdown) is marked so a verdict can discount it. Returns {} without NVML.
"""

from __future__ import annotations

from typing import Any

# nvmlClocksEventReason* bits that mean "running slower than asked" (idle and app-clock settings do not).
THROTTLE_BITS = {
    0x4: "sw_power_cap",
    0x8: "hw_slowdown",
    0x20: "sw_thermal",
    0x40: "hw_thermal",
    0x80: "hw_power_brake",
}


def nvml_snapshot(device_index: int = 0) -> dict[str, Any]:
    try:
        import pynvml
    except ImportError:
        return {}
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(device_index)
        reasons_fn = (
            getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
            or pynvml.nvmlDeviceGetCurrentClocksThrottleReasons
        )
        reasons = int(reasons_fn(handle))
        return {
            "sm_clock_mhz": pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM),
            "mem_clock_mhz": pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_MEM),
            "temp_c": pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU),
            "power_w": pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
            "throttle_reasons": [name for bit, name in THROTTLE_BITS.items() if reasons & bit],
        }
    except Exception as error:  # NVML present but unusable (container, MIG): say so, never fail the run
        return {"nvml_error": str(error)[:200]}


def nvml_driver_version() -> str | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:
        return None


def merge_telemetry(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per-result telemetry: the after-values, the before-values prefixed, and a throttled flag."""
    if not before and not after:
        return {}
    merged: dict[str, Any] = dict(after)
    merged.update({f"before_{key}": value for key, value in before.items()})
    merged["throttled"] = bool(before.get("throttle_reasons") or after.get("throttle_reasons"))
    return merged
