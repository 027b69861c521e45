"""How kernel-record timing splits a profiler trace into calls (pure: fake events, no GPU)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest
from torch.autograd import DeviceType

from perfci.measure.cuda_timing import CALL_LABEL, busy_ms_per_call


@dataclass
class Range:
    start: float
    end: float

    def elapsed_us(self) -> float:
        return self.end - self.start


@dataclass
class Event:
    name: str
    start: float
    end: float
    device_type: DeviceType = DeviceType.CUDA
    is_user_annotation: bool = False

    @property
    def time_range(self) -> Range:
        return Range(self.start, self.end)


def test_each_call_sums_its_gpu_activities_and_skips_idle_gaps():
    events = [
        Event("flush", 0, 80),
        Event(CALL_LABEL, 90, 600, is_user_annotation=True),  # GPU span: first to last activity
        Event(CALL_LABEL, 85, 601, device_type=DeviceType.CPU, is_user_annotation=True),
        Event("Memcpy DtoH", 90, 92),  # the call's host read of its lengths
        Event("_prefill_kernel", 400, 600),  # launched after 308 us of host work: not counted
        Event("flush", 610, 690),
        Event(CALL_LABEL, 700, 1000, is_user_annotation=True),
        Event("_decode_kernel", 700, 900),
        Event("_merge_kernel", 950, 1000),  # a second kernel of the same call: summed
        Event("cudaLaunchKernel", 700, 705, device_type=DeviceType.CPU),
    ]
    assert busy_ms_per_call(events) == pytest.approx([0.202, 0.250])


def test_no_gpu_records_give_no_samples():
    assert busy_ms_per_call([Event(CALL_LABEL, 0, 10, device_type=DeviceType.CPU)]) == []


def test_the_profiler_starts_without_importing_the_compiler_stack():
    """``torch.profiler.profile`` imports torch._inductor at its start (seconds in a new process);
    the kernel records' profiler must not, or every measuring process pays that again."""
    probe = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from torch.autograd.profiler import record_function\n"
        "from perfci.measure.cuda_timing import kernel_profiler\n"
        "with kernel_profiler():\n"
        "    with record_function('call'):\n"
        "        pass\n"
        "print(sorted(m for m in ('torch._dynamo', 'torch._inductor', 'sympy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
