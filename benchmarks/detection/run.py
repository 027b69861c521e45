"""Detection quality on real GPU noise: recall, exact-commit localisation, false alarms per test.

    python benchmarks/detection/run.py --trials 12 --out docs/perf/results/detection.json

Histories are built from ../shared/data/gpu-noise-h200.jsonl: each commit's run takes the samples
of one real process (drawn with replacement) of one kernel, scaled to the commit's true level. Three
noise variants: the H200 data as measured; "spread2" (+2% per-sample spread, 0.7% per-run offsets);
"outliers+bimodal" (5% of samples 10-50% slow, and each sample in a +4% clock state with p=0.3).
Into each history one change is injected at a random commit: a step or a 5-commit creep of
1/2/3/5/10%, slower or faster; plus A/A histories with no change. Every run goes through the real
path (`ingest_document` then `judge_run` on a SQLite store), and the findings are scored. The
naive detector flags any consecutive-median change of 5% or more.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from perfci.document import parse_document
from perfci.store.engine import open_store
from perfci.store.ingest import ingest_document
from perfci.store.judge import judge_run
from tests.factories import make_document

NOISE_FILE = Path(__file__).resolve().parents[3] / "shared" / "data" / "gpu-noise-h200.jsonl"
KERNELS = ("mm4096", "copy256MB", "swa_decode_b8", "swa_decode_b32", "flex_prefill")
COMMITS = 40
SAMPLES_PER_RUN = 50
SIZES = (0.01, 0.02, 0.03, 0.05, 0.10)


def load_noise() -> dict[str, list[np.ndarray]]:
    """Per kernel, each process's samples normalised by the kernel's overall median."""
    lines = [json.loads(line) for line in NOISE_FILE.read_text().splitlines() if line.strip()]
    noise = {}
    for kernel in KERNELS:
        runs = [np.asarray(line[kernel]["all"], dtype=np.float64) for line in lines]
        center = float(np.median(np.concatenate(runs)))
        noise[kernel] = [run / center for run in runs]
    return noise


def run_samples(rng: np.random.Generator, runs: list[np.ndarray], level: float, variant: str) -> np.ndarray:
    source = runs[rng.integers(len(runs))]
    samples = rng.choice(source, size=min(SAMPLES_PER_RUN, source.size), replace=False) * level
    if variant == "spread2":
        samples = samples * (1 + rng.normal(0, 0.02, samples.size)) * (1 + rng.normal(0, 0.007))
    elif variant == "outliers+bimodal":
        samples = samples * np.where(rng.random(samples.size) < 0.3, 1.04, 1.0)
        outliers = rng.random(samples.size) < 0.05
        samples[outliers] *= rng.uniform(1.1, 1.5, outliers.sum())
    return samples


def levels_for(change: float, at: int, shape: str) -> list[float]:
    if shape == "step":
        return [1.0 if t < at else 1.0 + change for t in range(COMMITS)]
    return [1.0 + change * min(max(t - at + 1, 0), 5) / 5 for t in range(COMMITS)]


def one_trial(args: tuple) -> dict:
    variant, kernel, change, shape, seed = args
    rng = np.random.default_rng(seed)
    noise = load_noise()[kernel]
    at = int(rng.integers(12, COMMITS - 8))
    levels = levels_for(change, at, shape)
    histories = [run_samples(rng, noise, level, variant) for level in levels]
    medians = [float(np.median(h)) for h in histories]
    findings = []
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/d.db")
        for t, samples in enumerate(histories):
            data = make_document(commit_index=t, cases=1, samples=1, seed=seed)
            data["results"][0]["samples"] = [float(x) for x in samples]
            outcome = ingest_document(store, parse_document(data))
            commit_of = {make_document(commit_index=i)["run"]["commit"]["sha"]: i for i in range(t + 1)}
            findings += [(commit_of[f.commit], f.kind) for f in judge_run(store, outcome.run_uuid)]
        store.dispose()
    naive = [(t, "latency" if m / medians[t - 1] > 1 else "improvement") for t, m in enumerate(medians)
             if t > 0 and abs(m / medians[t - 1] - 1) >= 0.05]  # fmt: skip
    return {"variant": variant, "kernel": kernel, "change": change, "shape": shape, "at": at,
            "perfci": findings, "naive": naive}  # fmt: skip


def score(trials: list[dict], detector: str) -> dict:
    """Recall (exact commit for steps, within the creep for creeps) and false alarms per test."""
    out: dict = {}
    false_alarms = tests = 0
    for trial in trials:
        expected = None if trial["change"] == 0 else ("latency" if trial["change"] > 0 else "improvement")
        span = range(trial["at"], trial["at"] + (1 if trial["shape"] == "step" else 5))
        hits = [t for t, kind in trial[detector] if kind == expected and t in span]
        wrong = [t for t, kind in trial[detector] if not (kind == expected and t in span)]
        # after a true change the following commits are still tests; anything flagged off-span is a false alarm
        false_alarms += len(set(wrong))
        tests += COMMITS - 1
        if expected:
            key = f"{trial['variant']}|{trial['shape']}|{trial['change']:+.0%}"
            out.setdefault(key, []).append(bool(hits))
    recall = {key: sum(v) / len(v) for key, v in out.items()}
    return {"recall": recall, "false_alarm_rate": false_alarms / tests, "tests": tests, "false_alarms": false_alarms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10, help="histories per (variant, change, shape)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = []
    seed = 0
    for variant in ("h200", "spread2", "outliers+bimodal"):
        for shape in ("step", "creep"):
            for change in [c * sign for c in SIZES for sign in (1, -1)] + [0.0]:
                if change == 0 and shape == "creep":
                    continue
                for _ in range(args.trials * (3 if change == 0 else 1)):
                    seed += 1
                    jobs.append((variant, KERNELS[seed % len(KERNELS)], change, shape, seed))
    start = time.time()
    with ProcessPoolExecutor(args.workers) as pool:
        trials = list(pool.map(one_trial, jobs, chunksize=4))
    report = {"trials": len(trials), "commits_per_history": COMMITS, "samples_per_run": SAMPLES_PER_RUN,
              "seconds": time.time() - start, "by_variant": {}}  # fmt: skip
    for variant in ("h200", "spread2", "outliers+bimodal"):
        subset = [t for t in trials if t["variant"] == variant]
        report["by_variant"][variant] = {det: score(subset, det) for det in ("perfci", "naive")}
        aa = [t for t in subset if t["change"] == 0]
        report["by_variant"][variant]["aa_alerts"] = {det: sum(bool(t[det]) for t in aa) for det in ("perfci", "naive")}
        report["by_variant"][variant]["aa_histories"] = len(aa)
    print(json.dumps(report, indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
