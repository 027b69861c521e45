"""The kernels a worker measures: the commit's ``kernels.swa``, or a repository's own functions
mapped onto that contract by an adapter file.

An adapter is a small Python file kept outside the tracked repository (``--adapter FILE``,
``[kernels] adapter`` in perfci.toml, or ``$PERFCI_ADAPTER``). It is loaded in every worktree with
the worktree first on ``sys.path``, so it imports that commit's own modules, and it defines the
contract's ``paged_prefill`` and ``paged_decode`` (docs/spec/swa-kernels.md): other names, argument
orders and scale layouts are mapped there. Correctness is judged against the adapter's
``reference`` when it defines one (an object with ``paged_prefill``/``paged_decode`` in float64),
else against perfci's own float64 reference.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

#: the adapter file every worker process loads (set by the CLI for the processes it starts)
ADAPTER_ENV = "PERFCI_ADAPTER"
CONTRACT = ("paged_prefill", "paged_decode")


class AdapterError(RuntimeError):
    """The kernels cannot be loaded as the contract; the message names the file and what is missing."""


def use_adapter(path: Path) -> None:
    """Every worker started from now on measures through the adapter at ``path``."""
    os.environ[ADAPTER_ENV] = str(path.resolve())


def load_kernels(worktree: str) -> tuple[Any, Any]:
    """(the kernels: an object with ``paged_prefill`` and ``paged_decode``, their float64 reference)
    of the commit checked out at ``worktree``."""
    adapter = os.environ.get(ADAPTER_ENV)
    if not adapter:
        sys.path.insert(0, worktree)
        import kernels.swa as swa
        from kernels.swa import reference

        if not Path(swa.__file__).resolve().is_relative_to(Path(worktree).resolve()):
            # perfci's own kernels (installed beside it) would be measured in the commit's place
            raise AdapterError(
                "the commit has no kernels/swa package; track a repository with other names through "
                "--adapter FILE (docs/spec/swa-kernels.md)"
            )
        _check(swa, "kernels.swa")
        return swa, reference
    from kernels.swa import reference as bundled  # perfci's own, before the worktree can shadow it

    sys.path.insert(0, worktree)
    spec = importlib.util.spec_from_file_location("perfci_adapter", adapter)
    if spec is None or spec.loader is None:
        raise AdapterError(f"adapter {adapter}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules["perfci_adapter"] = module
    spec.loader.exec_module(module)
    _check(module, f"adapter {adapter}")
    return module, getattr(module, "reference", bundled)


def _check(kernels: Any, name: str) -> None:
    missing = [function for function in CONTRACT if not callable(getattr(kernels, function, None))]
    if missing:
        raise AdapterError(f"{name} lacks {' and '.join(missing)} (the kernels.swa contract: docs/spec/swa-kernels.md)")
