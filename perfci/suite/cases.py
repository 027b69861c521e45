"""The SWA benchmark suite in one place: cases, stable ids, tiers, tolerances and work models.

Adding a case is one entry in a tier list. Ids are stable: they encode every parameter that changes
the work, so a renamed or re-tuned case starts a new series instead of silently joining an old one.
Old commits are measured with these (today's) cases, as asv does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from perfci.suite.model import decode_min_bytes, prefill_flops, prefill_pairs

Op = Literal["paged_prefill", "paged_decode"]
TIERS = ("tiny", "smoke", "full")
#: rel = ||out - ref|| / ||ref|| limits of docs/spec/swa-kernels.md section 4.
TOLERANCE = {"bf16": 1e-2, "fp16": 5e-3, "int8": 2e-2}
#: Below this per-call time, event timing measures the host's launch overhead, not the GPU (seen on an
#: H200: a 14 us decode case read 25-110 us with events, 14 us in a graph); graph replay removes it.
AUTO_GRAPH_BELOW_MS = 0.1


@dataclass(frozen=True)
class SuiteCase:
    op: Op
    batch: int
    kv_len: int
    local_window: int | None
    global_window: int | None
    page_size: int
    q_len: int = 1  # prefill: new tokens per sequence (kv_len - q_len is the chunked-prefill prefix)
    q_heads: int = 32
    kv_heads: int = 8
    head_dim: int = 128
    dtype: Literal["bf16", "fp16"] = "bf16"
    cache: Literal["same", "int8"] = "same"
    #: "auto": CUDA-graph replay when a first estimate is under AUTO_GRAPH_BELOW_MS, else the GPU
    #: time of the call's kernels ("kernels", from CUPTI records; "events" where there are none).
    timing: Literal["auto", "events", "graph", "kernels"] = "auto"
    seed: int = 0

    @property
    def id(self) -> str:
        window = f"l{'none' if self.local_window is None else self.local_window}"
        sinks = f"g{'none' if self.global_window is None else self.global_window}"
        cache = "int8kv" if self.cache == "int8" else self.dtype
        heads = f"h{self.q_heads}x{self.kv_heads}-d{self.head_dim}"
        if self.op == "paged_decode":
            shape = f"b{self.batch}-kv{self.kv_len}"
            kind = "decode"
        else:
            prefix = self.kv_len - self.q_len
            shape = f"b{self.batch}-q{self.q_len}" + (f"-prefix{prefix}" if prefix else "")
            kind = "prefill"
        return f"{kind}/{cache}/{shape}-p{self.page_size}-{window}-{sinks}-{heads}"

    @property
    def tolerance(self) -> float:
        return TOLERANCE["int8" if self.cache == "int8" else self.dtype]

    def params(self) -> dict[str, Any]:
        return asdict(self)

    def q_lens(self) -> list[int]:
        return [self.q_len] * self.batch

    def kv_lens(self) -> list[int]:
        return [self.kv_len] * self.batch

    def flops(self) -> int:
        if self.op == "paged_decode":
            pairs = prefill_pairs([1] * self.batch, self.kv_lens(), self.local_window, self.global_window)
        else:
            pairs = prefill_pairs(self.q_lens(), self.kv_lens(), self.local_window, self.global_window)
        return prefill_flops(pairs, self.q_heads, self.head_dim)

    def min_bytes(self) -> int:
        """Decode: docs/spec/swa-kernels.md section 5. Prefill: q and out once, each visible K/V row once."""
        kv_elem = 1 if self.cache == "int8" else 2
        if self.op == "paged_decode":
            return decode_min_bytes(
                self.kv_lens(),
                self.local_window,
                self.global_window,
                q_heads=self.q_heads,
                kv_heads=self.kv_heads,
                head_dim=self.head_dim,
                q_elem=2,
                kv_elem=kv_elem,
                page_size=self.page_size,
                quantized=self.cache == "int8",
            )
        span = self.q_len + (self.local_window if self.local_window is not None else self.kv_len)
        rows = min(self.kv_len, span + (self.global_window or 0))
        return self.batch * (
            2 * self.q_len * self.q_heads * self.head_dim * 2 + rows * self.kv_heads * self.head_dim * 2 * kv_elem
        )


def _decode(batch: int, kv: int, local: int | None, sinks: int | None, page: int, **kw: Any) -> SuiteCase:
    return SuiteCase("paged_decode", batch, kv, local, sinks, page, **kw)


def _prefill(batch: int, q: int, kv: int, local: int | None, sinks: int | None, page: int, **kw: Any) -> SuiteCase:
    return SuiteCase("paged_prefill", batch, kv, local, sinks, page, q_len=q, **kw)


def _with_int8(cases: list[SuiteCase]) -> list[SuiteCase]:
    return cases + [SuiteCase(**{**c.params(), "cache": "int8"}) for c in cases]


_TINY_SHAPE = {"q_heads": 4, "kv_heads": 2, "head_dim": 32}
TINY = _with_int8(
    [
        _decode(3, 96, 31, 4, 16, **_TINY_SHAPE),
        _decode(2, 40, 63, 4, 16, **_TINY_SHAPE),  # covered: G + L >= kv_len
        _prefill(2, 40, 40, 15, 4, 16, **_TINY_SHAPE),
        _prefill(1, 24, 88, 31, None, 16, **_TINY_SHAPE),  # chunked prefill, no sinks
    ]
)

SMOKE = [
    _decode(8, 1024, 1023, 4, 32),
    _decode(32, 4096, 4095, 64, 128),
    _decode(1, 32768, 4095, 4, 128),
    _decode(64, 16384, 4095, 4, 128),
    _decode(64, 16384, 4095, 4, 128, cache="int8"),
    _decode(32, 131072, 4095, 4, 128),
    _decode(64, 4096, 127, 4, 16),
    _prefill(2, 4096, 4096, 1023, 16, 64),
    _prefill(2, 4096, 4096, 1023, 16, 64, cache="int8"),
    _prefill(1, 16384, 16384, 1023, 4, 64),
    _prefill(1, 16384, 16384, 4095, 64, 128),
    _prefill(4, 2048, 18432, 4095, 4, 64),
    _prefill(16, 1024, 1024, 127, 4, 16),
    _prefill(1, 4096, 4096, None, None, 64),
]


def _full() -> list[SuiteCase]:
    cases: list[SuiteCase] = []
    for batch in (1, 8, 32, 64):
        for kv in (1024, 4096, 16384, 32768):
            cases.append(_decode(batch, kv, 4095, 4, 128))
    for local in (127, 1023):
        for sinks in (None, 64):
            cases.append(_decode(32, 16384, local, sinks, 128))
    cases += [_decode(32, 4096, 1023, 4, 16), _decode(32, 4096, 1023, 4, 32)]
    for batch, q in ((1, 4096), (1, 16384), (4, 4096), (16, 1024), (8, 8192)):
        for local in (1023, 4095):
            cases.append(_prefill(batch, q, q, local, 4, 64))
    for q in (512, 2048):
        for prefix in (4096, 16384):
            cases.append(_prefill(4, q, q + prefix, 4095, 4, 128))
    cases += [_prefill(2, 4096, 4096, 1023, 16, 16)]
    cases += [
        _decode(32, 16384, 4095, 4, 128, head_dim=64),
        _decode(32, 16384, 4095, 4, 128, head_dim=256),
        _prefill(1, 16384, 16384, 1023, 4, 64, head_dim=64),
        _prefill(1, 8192, 8192, 1023, 4, 64, head_dim=256),
        _decode(32, 16384, 4095, 4, 128, q_heads=64),
        _prefill(1, 16384, 16384, 1023, 4, 64, q_heads=64),
    ]
    twins = [c for c in cases if c.head_dim == 128 and c.q_heads == 32 and c.page_size in (64, 128)][::3]
    return cases + [SuiteCase(**{**c.params(), "cache": "int8"}) for c in twins]


FULL = _full()
_BY_TIER = {"tiny": TINY, "smoke": SMOKE, "full": FULL}


def tier(name: str) -> list[SuiteCase]:
    """The cases of a tier; ValueError naming the known tiers otherwise."""
    if name not in _BY_TIER:
        raise ValueError(f"--suite: unknown tier {name!r}; choose one of {', '.join(TIERS)}")
    return list(_BY_TIER[name])
