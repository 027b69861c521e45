"""The launch path's integer helpers agree with the Triton functions they replace."""

from __future__ import annotations

import triton

from kernels.swa.intmath import cdiv, next_power_of_2


def test_helpers_match_triton():
    for n in range(0, 1100):
        assert next_power_of_2(n) == triton.next_power_of_2(n), n
        for d in (1, 3, 16, 64, 128):
            assert cdiv(n, d) == triton.cdiv(n, d), (n, d)
