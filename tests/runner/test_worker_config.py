"""The launch config a result is annotated with is the one the commit's kernels run."""

from __future__ import annotations

from types import SimpleNamespace

import torch

import kernels.swa as swa
from perfci.runner.worker import _kernel_config
from perfci.suite.inputs import prefill_inputs


def _case(cache: str) -> SimpleNamespace:
    return SimpleNamespace(op="paged_prefill", page_size=16, head_dim=32, cache=cache, local_window=31)


def _inputs(cache_dtype=None, dtype=torch.bfloat16):
    x = prefill_inputs(
        [8], [40], q_heads=4, kv_heads=2, head_dim=32, page_size=16, cache_dtype=cache_dtype, dtype=dtype
    )
    return x, {"local_window": 31, "global_window": 4, "k_scale": x.k_scale, "v_scale": x.v_scale}


def test_int8_prefill_is_annotated_with_the_path_and_config_that_run(monkeypatch):
    x, kwargs = _inputs(torch.int8)
    config = _kernel_config(swa, _case("int8"), x, kwargs)
    assert config["INT8_PATH"] == "two-step"  # bf16 queries: the bf16 kernel runs on dequantized pages
    assert config["BLOCK_N"] == swa.prefill.default_config(x.q, 32, False, 31).block_n
    fp16, fp16_kwargs = _inputs(torch.int8, torch.float16)
    assert _kernel_config(swa, _case("int8"), fp16, fp16_kwargs)["INT8_PATH"] == "fused"
    plain, plain_kwargs = _inputs()
    assert "INT8_PATH" not in _kernel_config(swa, _case("bf16"), plain, plain_kwargs)
    # touched pages over the transient-memory budget: the call runs fused, and says so
    monkeypatch.setattr(swa.prefill, "DEQUANTIZE_BUDGET_BYTES", 0)
    assert _kernel_config(swa, _case("int8"), x, kwargs)["INT8_PATH"] == "fused"
