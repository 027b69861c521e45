"""Culprit finding between a good and a bad commit: the search alone (no I/O: a compare callable in).

Candidates are indexed oldest first: 0 is GOOD, ``n - 1`` is BAD. ``compare(base, head, threshold)``
measures two candidates as ``perfci compare`` does (process pairs, back to back, the paired
sequential test) and says what HEAD is against BASE, a change smaller than ``threshold`` being none.
The search, as Pinpoint's:

1. confirm: GOOD against BAD must show the change (a latency regression, or a correctness failure:
   then the search is for the first incorrect commit); otherwise nothing is filed;
2. bisect: against the last commit known to be like GOOD, the midpoint of what is left is either
   like BAD (a regression at ``threshold``: the culprit is at or before it) or not (after it); a
   step the pairs cannot decide counts as like GOOD when its interval tops out under a quarter of
   the confirmed change (``like_good_below``); a commit whose kernels crash or do not import is
   skipped as ``git bisect skip`` does, the nearest other midpoint tried instead; any other
   undecided midpoint stops the search with the range still open;
3. verify: the culprit against its parent must show the change by itself (the search's own step
   when it compared exactly those two);
4. more culprits: when the culprit against BAD still shows the change, the rest of the range is
   searched again from the culprit; each culprit gets its share of GOOD-to-BAD's change (of its
   logarithm: changes compound, so the shares of two culprits add up to the whole).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

#: what HEAD is against BASE: the paired verdict's kind, "correctness" (HEAD incorrect where BASE
#: was correct), "skip" (HEAD's kernels crash, hang or do not import) or "error" (BASE cannot run)
Outcome = Literal["regression", "improvement", "same", "unknown", "correctness", "skip", "error"]


@dataclass(frozen=True)
class Comparison:
    base: int
    head: int
    outcome: Outcome
    change: float | None = None
    pairs: int = 0
    reason: str = ""
    #: the top of the pairs' interval of the change (None: unbounded, or not measured)
    ci_high: float | None = None


@dataclass(frozen=True)
class Culprit:
    index: int
    parent: int
    #: the culprit against its parent (the verification)
    verification: Comparison
    #: its part of GOOD-to-BAD's change, in logarithms (latency only)
    share: float | None

    @property
    def verified(self) -> bool:
        return self.verification.outcome in ("regression", "correctness")


@dataclass
class BisectResult:
    kind: Literal["latency", "correctness"] | None
    #: GOOD against BAD
    confirmation: Comparison
    culprits: list[Culprit] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    #: (last like GOOD, first like BAD): a range the search could not narrow (undecided or skipped)
    unresolved: tuple[int, int] | None = None
    #: every comparison, in the order measured
    steps: list[Comparison] = field(default_factory=list)
    #: an undecided step whose interval tops out under this change counts as like GOOD (``like_good_below``)
    like_good_below: float | None = None

    @property
    def reproduced(self) -> bool:
        return self.kind is not None


#: (base, head, threshold) -> what HEAD is against BASE
Compare = Callable[[int, int, float], Comparison]

#: the smallest share of GOOD-to-BAD's confirmed change the search looks for in one commit
MIN_SHARE = 0.25


def like_good_below(confirmation: Comparison) -> float:
    """The change under which an undecided step counts as like GOOD: a quarter of the confirmed
    change, in logarithms (changes compound). A +3000% slowdown is not lost because one step's pairs
    cannot tell its midpoint from GOOD within a 30% threshold (interpreter noise leaves such a step
    undecided); a step the pairs decide is a regression at the threshold whatever its size, so a
    second, smaller culprit is still found."""
    return math.expm1(MIN_SHARE * math.log1p(abs(confirmation.change or 0.0)))


def _settles_like_good(step: Comparison, bar: float | None) -> bool:
    return step.outcome == "unknown" and bar is not None and step.ci_high is not None and step.ci_high < bar


def _like_bad(outcome: Outcome, kind: str) -> bool:
    return outcome == ("correctness" if kind == "correctness" else "regression")


def _midpoints(lo: int, hi: int, skipped: set[int]) -> list[int]:
    """Candidates strictly between ``lo`` and ``hi`` not skipped, the middle first, then outwards."""
    middle = (lo + hi) / 2
    return sorted((i for i in range(lo + 1, hi) if i not in skipped), key=lambda i: (abs(i - middle), i))


def _next_steps(lo: int, mid: int, hi: int, skipped: set[int]) -> list[tuple[int, int]]:
    """The comparisons the search makes after (lo, mid): (lo, midpoint of lo..mid) when mid is like
    BAD, (mid, midpoint of mid..hi) when it is like GOOD."""
    steps = []
    if below := _midpoints(lo, mid, skipped):
        steps.append((lo, below[0]))
    if above := _midpoints(mid, hi, skipped):
        steps.append((mid, above[0]))
    return steps


def bisect(
    n: int,
    compare: Compare,
    *,
    threshold: float,
    max_culprits: int = 4,
    speculate: Callable[[list[tuple[int, int]], float], None] | None = None,
) -> BisectResult:
    """Search candidates ``0..n-1`` (0 GOOD, n-1 BAD) for the commits that made BAD worse, every
    step judged at ``threshold`` (an undecided one read with ``like_good_below``). ``speculate``
    hears, before each search step is measured, that step and the two that may follow it (with
    their threshold): a caller with several devices starts those at once (speculative midpoints),
    and ``compare`` then answers from what they measured."""
    if n < 2:
        raise ValueError("bisect needs GOOD and BAD")
    steps: list[Comparison] = []
    done: dict[tuple[int, int], Comparison] = {}

    def measured(base: int, head: int) -> Comparison:
        """A pair of candidates is measured once (the last search step is often the verification)."""
        if (base, head) not in done:
            done[base, head] = compare(base, head, threshold)
            steps.append(done[base, head])
        return done[base, head]

    first = measured(0, n - 1)
    kind: Literal["latency", "correctness"] | None = (
        "correctness" if first.outcome == "correctness" else "latency" if first.outcome == "regression" else None
    )
    bar = like_good_below(first) if kind == "latency" else None
    result = BisectResult(kind, first, steps=steps, like_good_below=bar)
    if kind is None:
        return result
    skipped: set[int] = set()
    lo = 0
    while len(result.culprits) < max_culprits:
        hi = n - 1
        while hi - lo > 1:
            candidates = _midpoints(lo, hi, skipped)
            if not candidates:
                result.unresolved = (lo, hi)
                break
            mid = candidates[0]
            if speculate is not None:
                speculate([(lo, mid), *_next_steps(lo, mid, hi, skipped)], threshold)
            step = measured(lo, mid)
            if step.outcome == "skip":
                skipped.add(mid)
            elif _like_bad(step.outcome, kind):
                hi = mid
            elif (
                step.outcome in ("same", "improvement")
                or (kind == "correctness" and step.outcome != "error")
                or _settles_like_good(step, bar)
            ):
                lo = mid
            else:  # unknown after every pair the budget allowed, or GOOD's side failed
                result.unresolved = (lo, hi)
                break
        if result.unresolved is not None:
            break
        parent = max(i for i in range(hi) if i not in skipped)
        verification = measured(parent, hi)
        share = None
        if kind == "latency" and verification.change is not None and first.change:
            share = math.log1p(verification.change) / math.log1p(first.change)
        result.culprits.append(Culprit(hi, parent, verification, share))
        if hi == n - 1 or not _like_bad(measured(hi, n - 1).outcome, kind):
            break
        lo = hi
    result.skipped = sorted(skipped)
    return result
