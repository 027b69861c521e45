"""Each result of a series judged against the level before it, from per-process values alone.

The series is walked oldest first, the way its results arrived, so every result's judgement is the
one it got (or would have got) when it was stored: pure, stateless, the same at import, at
``perfci run`` and in the detection benchmark.

A result's value is the median of its processes' values; its *level* is the run of results since
the last change (excursions that reverted left out). Noise is pooled across levels: each earlier
result's process values relative to its own level's median (so a kernel's noise is learned across
its history, and a step does not count as noise). For the head:

- fewer than ``min_history`` results before it: not judged ("history 2/6");
- inside the spread the series has already shown (between the second smallest and second largest
  relative deviation, widened by the policy floor: an extreme must have been seen twice, so an
  autotune mode seen in two processes is noise, one seen once is not yet): ``same``, whatever a
  test would say;
- a change under the threshold (max(policy floor, k x process sigma)): ``same``;
- otherwise a change: ``regression``/``improvement`` when the head's own processes carry the
  evidence (a rank test of its processes against the level's, ``judge_processes``), else
  ``suspected`` (one process, or too little evidence: confirm it by re-measuring, never gate on it).

A change starts a new level, which the next result must hold (a level is at least two results). If
that result goes back to the level before, the change was an excursion: it is left out of the level
and the noise, and the return is a change of its own, against the excursion (a regression at its
start, a fix at its revert; never a step credited to an unchanged commit). If it neither holds the
new level nor goes back, the change was a spike all the same, and the result is judged against the
level before it (a real step that lands just after a one-process spike is not measured against the
spike). A change that re-measuring refuted (``refuted``: its commit against its baseline in fresh
process pairs, whose interval lies under half the change), against a baseline that sat at the
level, is a spike even when the next result sits as high: that result is judged against the level
before the spike, and a result back at that level is simply the same. A change that was proved
(``proved``: re-measuring confirmed it, or its own processes did) starts a level that the next
result cannot turn into an excursion: that result is judged against it. The minimum detectable
change (MDE) is the threshold, or the top of the spread already shown when wider; when it exceeds
``gate_limit`` the series is labelled "too noisy to gate at X% (MDE Y%)".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from perfci.analysis.noise import ThresholdPolicy, robust_sigma, sigma_upper_bound
from perfci.analysis.verdict import judge_processes

JudgementKind = Literal["regression", "improvement", "suspected", "same", "not_judged"]


@dataclass(frozen=True)
class Judgement:
    kind: JudgementKind
    reason: str
    #: relative change of the value against what it is compared with (+0.05 = 5% slower)
    change: float | None = None
    threshold: float | None = None
    #: the smallest slowdown this result could have been flagged for: the threshold, or the top of the
    #: spread already shown when that is wider (a series with two autotune modes 7% apart cannot
    #: show a 5% step)
    mde: float | None = None
    sigma: float | None = None
    #: the index of the result this one is compared with (the level's last result, or the excursion)
    baseline_index: int | None = None
    too_noisy: bool = False
    #: the process-level test when the head had several processes
    verdict: dict[str, Any] = field(default_factory=dict)
    #: a change against the level: the level's median, and the index of the level's result before the
    #: baseline (what the baseline is re-measured against when re-measuring shows it reads like the
    #: head: ``baseline_moved``)
    level: float | None = None
    earlier_index: int | None = None

    @property
    def is_change(self) -> bool:
        return self.kind in ("regression", "improvement", "suspected")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "change": self.change,
            "threshold": self.threshold,
            "mde": self.mde,
            "sigma": self.sigma,
            "too_noisy": self.too_noisy,
            **({"test": self.verdict} if self.verdict else {}),
            **({"level": self.level} if self.level is not None else {}),
        }


def _value(processes: Sequence[float]) -> float:
    return float(np.median(processes))


class _Walk:
    """The series' levels as the walk knows them after each result."""

    def __init__(self, values: Sequence[Sequence[float]], policy: ThresholdPolicy) -> None:
        self.values = [np.asarray(v, dtype=np.float64) for v in values]
        self.policy = policy
        self.starts: list[int] = [0]  # first index of each level
        self.excursions: set[int] = set()

    def level_members(self, start: int, end: int) -> list[int]:
        return [i for i in range(start, end) if i not in self.excursions]

    def level_processes(self, members: list[int]) -> np.ndarray:
        return np.concatenate([self.values[i] for i in members]) if members else np.empty(0)

    def residuals(self, end: int) -> np.ndarray:
        """Log deviations of every process before ``end`` from its own level's median."""
        out = []
        bounds = [*self.starts, end]
        for start, stop in itertools.pairwise(bounds):
            processes = self.level_processes(self.level_members(start, min(stop, end)))
            if processes.size:
                out.append(np.log(processes) - math.log(float(np.median(processes))))
        return np.concatenate(out) if out else np.empty(0)

    def noise(self, end: int) -> _Noise:
        """What the processes before ``end`` show: threshold, sigma, spread and MDE."""
        residuals = self.residuals(end)
        sigma = robust_sigma(residuals)
        ordered = np.sort(residuals)
        low, high = (ordered[1], ordered[-2]) if ordered.size >= 3 else (ordered[0], ordered[-1])
        # Two modes (autotune configs) inflate the MAD to about half their gap; beyond the spread they
        # already showed plus the floor a value is news whatever the MAD says (confirmation decides).
        widest = max(math.expm1(high), -math.expm1(low))
        noise_bound = min(self.policy.k * sigma_upper_bound(sigma, residuals.size), widest + self.policy.min_change)
        threshold = max(self.policy.min_change, noise_bound)
        return _Noise(threshold, sigma, float(low), float(high), self.policy.gate_limit, self.policy.min_change)


@dataclass(frozen=True)
class _Noise:
    threshold: float
    sigma: float
    low: float  # the spread already shown, as log deviations from the level
    high: float
    gate_limit: float
    floor: float

    def inside(self, deviation: float) -> bool:
        """Inside the spread already shown, widened by the policy floor (a mode seen before comes back
        with its own small noise; a change smaller than the floor never matters)."""
        return self.low - self.floor <= deviation <= self.high + self.floor

    @property
    def mde(self) -> float:
        return max(self.threshold, math.expm1(self.high + self.floor))

    @property
    def too_noisy(self) -> bool:
        return self.mde > self.gate_limit

    def judgement(
        self,
        kind: JudgementKind,
        reason: str,
        change: float,
        against: int,
        test: dict[str, Any] | None = None,
        level: float | None = None,
        earlier: int | None = None,
    ) -> Judgement:
        label = f"; too noisy to gate at {self.gate_limit:.0%} (MDE {self.mde:.1%})" if self.too_noisy else ""
        return Judgement(
            kind,
            reason + label,
            change,
            self.threshold,
            self.mde,
            self.sigma,
            against,
            self.too_noisy,
            test or {},
            level,
            earlier,
        )


def _change_kind(
    walk: _Walk, reference: np.ndarray, head: np.ndarray, threshold: float
) -> tuple[JudgementKind, dict[str, Any]]:
    """regression / improvement with the head's own process-level evidence, else suspected."""
    if head.size < 2 or reference.size < 2:
        return "suspected", {}
    verdict = judge_processes(reference, head, threshold=threshold, alpha=walk.policy.alpha)
    kind: JudgementKind = verdict.kind if verdict.kind in ("regression", "improvement") else "suspected"
    return kind, verdict.as_dict()


def _at_level(walk: _Walk, suspected: Judgement, level: np.ndarray) -> bool:
    """Whether the baseline a suspicion was re-measured against sat at the level (within half the
    suspected change of its median). Only then does a refutation make the suspicion a spike: against
    a baseline already off the level toward it, "the same as its baseline" may mean the level moved
    at the baseline (a step read just under the threshold there), not that the suspicion was noise."""
    if suspected.baseline_index is None or not suspected.change or not level.size:
        return False
    baseline = _value(walk.values[suspected.baseline_index])
    return abs(baseline / float(np.median(level)) - 1.0) < abs(suspected.change) / 2


def refutes(change: float | None, confirmation: dict[str, Any] | None) -> bool:
    """Whether re-measuring a suspected slowdown showed that its commit did not make it: the process
    pairs' interval lies under half the change (the half a regression's interval must clear, read
    the other way; an interval too wide to call the commit the same still refutes a 5x stall)."""
    if not change or change <= 0 or not confirmation:
        return False
    high = confirmation.get("ci_high")
    return high is not None and high < change / 2


def baseline_moved(change: float | None, level: float | None, base_value: float | None) -> bool:
    """Whether the baseline commit, re-measured in fresh processes (their median ``base_value``),
    reads at least half a suspected change away from the ``level`` it was recorded at, toward the
    head: its one recorded process hid a step made at the baseline commit (or the head's change is
    the same as its baseline's), so "the head is the same as its baseline" refutes nothing there."""
    if not change or not level or not base_value or level <= 0 or base_value <= 0:
        return False
    moved = base_value / level - 1.0
    return moved >= change / 2 if change > 0 else moved <= change / 2


def judge_history(
    values: Sequence[Sequence[float]],
    policy: ThresholdPolicy | None = None,
    refuted: Collection[int] = (),
    proved: Collection[int] = (),
) -> list[Judgement]:
    """The judgement of every result (oldest first); ``values[i]`` holds result i's per-process
    values (one value when the result is one process); ``refuted`` holds the results whose change
    re-measuring refuted (``refutes``), ``proved`` those whose change was proved (a gating
    regression or a proved improvement, not refuted)."""
    policy = policy or ThresholdPolicy()
    walk = _Walk(values, policy)
    judgements: list[Judgement] = []
    for t, head in enumerate(walk.values):
        if t < policy.min_history:
            judgements.append(Judgement("not_judged", f"history {t}/{policy.min_history}"))
            continue
        noise = walk.noise(t)
        threshold, judged = noise.threshold, noise.judgement
        value = _value(head)

        previous = judgements[-1] if judgements else None
        after_spike = False
        if previous is not None and previous.is_change and walk.starts[-1] == t - 1 and t - 1 not in proved:
            # the result before started a new level: does this one hold it, or go back?
            excursion = walk.values[t - 1]
            older = walk.level_processes(walk.level_members(walk.starts[-2], t - 1))
            against_new = value / _value(excursion) - 1.0
            against_old = value / float(np.median(older)) - 1.0 if older.size else math.inf
            spike = t - 1 in refuted and _at_level(walk, previous, older)
            if abs(against_new) < threshold and not spike:
                judgements.append(judged("same", "holds the new level of the result before", against_new, t - 1))
                continue
            # a level of one result that the next neither holds nor leaves for the level before
            # was an excursion too (a spike), as is one that re-measuring refuted: the head is
            # judged against the established level
            walk.excursions.add(t - 1)
            walk.starts.pop()
            noise = walk.noise(t)
            threshold, judged = noise.threshold, noise.judgement
            if abs(against_old) < threshold and spike:
                members = walk.level_members(walk.starts[-1], t)
                reason = "the level before the result before, which re-measuring refuted"
                judgements.append(judged("same", reason, against_old, members[-1]))
                continue
            if abs(against_old) < threshold:
                kind, test = _change_kind(walk, excursion, head, threshold)
                reason = "returns to the level before the result before"
                judgements.append(judged(kind, reason, against_new, t - 1, test))
                continue
            after_spike = True
        members = walk.level_members(walk.starts[-1], t)
        reference = walk.level_processes(members)
        level = float(np.median(reference))
        change = value / level - 1.0
        if noise.inside(math.log(value / level)):
            shown = f"inside the spread already shown ({math.expm1(noise.low):+.1%}..{math.expm1(noise.high):+.1%})"
            judgements.append(judged("same", shown, change, members[-1]))
            continue
        if abs(change) < threshold:
            judgements.append(judged("same", f"under the threshold {threshold:.1%}", change, members[-1]))
            continue
        kind, test = _change_kind(walk, reference, head, threshold)
        if kind != "suspected":
            reason = "the processes of both sides differ"
        else:
            reason = "one process: confirm by re-measuring" if head.size < 2 else "not confirmed by its processes"
        against, earlier = members[-1], (members[-2] if len(members) > 1 else None)
        if after_spike:
            # which of the two moved is unknown until the next result: re-measuring this commit
            # against its parent (the spike's commit) tells, where the level's last result would
            # confirm a step the spike's commit made
            against, earlier = t - 1, members[-1]
            reason += "; after a one-result spike: judged against the level before it, baseline its parent"
        judgements.append(judged(kind, reason, change, against, test, level, earlier))
        walk.starts.append(t)
    return judgements
