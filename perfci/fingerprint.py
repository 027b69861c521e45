"""The comparability key of a series: which environment fields may split a trend line.

Two results are on the same series only when repo, case and this fingerprint match. In:
device kind, device name (GPU model), driver, CUDA, torch and triton versions, and Python's
major.minor. Out: hostname (identical runners share a series) and free-form ``extra``.
"""

from __future__ import annotations

import hashlib
import json

from perfci.document import Environment

FINGERPRINT_FIELDS = ("device_kind", "device_name", "driver", "cuda", "torch", "triton", "python")


def _python_minor(version: str | None) -> str | None:
    if not version:
        return version
    return ".".join(version.split(".")[:2])


def fingerprint_fields(environment: Environment) -> dict[str, str | None]:
    """The normalised values that enter the fingerprint, in a fixed order."""
    values = {name: getattr(environment, name) for name in FINGERPRINT_FIELDS}
    values["python"] = _python_minor(values["python"])
    return values


def environment_fingerprint(environment: Environment) -> str:
    """A 16-hex-digit digest of :func:`fingerprint_fields`; stable across perfci versions."""
    canonical = json.dumps(fingerprint_fields(environment), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
