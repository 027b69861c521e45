"""Integer helpers for the host side of a kernel launch.

Triton 3.6's ``triton.cdiv`` and ``triton.next_power_of_2`` are ``ConstexprFunction`` wrappers that
cost 3.4 and 4.4 us a call on the host (this 2-core CPU machine); a decode call used about ten of
them, all after the checks' host read of the lengths, while the GPU waits.
"""

from __future__ import annotations


def cdiv(numerator: int, denominator: int) -> int:
    """Ceiling division of integers."""
    return -(-numerator // denominator)


def next_power_of_2(n: int) -> int:
    """The smallest power of two >= n for n >= 1 (0 for 0, as Triton's)."""
    return 1 << (n - 1).bit_length() if n > 0 else 0
