"""The config every ``triton.autotune`` kernel chose in this process, for any Triton code.

Autotuners pick per process (a benchmark that cannot separate two configs picks either), so two
processes of one commit can run different kernels: the worker records each autotuned kernel's
choice while the case's call runs, and reports and verdicts show it beside the timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _plain(config: Any) -> dict[str, Any]:
    """A Triton Config as JSON-safe fields (meta-parameters, warps, stages, ...; unset ones left out)."""
    fields = config.all_kwargs() if hasattr(config, "all_kwargs") else dict(getattr(config, "kwargs", {}))
    return {str(k): v for k, v in fields.items() if v is not None and isinstance(v, bool | int | float | str)}


@contextmanager
def recording_autotune() -> Iterator[dict[str, dict[str, Any]]]:
    """While open, every ``Autotuner.run`` records its kernel's chosen config into the yielded dict
    (kernel name -> config); the patch is removed on exit."""
    from triton.runtime.autotuner import Autotuner

    chosen: dict[str, dict[str, Any]] = {}
    original = Autotuner.run

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        config = getattr(self, "best_config", None)
        if config is not None:
            chosen[self.base_fn.__name__] = _plain(config)
        return result

    Autotuner.run = run  # type: ignore[method-assign]
    try:
        yield chosen
    finally:
        Autotuner.run = original  # type: ignore[method-assign]
