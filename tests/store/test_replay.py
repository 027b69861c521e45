"""The nine-commit replay of third-party autotuned kernels on an H200 (../shared/data), imported
through the pipeline: exactly the three changes it holds, and nothing at the commits that changed
nothing (an autotuned int8 prefill landing 7.2% apart in identical commits included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfci.config import PerfciConfig
from perfci.document import parse_document
from perfci.pipeline import process_document
from perfci.store.migrate import open_store

REPLAY = Path(__file__).resolve().parents[3] / "shared" / "data" / "replay-seed-pr-h200.jsonl"


@pytest.mark.skipif(not REPLAY.exists(), reason="../shared/data is not beside this checkout")
def test_the_replay_imports_to_its_three_changes(db_url):
    lines = [json.loads(line) for line in REPLAY.read_text().splitlines()]
    position = {line["run"]["commit"]["sha"]: index + 1 for index, line in enumerate(lines)}
    store = open_store(db_url)
    found = []
    for line in lines:
        processed = process_document(store, PerfciConfig(), parse_document(line))
        found += [
            (
                position[f.commit],
                f.case.split("/")[0] + "/" + f.case.split("/")[2][:8],
                f.kind,
                "slower" if f.change > 0 else "faster",
            )
            for f in processed.findings
        ]
    store.dispose()
    # one process per result: each change is suspected (shown, not gating) until confirmed in pairs
    assert sorted(found) == [
        (7, "decode/b8-kv102", "suspected", "faster"),
        (7, "prefill/b2-q4096", "suspected", "slower"),
        (8, "decode/b8-kv102", "suspected", "slower"),
    ]
