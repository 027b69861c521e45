"""The device, environment and ceilings found in a forked worker: perfci's own process never imports
torch, and a device that is not there is named as the option at fault."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from perfci.runner.probe import ProbeError, probe

on_cpu = pytest.mark.skipif(torch.cuda.is_available(), reason="on a machine with a CUDA device the probe finds it")
on_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@on_cpu
def test_auto_finds_the_interpreter_and_describes_it_without_ceilings():
    found = probe("auto", ceilings=True)
    assert found.device == "interpreter"
    assert found.environment["device_kind"] == "interpreter"
    assert found.environment["torch"] and found.environment["triton"]
    assert found.ceilings is None  # ceilings are a CUDA card's


@on_cuda
def test_auto_finds_the_card_its_driver_and_its_measured_ceilings():
    found = probe("auto", ceilings=True)
    assert found.device == "cuda"
    assert found.environment["device_name"] == torch.cuda.get_device_name()
    assert found.environment["driver"]
    assert found.ceilings is not None
    assert found.ceilings["copy_gbps"] > 10 and found.ceilings["bf16_tflops"] > 1
    assert probe("cuda").ceilings is None  # measured only when asked for


@on_cpu
def test_cuda_asked_for_and_missing_names_the_option():
    with pytest.raises(ProbeError, match="--device cuda: no CUDA device is visible"):
        probe("cuda")


def test_perfcis_own_process_imports_neither_torch_nor_triton():
    checked = (
        "import sys\n"
        "import perfci.cli.run, perfci.cli.compare, perfci.cli.bisect\n"
        "from perfci.runner.probe import probe\n"
        "found = probe('auto', ceilings=True)\n"
        "print(found.device, sorted(m for m in ('torch', 'triton') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", checked], capture_output=True, text=True, check=True)
    device = "cuda" if torch.cuda.is_available() else "interpreter"
    assert done.stdout.strip().splitlines()[-1] == f"{device} []"


@on_cpu
def test_a_run_on_a_missing_cuda_device_exits_2_naming_the_option(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "perfci", "run", "--device", "cuda", "--no-store", "-o", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "--device cuda: no CUDA device is visible" in done.stderr
    assert "Traceback" not in done.stderr
