"""Values that serialise to valid JSON whatever they hold: no parser accepts ``Infinity`` or ``NaN``."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None. Inputs are bounded so none should
    arise; rows stored before the bounds, or a ratio of extreme values, must still never break a client."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [finite(child) for child in value]
    return value
