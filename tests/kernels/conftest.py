"""Kernel tests run on CUDA when present, else on CPU tensors under Triton's interpreter.

TRITON_INTERPRET must be set before triton.jit decorates the kernels, so it is set at collection.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
