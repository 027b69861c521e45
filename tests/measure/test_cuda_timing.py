"""Kernel-record timing counts the GPU work of a call and nothing of the host's (GPU only)."""

from __future__ import annotations

import statistics
import time

import pytest
import torch

from perfci.measure.cuda_timing import kernel_records_available, time_with_events, time_with_kernel_records

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _matmul():
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
    return lambda: a @ a


def test_profiler_records_kernels_here():
    assert kernel_records_available()


def test_host_time_after_a_sync_is_not_counted():
    matmul = _matmul()
    lengths = torch.arange(8, device="cuda", dtype=torch.int32)

    def call_that_syncs():
        lengths.cpu()  # like a varlen op reading its lengths: the GPU drains...
        time.sleep(0.002)  # ...and idles through the host's work before the launch
        return matmul()

    pure = statistics.median(time_with_kernel_records(matmul, rep_ms=50))
    synced = statistics.median(time_with_kernel_records(call_that_syncs, rep_ms=50))
    events = statistics.median(time_with_events(call_that_syncs, rep_ms=50))
    assert synced == pytest.approx(pure, rel=0.15)
    assert events > 2.0 > synced


def test_every_kernel_of_a_call_is_summed():
    matmul = _matmul()
    one = statistics.median(time_with_kernel_records(matmul, rep_ms=50))
    two = statistics.median(time_with_kernel_records(lambda: (matmul(), matmul()), rep_ms=50))
    assert two == pytest.approx(2 * one, rel=0.15)
