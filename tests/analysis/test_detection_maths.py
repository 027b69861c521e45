"""The pure detection pieces on plain lists: process-level verdicts, noise, the history walk, steps."""

import numpy as np
import pytest
from scipy import stats

from perfci.analysis.changepoints import PrefixSumL2, detect_steps
from perfci.analysis.levels import baseline_moved, judge_history, refutes
from perfci.analysis.noise import ThresholdPolicy, process_sigma, sigma_upper_bound, threshold_for
from perfci.analysis.verdict import (
    judge_pairs,
    judge_processes,
    paired_min_p,
    paired_p_value,
    per_look_alpha,
    planned_looks,
)

rng = np.random.default_rng(7)


def _processes(level: float, n: int, cv: float = 0.003) -> list[float]:
    return list(level * (1 + rng.normal(0, cv, n)))


def test_unpaired_verdict_on_process_values():
    base = _processes(1.0, 12)
    assert judge_processes(base, _processes(1.05, 8), threshold=0.02).kind == "regression"
    assert judge_processes(base, _processes(0.95, 8), threshold=0.02).kind == "improvement"
    assert judge_processes(base, _processes(1.0, 8), threshold=0.02).kind == "same"
    one = judge_processes(base, [1.5], threshold=0.02)  # one process is never a verdict on its own
    assert one.kind == "unknown" and "one process" in one.reason and one.as_dict()["ci_high"] is None


def test_within_process_samples_are_not_evidence():
    """Two identical commits whose processes land in two autotune modes 7% apart: 200 samples each
    in one process would look decisive; as one value per process there is no verdict."""
    modes = [1.0, 1.072]
    base = [modes[i % 2] * (1 + 0.001 * rng.standard_normal()) for i in range(4)]
    head = [modes[(i + 1) % 2] * (1 + 0.001 * rng.standard_normal()) for i in range(4)]
    assert judge_processes(base, head, threshold=0.02).kind != "regression"


def test_paired_sequential_verdict():
    same = [0.001, -0.002, 0.0015, -0.001, 0.0005, 0.0, -0.0005, 0.001]
    assert judge_pairs(same, threshold=0.02).kind == "same"
    slower = [0.10 + 0.002 * x for x in range(8)]
    verdict = judge_pairs(slower, threshold=0.02)
    assert verdict.kind == "regression" and verdict.p_value < 0.01 and verdict.change == pytest.approx(0.107, 0.02)
    faster = judge_pairs([-0.1 - 0.002 * x for x in range(8)], threshold=0.02)
    assert faster.kind == "improvement" and faster.ci_high <= -0.01
    # two pairs can never reach p < 0.01: a real change waits for more pairs instead of a guess
    assert judge_pairs(slower[:2], threshold=0.02).kind == "unknown"
    # autotune modes on both sides, unchanged code: pairs 0 / +7% / -7%: never a regression
    modal = [0.0009, 0.073, 0.071, -0.068, 0.0, 0.072, -0.0004, 0.0012]
    verdict = judge_pairs(modal, threshold=0.02)
    assert verdict.kind == "unknown" and verdict.reason.startswith("too noisy to tell with 8 pairs")
    # the threshold is never inflated by noise
    assert verdict.threshold == 0.02


def test_the_paired_test_is_the_exact_sign_flip_permutation_test():
    """Its p equals scipy.stats.permutation_test's with the same statistic (exact up to 16 pairs),
    ties and zeros included; all pairs of one sign reach 2 / 2^n."""
    generator = np.random.default_rng(3)
    for n in (3, 6, 9, 12):
        logs = np.round(generator.normal(0.01, 0.02, n), 3)  # rounding makes ties
        logs[0] = 0.0  # a pair with no sign
        nonzero = logs[logs != 0]
        ranks = stats.rankdata(np.abs(nonzero))

        def statistic(
            x: np.ndarray, axis: int = -1, ranks: np.ndarray = ranks, nonzero: np.ndarray = nonzero
        ) -> np.ndarray:
            positive = np.moveaxis(x, axis, -1) > 0
            rank_z = ((positive * ranks).sum(-1) - ranks.sum() / 2) / np.sqrt((ranks**2).sum() / 4)
            sign_z = (positive.sum(-1) - nonzero.size / 2) / np.sqrt(nonzero.size / 4)
            return np.maximum(np.abs(rank_z), np.abs(sign_z))

        reference = stats.permutation_test(
            (nonzero,), statistic, permutation_type="samples", vectorized=True, alternative="greater"
        )
        assert paired_p_value(logs) == pytest.approx(reference.pvalue, rel=1e-9)
    assert paired_p_value([0.05] * 8) == paired_min_p(8) == 2 / 2**8
    assert paired_p_value([0.0, 0.0]) == 1.0


def test_far_off_processes_on_both_sides_do_not_hide_a_clean_change():
    """One process in six 20-45% slow, on either side (a shared GPU): a third of the pairs are large
    and of both signs, the rest all +5%. The signed-rank sum alone weighs the large ones most and
    stays undecided at 64 pairs; counting signs confirms the change."""
    generator = np.random.default_rng(11)
    base = 1 + generator.normal(0, 0.003, 64)
    head = 1.05 * (1 + generator.normal(0, 0.003, 64))
    base[generator.random(64) < 1 / 6] *= generator.uniform(1.2, 1.45)
    head[generator.random(64) < 1 / 6] *= generator.uniform(1.2, 1.45)
    logs = np.log(head / base)
    share = per_look_alpha(0.002, planned_looks(2, 64))
    assert stats.wilcoxon(logs).pvalue > share  # the signed-rank test alone: undecided
    verdict = judge_pairs(list(np.expm1(logs)), threshold=0.02, alpha=share)
    assert verdict.kind == "regression" and verdict.p_value < share


def test_the_familywise_alpha_is_split_over_the_looks_that_can_reject():
    assert planned_looks(2, 16) == [2, 4, 8, 16] and planned_looks(2, 64) == [2, 4, 8, 16, 32, 64]
    assert planned_looks(2, 12) == [2, 4, 8, 12]
    # compare: 0.01 at 8 and at 16 pairs (2 and 4 pairs can never reject: no alpha spent on them)
    assert per_look_alpha(0.02, planned_looks(2, 16)) == pytest.approx(0.01)
    # confirmation: 0.002 over 16, 32, 64 pairs; 8 pairs cannot reach a third of it
    share = per_look_alpha(0.002, planned_looks(2, 64))
    assert share == pytest.approx(0.002 / 3) and paired_min_p(8) > share > paired_min_p(16)
    # a schedule that can never reject says so with 0
    assert per_look_alpha(0.002, planned_looks(2, 8)) == 0.0


def test_sequential_looks_keep_the_false_confirmation_rate_under_the_familywise_alpha():
    """A/A pairs from heavy-tailed noise (a loaded machine: a few processes several times slower),
    looked at like a confirmation (2, 4, ..., 64 pairs, stop when decided): at most
    the family-wise alpha of them may come out a regression or an improvement."""
    rng = np.random.default_rng(7)
    share = per_look_alpha(0.002, planned_looks(2, 64))
    false = 0
    trials = 400
    for _ in range(trials):
        logs = rng.standard_t(2, 64) * 0.1
        changes = np.expm1(logs)
        for look in planned_looks(2, 64):
            kind = judge_pairs(changes[:look], threshold=0.02, alpha=share, resamples=200).kind
            if kind != "unknown":
                false += kind in ("regression", "improvement")
                break
    assert false / trials <= 0.005


def test_noise_is_process_level_and_robust():
    values = _processes(1.0, 60)
    values[10] *= 1.5
    sigma = process_sigma(values)
    assert 0.002 < sigma < 0.0045
    threshold, estimate = threshold_for(values, ThresholdPolicy(min_change=0.01, k=5))
    assert estimate == sigma and threshold == pytest.approx(5 * sigma_upper_bound(sigma, 60))
    assert threshold_for([1.0, 1.0], ThresholdPolicy())[0] == ThresholdPolicy().min_change


def _history(levels: list[float], cv: float = 0.002, generator: np.random.Generator = rng) -> list[list[float]]:
    return [[level * (1 + cv * generator.standard_normal())] for level in levels]


def test_walk_finds_a_step_then_holds_the_new_level():
    judgements = judge_history(_history([1.0] * 8 + [1.05] * 4))
    kinds = [j.kind for j in judgements]
    assert kinds[:6] == ["not_judged"] * 6 and judgements[0].reason == "history 0/6"
    assert kinds[6:8] == ["same", "same"]
    assert kinds[8] == "suspected" and judgements[8].change == pytest.approx(0.05, abs=0.01)
    assert "one process" in judgements[8].reason  # one process: confirm by re-measuring
    assert kinds[9:] == ["same"] * 3


def test_an_excursion_is_a_change_at_its_start_and_its_revert():
    """The replay's b8 decode: six results at 0.1183, one at 0.1100, then back at 0.1177."""
    values = [[0.1183], [0.1184], [0.1183], [0.1182], [0.1183], [0.1183], [0.1100], [0.1177], [0.1177]]
    judgements = judge_history(values)
    assert [j.kind for j in judgements[6:]] == ["suspected", "suspected", "same"]
    assert judgements[6].change < -0.06 and judgements[7].change > 0.06
    assert judgements[7].baseline_index == 6 and "returns" in judgements[7].reason


def test_a_step_just_after_a_spike_is_judged_against_the_level_not_the_spike():
    """One process 35% slow (a shared GPU's slow process), then a real +5% step: the step's first
    result neither holds the spike nor goes back to the level, so the spike was an excursion and the
    step is a change against the level, at its own commit."""
    values = _history([1.0] * 9 + [1.35] + [1.05] * 4)
    judgements = judge_history(values)
    assert judgements[9].kind == "suspected" and judgements[9].change > 0.3
    step = judgements[10]
    assert step.kind == "suspected" and step.change == pytest.approx(0.05, abs=0.01)
    # against the level, not the spike; its baseline commit is its parent (confirmation tells which moved)
    assert step.baseline_index == 9 and "after a one-result spike" in step.reason
    assert [j.kind for j in judgements[11:]] == ["same"] * 3


def test_a_refuted_spike_does_not_start_a_level_even_when_a_real_step_lands_as_high():
    """A +49% stall (one process), which re-measuring refuted, then a real +47% step at the next
    commit: without the refutation the step holds the stall's level and is never seen; with it, the
    step is a change against the level before the stall, its baseline the stall's commit."""
    values = _history([1.0] * 9 + [1.49] + [1.47] * 4, generator=np.random.default_rng(1))
    blind = judge_history(values)
    assert blind[10].kind == "same" and "holds the new level" in blind[10].reason
    judgements = judge_history(values, refuted={9})
    step = judgements[10]
    assert step.kind == "suspected" and step.change == pytest.approx(0.47, abs=0.01)
    assert step.baseline_index == 9 and "after a one-result spike" in step.reason
    assert [j.kind for j in judgements[11:]] == ["same"] * 3
    # a refuted stall followed by the level it left is no change at all (no "fix" at the return)
    back = judge_history(_history([1.0] * 9 + [1.52] + [1.0] * 3, generator=np.random.default_rng(2)), refuted={9})
    assert [j.kind for j in back[10:]] == ["same"] * 3 and "re-measuring refuted" in back[10].reason


def test_a_refutation_against_a_baseline_already_off_the_level_is_no_spike():
    """A +3% step read +1.8% at its commit (under the threshold, so that result joins the level)
    and +3% at the next, whose re-measurement against the step's commit finds them the same: the
    level moved at the baseline, so the next results hold the new level (the history's step
    detection places it)."""
    values = _history([1.0] * 10 + [1.018] + [1.03] * 4, cv=0.0005, generator=np.random.default_rng(3))
    judgements = judge_history(values, refuted={11})
    assert judgements[10].kind == "same" and judgements[11].kind == "suspected"
    assert judgements[11].baseline_index == 10
    assert judgements[12].kind == "same" and "holds the new level" in judgements[12].reason


def test_a_proved_step_starts_a_level_that_the_next_result_does_not_turn_into_an_excursion():
    """A +10% step re-measuring confirmed, then a result in a +6% slow mode above it (one process):
    unproved, the step would be a spike the slow result neither holds nor reverts from, and that
    result a +16% change against the old level; proved, it is judged against the step's level."""
    values = _history([1.0] * 9 + [1.10, 1.166, 1.10], cv=0.001, generator=np.random.default_rng(5))
    unproved = judge_history(values)
    assert unproved[10].kind == "suspected" and unproved[10].change == pytest.approx(0.166, abs=0.01)
    judgements = judge_history(values, proved={9})
    assert judgements[10].baseline_index == 9 and judgements[10].change == pytest.approx(0.06, abs=0.01)
    assert judgements[10].earlier_index is None  # nothing in the step's level before its first result


def test_a_re_measurement_refutes_a_suspicion_only_when_its_interval_lies_under_half_of_it():
    assert refutes(0.53, {"kind": "unknown", "ci_low": -0.135, "ci_high": 0.131})
    assert not refutes(0.05, {"kind": "unknown", "ci_low": -0.01, "ci_high": 0.04})  # 4% of 5% may be real
    assert not refutes(0.05, {"kind": "same", "ci_low": -0.01, "ci_high": None})  # an unbounded interval
    assert not refutes(-0.3, {"ci_high": -0.5}) and not refutes(0.3, None)


def test_a_change_names_its_level_and_the_result_before_its_baseline():
    """What re-measuring a baseline that moved needs: the level's median, and the level's result
    before the baseline (before a one-result spike, the level's last result)."""
    values = _history([1.0] * 9 + [1.3], cv=0.001, generator=np.random.default_rng(4))
    head = judge_history(values)[-1]
    assert head.kind == "suspected" and (head.baseline_index, head.earlier_index) == (8, 7)
    assert head.level == pytest.approx(1.0, abs=0.002) and head.as_dict()["level"] == head.level
    after_spike = judge_history([*values[:9], [1.49], [1.47]], refuted={9})[-1]
    assert (after_spike.baseline_index, after_spike.earlier_index) == (9, 8)


def test_a_baseline_moved_when_its_fresh_processes_read_half_the_change_toward_the_head():
    assert baseline_moved(0.47, 1.0, 1.45) and baseline_moved(0.47, 2.0, 2.5)
    assert not baseline_moved(0.47, 1.0, 1.2) and not baseline_moved(0.47, 1.0, 0.7)
    assert baseline_moved(-0.3, 1.0, 0.8) and not baseline_moved(-0.3, 1.0, 1.2)
    assert not baseline_moved(0.47, None, 1.45) and not baseline_moved(0.47, 1.0, None)


def test_modes_seen_twice_are_noise_and_an_unchanged_history_never_gates():
    """The replay's int8 prefill: autotune lands 0.5795 or 0.6212 per process; then a real x300."""
    values = [[0.5795], [0.5795], [0.6212], [0.5816], [0.5805], [0.6211], [0.5796], [0.6210]]
    assert [j.kind for j in judge_history(values)][6:] == ["same", "same"]
    values += [[174.53], [174.57], [174.60]]
    judgements = judge_history(values)
    assert [j.kind for j in judgements[8:]] == ["suspected", "same", "same"]


def test_processes_in_the_head_carry_the_evidence_to_gate():
    history = [_processes(1.0, 4) for _ in range(8)]
    judgements = judge_history([*history, _processes(1.06, 5)])
    assert judgements[-1].kind == "regression" and judgements[-1].verdict["p_value"] < 0.01


def test_a_noisy_series_is_labelled_with_its_mde():
    judgements = judge_history(_history([1.0] * 10 + [1.4], cv=0.06, generator=np.random.default_rng(2)))
    last = judgements[-1]
    assert last.mde > 0.05 and last.too_noisy and f"too noisy to gate at 5% (MDE {last.mde:.1%})" in last.reason


def test_two_autotune_modes_bound_the_threshold_by_their_spread():
    """Processes in two configs 7% apart inflate the MAD to about half the gap; a value beyond the
    spread both modes showed, plus the floor, is still news (to be confirmed, never gated alone)."""
    generator = np.random.default_rng(5)
    modes = [[(1.0 if i % 2 else 1.07) * (1 + 0.001 * generator.standard_normal())] for i in range(12)]
    judgements = judge_history([*modes, [1.13]])
    assert [j.kind for j in judgements[6:12]] == ["same"] * 6
    mad_threshold = 5 * 0.035 * 1.5  # what 5 x the MAD's upper bound alone would ask: over 25%
    assert judgements[-1].kind == "suspected" and 0.02 < judgements[-1].threshold < 0.06 < mad_threshold


def test_steps_need_segments_on_both_sides_and_process_evidence():
    own = np.random.default_rng(0)  # its own draws: what other tests take from the shared stream never moves them
    quiet = _history([1.0] * 40, generator=own)
    assert detect_steps(quiet, 0.002, min_change=0.02) == []
    history = _history([1.0] * 12 + [1.04] * 5, generator=own)
    (step,) = detect_steps(history, 0.002, min_change=0.02)
    assert step.index == 12 and step.confirmed and step.first == step.last == 12
    # three results after twelve: p = 0.002, not below 0.01 / 12 places the step could be
    assert not detect_steps(_history([1.0] * 12 + [1.04] * 3, generator=own), 0.002, min_change=0.02)[0].confirmed
    short = _history([1.0] * 6 + [1.04] * 3, generator=own)  # 6 vs 3 single processes: p = 0.024, not confirmed
    (step,) = detect_steps(short, 0.002, min_change=0.02)
    assert step.index == 6 and not step.confirmed
    # a V-shaped excursion is never a step (segment medians, at least 3 results a side)
    excursion = _history([1.0] * 8 + [0.93] + [1.0] * 8, generator=own)
    assert detect_steps(excursion, 0.002, min_change=0.02) == []


def test_a_step_whose_place_is_uncertain_reports_a_range():
    history = [[1.0]] * 10 + [[1.012]] + [[1.03]] * 10  # the middle point could belong to either side
    (step,) = detect_steps(history, 0.01, min_change=0.02)
    assert step.first < step.last and step.first <= step.index <= step.last


def test_prefix_sum_cost_segments_exactly_like_ruptures_l2():
    import ruptures

    generator = np.random.default_rng(3)
    for _ in range(200):
        n = int(generator.integers(6, 80))
        step_at = int(generator.integers(1, n - 1))
        x = np.log(1 + 0.01 * generator.standard_normal(n) + (np.arange(n) >= step_at) * generator.choice([0.0, 0.1]))
        penalty = 3 * 0.01**2 * np.log(n)
        expected = ruptures.Pelt(model="l2", min_size=2, jump=1).fit(x).predict(pen=penalty)
        assert ruptures.Pelt(custom_cost=PrefixSumL2(), min_size=2, jump=1).fit(x).predict(pen=penalty) == expected
