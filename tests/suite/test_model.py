import numpy as np
import pytest

from perfci.suite.model import decode_min_bytes, prefill_flops, prefill_pairs, roofline_seconds, visible_keys


def _brute(position: int, local, sinks) -> int:
    count = 0
    for k in range(position + 1):
        in_band = local is not None and position - k <= local
        is_sink = sinks is not None and k < sinks
        if local is None and sinks is None:
            in_band = True
        count += in_band or is_sink
    return count


@pytest.mark.parametrize("local", [None, 0, 1, 5, 64])
@pytest.mark.parametrize("sinks", [None, 0, 1, 4, 100])
def test_visible_keys_matches_brute_force(local, sinks):
    positions = np.arange(0, 150)
    assert visible_keys(positions, local, sinks).tolist() == [_brute(int(p), local, sinks) for p in positions]


def test_prefill_pairs_chunked_and_non_causal():
    assert prefill_pairs([3], [3], None, None) == 1 + 2 + 3
    assert prefill_pairs([2], [10], 1, None) == 2 + 2  # positions 8, 9 each see 2 keys
    assert prefill_pairs([2, 0], [10, 5], None, None, causal=False) == 20
    assert prefill_flops(10, 32, 128) == 4 * 32 * 128 * 10


def test_decode_bytes_and_roofline():
    nbytes = decode_min_bytes(
        [1024], 1023, 4, q_heads=32, kv_heads=8, head_dim=128, q_elem=2, kv_elem=2, page_size=32, quantized=False
    )
    assert nbytes == 1024 * 8 * 128 * 2 * 2 + 2 * 32 * 128 * 2 + 32 * 4
    assert roofline_seconds(1e12, 1e9, 1e15, 1e12) == pytest.approx(1e-3)
