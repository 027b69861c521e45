"""The launch config a result is annotated with is the one the commit's kernels run."""

from __future__ import annotations

from types import SimpleNamespace

import torch

import kernels.swa as swa
from perfci.runner.worker import _kernel_config
from perfci.suite.inputs import prefill_inputs


def _case(cache: str) -> SimpleNamespace:
    return SimpleNamespace(op="paged_prefill", page_size=16, head_dim=32, cache=cache, local_window=31)


def test_int8_prefill_is_annotated_with_the_path_and_config_that_run():
    x = prefill_inputs([8], [40], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8)
    config = _kernel_config(swa, _case("int8"), x)
    assert config["INT8_PATH"] == "two-step"  # bf16 queries: the bf16 kernel runs on dequantized pages
    assert config["BLOCK_N"] == swa.prefill.default_config(x.q, 32, False, 31).block_n
    fp16 = prefill_inputs([8], [40], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=torch.int8,
                          dtype=torch.float16)  # fmt: skip
    assert _kernel_config(swa, _case("int8"), fp16)["INT8_PATH"] == "fused"
    plain = prefill_inputs([8], [40], q_heads=4, kv_heads=2, head_dim=32, page_size=16)
    assert "INT8_PATH" not in _kernel_config(swa, _case("bf16"), plain)
