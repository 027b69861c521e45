"""Sample until the median is known to the asked precision or the time budget is spent (NVBench-style)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from perfci.analysis.precision import relative_halfwidth


def sample_until_precise(
    measure_round: Callable[[], list[float]],
    *,
    precision: float = 0.005,
    budget_s: float = 3.0,
    min_samples: int = 20,
    max_samples: int = 5000,
) -> tuple[list[float], dict[str, Any]]:
    """Every sample of every round is kept; returns them with how sampling stopped. ``precision``
    0 samples for the whole budget (or ``max_samples``), whatever the samples."""
    samples: list[float] = []
    start = time.monotonic()
    rounds = 0
    while True:
        samples.extend(measure_round())
        rounds += 1
        halfwidth = relative_halfwidth(samples)
        if len(samples) >= min_samples and precision > 0 and halfwidth <= precision:
            stopped_by = "precision"
            break
        if time.monotonic() - start >= budget_s or len(samples) >= max_samples:
            stopped_by = "budget"
            break
    return samples, {
        "rounds": rounds,
        "median_ci_rel_halfwidth": halfwidth,
        "stopped_by": stopped_by,
        "target_precision": precision,
        "budget_s": budget_s,
    }
