"""Detection quality on real noise: false alarms, recall at the exact commit, A/A compares, the replay.

    python benchmarks/detection/run.py --out results/detection/detection.json

Per noise family (families.py), through the code real runs use:

- **push histories**: 24 commits of one case, one worker process per commit (what `perfci run` stores
  by default), each a perfci.results/1 document handed to ``perfci.pipeline.process_document`` on a
  SQLite store, with a ``confirm`` that re-measures a suspected regression the way `perfci run`
  does: fresh simulated process pairs of the baseline commit and the head, judged by
  ``interleave`` + ``judge_pairs`` (2, 4, 8, ... ``confirm_max_pairs`` pairs at ``confirm_alpha``,
  the config's defaults; the time budget is not simulated, the pairs each confirmation took are
  reported). A/A histories, and histories with one step
  of +-2x the family's minimum detectable change (MDE: what the judge reports on A/A history) at a
  random commit; on the h200 family also +-3% steps.
- **A/A compares**: ``interleave`` + ``judge_pairs`` on simulated process pairs, as `perfci compare`
  runs them (up to 16 pairs); and the same with a real +10% change.
- **the replay**: ../shared/data/replay-seed-pr-h200.jsonl imported through the pipeline.

Scoring: a gating false alarm is a gating finding (latency) anywhere but at the step's commit in
its direction, counted per (series, commit) test; recall is a finding of the step's direction at
the step's exact commit (gating latency for slower steps; improvement or suspected for faster ones,
since improvements never gate).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from families import FAMILIES, SHARED, make_process

from perfci.analysis.levels import judge_history
from perfci.analysis.verdict import judge_pairs, per_look_alpha, planned_looks
from perfci.config import PerfciConfig
from perfci.document import parse_document
from perfci.pipeline import process_document
from perfci.runner.compare import COMPARE_ALPHA
from perfci.runner.interleave import interleave
from perfci.store.migrate import open_store
from perfci.store.reads import find_run, run_results
from perfci.testing import make_document

COMMITS = 24
AA_HISTORIES = 20
STEP_HISTORIES = 40
COMPARES = 50


def _pair_opener(process: Any, rng: np.random.Generator, base_level: float, head_level: float) -> Any:
    """open_pair for ``interleave``: a fresh simulated process per side, two rounds each."""

    @contextmanager
    def open_pair() -> Any:
        base, head = process(rng, base_level), process(rng, head_level)
        halves = {"base": np.array_split(base, 2), "head": np.array_split(head, 2)}
        rounds = {side: iter(parts) for side, parts in halves.items()}
        yield (lambda: list(next(rounds["base"]))), (lambda: list(next(rounds["head"])))

    return open_pair


def simulated_compare(
    process: Any,
    rng: np.random.Generator,
    base_level: float,
    head_level: float,
    threshold: float,
    max_pairs: int = 16,
    alpha: float = COMPARE_ALPHA,
) -> dict[str, Any]:
    """``interleave`` + ``judge_pairs`` as ``compare_case`` runs them (alpha split over the looks)."""
    outcome = interleave(
        _pair_opener(process, rng, base_level, head_level),
        partial(judge_pairs, threshold=threshold, alpha=per_look_alpha(alpha, planned_looks(2, max_pairs))),
        rounds_per_pair=1,
        min_pairs=2,
        max_pairs=max_pairs,
        budget_s=1e9,
    )
    assert outcome.verdict is not None
    return {
        **outcome.verdict.as_dict(),
        "pairs": outcome.pairs,
        "reason": outcome.verdict.reason,
        "base_value": float(np.median(outcome.process_values("base"))),
    }


def family_mde(family: str, seed: int) -> float:
    """The judge's minimum detectable change after a history of A/A results of one process each
    (median over 9 histories)."""
    thresholds = []
    for k in range(9):
        rng = np.random.default_rng(10_000 + seed + k)
        process = make_process(family, rng)
        values = [[float(np.median(process(rng, 1.0)))] for _ in range(COMMITS)]
        thresholds.append(judge_history(values)[-1].mde)
    return float(np.median(thresholds))


def push_trial(args: tuple[str, float, int]) -> dict[str, Any]:
    family, change, seed = args
    rng = np.random.default_rng(seed)
    process = make_process(family, rng)
    at = int(rng.integers(10, COMMITS - 6))
    levels = [1.0 if t < at else 1.0 + change for t in range(COMMITS)]
    index_of = {make_document(commit_index=t)["run"]["commit"]["sha"]: t for t in range(COMMITS)}

    def confirm(suspects: list[Any]) -> list[dict[str, Any] | None]:
        out = []
        for finding in suspects:
            # as `perfci run` does: the commit the change is attributed to against its baseline
            head, base = index_of[finding.commit], index_of.get(finding.baseline_commit or "")
            if base is None:
                out.append(None)
                continue
            detection = config.detection
            verdict = simulated_compare(
                process,
                rng,
                levels[base],
                levels[head],
                detection.policy().min_change,
                max_pairs=detection.confirm_max_pairs,
                alpha=detection.confirm_alpha,
            )
            pairs.append(verdict["pairs"])
            out.append(verdict)
        return out

    found: list[tuple[int, str, float]] = []
    pairs: list[int] = []
    config = PerfciConfig()
    mde_at_step = None
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/d.db")
        for t, level in enumerate(levels):
            data = make_document(commit_index=t, cases=1, samples=1, seed=seed)
            data["results"][0]["samples"] = [float(x) for x in process(rng, level)]
            processed = process_document(store, config, parse_document(data), confirm=confirm)
            found += [(index_of[f.commit], f.kind, f.change or 0.0) for f in processed.findings]
            if t == at and change:
                # the MDE the judge reported for this series when the step arrived (its noise so far,
                # the suspicions re-measuring refuted included), as stored with the result
                with store.read() as session:
                    run = find_run(session, str(processed.run_uuid))
                    (row,), _ = run_results(session, [run.id], 1, 1)
                mde_at_step = row["judgement"]["mde"]
        store.dispose()
    return {
        "family": family,
        "change": change,
        "at": at,
        "found": found,
        "confirmation_pairs": pairs,
        "mde_at_step": mde_at_step,
    }


def score(trials: list[dict[str, Any]]) -> dict[str, Any]:
    tests = gating_false = other_false = 0
    recall: dict[str, list[bool]] = {}
    #: steps at least twice the MDE the judge reported for their series when they arrived
    recall_2x_own_mde: dict[str, list[bool]] = {}
    labelled: dict[str, int] = {}
    aa_gating = 0
    misses: list[dict[str, Any]] = []
    for trial in trials:
        change, at = trial["change"], trial["at"]
        tests += COMMITS - 1
        hit = False
        for t, kind, delta in trial["found"]:
            on_target = change != 0 and t == at and np.sign(delta) == np.sign(change)
            if (change > 0 and on_target and kind == "latency") or (
                change < 0 and on_target and kind in ("improvement", "suspected")
            ):
                hit = True
            elif kind == "latency" and not on_target:
                gating_false += 1
            elif not on_target:
                other_false += 1
        if change == 0:
            aa_gating += any(kind == "latency" for _, kind, _ in trial["found"])
        else:
            recall.setdefault(f"{change:+.1%}", []).append(hit)
            if abs(change) >= 2 * trial["mde_at_step"]:
                recall_2x_own_mde.setdefault(f"{change:+.1%}", []).append(hit)
                if not hit:  # what the judge said around a step it should have found
                    near = [[t, kind, round(delta, 4)] for t, kind, delta in trial["found"] if abs(t - at) <= 2]
                    misses.append({"change": change, "at": at, "mde_at_step": trial["mde_at_step"], "found_near": near})
            else:
                labelled[f"{change:+.1%}"] = labelled.get(f"{change:+.1%}", 0) + 1
    return {
        "tests": tests,
        "gating_false_alarms": gating_false,
        "gating_false_alarm_rate": gating_false / tests,
        "other_false_findings": other_false,
        "aa_histories_gating": aa_gating,
        "recall_at_exact_commit": {k: sum(v) / len(v) for k, v in sorted(recall.items())},
        "recall_at_2x_own_mde": {k: [sum(v), len(v)] for k, v in sorted(recall_2x_own_mde.items())},
        "steps_under_2x_own_mde": labelled,
        "misses_at_2x_own_mde": misses,
        "confirmations": sum(len(t["confirmation_pairs"]) for t in trials),
        "confirmation_pairs": _quantiles([n for t in trials for n in t["confirmation_pairs"]]),
    }


def _quantiles(values: list[int]) -> dict[str, float]:
    """Median, 90th percentile and maximum (pairs a confirmation took: its cost)."""
    if not values:
        return {}
    return {q: float(np.percentile(values, p)) for q, p in (("median", 50), ("p90", 90), ("max", 100))}


def compare_trials(family: str, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    aa = [simulated_compare(make_process(family, rng), rng, 1.0, 1.0, 0.02)["kind"] for _ in range(COMPARES)]
    real = [simulated_compare(make_process(family, rng), rng, 1.0, 1.10, 0.02)["kind"] for _ in range(COMPARES)]
    return {"aa": {k: aa.count(k) for k in sorted(set(aa))}, "plus10": {k: real.count(k) for k in sorted(set(real))}}


def replay() -> dict[str, Any]:
    """The nine real documents through the pipeline: every finding with its commit's position."""
    lines = [json.loads(line) for line in (SHARED / "replay-seed-pr-h200.jsonl").read_text().splitlines()]
    position = {line["run"]["commit"]["sha"]: i + 1 for i, line in enumerate(lines)}
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/r.db")
        for line in lines:
            processed = process_document(store, PerfciConfig(), parse_document(line))
            found += [
                {"commit": position[f.commit], "case": f.case, "kind": f.kind, "change": f.change}
                for f in processed.findings
            ]
        store.dispose()
    return {"findings": found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the histories to run (quick looks)")
    args = parser.parse_args()
    start = time.time()
    report: dict[str, Any] = {"commits_per_history": COMMITS, "families": {}}
    jobs, seed = [], 0
    mdes = {family: family_mde(family, i) for i, family in enumerate(args.families)}
    for family in args.families:
        sizes = [2 * mdes[family], -2 * mdes[family]] + ([0.03, -0.03] if family == "h200" else [])
        for change, count in [(0.0, AA_HISTORIES)] + [(size, STEP_HISTORIES) for size in sizes]:
            for _ in range(max(1, int(count * args.scale))):
                seed += 1
                jobs.append((family, round(change, 4), seed))
    with ProcessPoolExecutor(args.workers) as pool:
        trials = list(pool.map(push_trial, jobs, chunksize=2))
        compares = dict(
            zip(args.families, pool.map(compare_trials, args.families, range(len(args.families))), strict=True)
        )
    for family in args.families:
        report["families"][family] = {
            "mde": mdes[family],
            "push": score([t for t in trials if t["family"] == family]),
            "compare": compares[family],
        }
    report["replay"] = replay()
    report["seconds"] = time.time() - start
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
