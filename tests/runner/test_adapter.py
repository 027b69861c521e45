"""A kernel repository that does not ship ``kernels.swa``, tracked through an adapter file kept
outside it: its own function names, argument order and scale layout mapped onto the contract."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from tests.runner.tracked_repo import CASE, perfci

pytestmark = pytest.mark.slow

#: the third-party library: other names, the block table first, windows and scales as pairs
THIRD_PARTY_OPS = """
from kernels.swa import reference  # stands in for the library's own kernels (perfci's float64 reference)


def attention_decode(block_table, lengths, query, key_pages, value_pages, *, window, scales):
    return reference.paged_decode(
        query, key_pages, value_pages, lengths, block_table,
        local_window=window[0], global_window=window[1], k_scale=scales[0], v_scale=scales[1],
    )


def attention_prefill(block_table, q_offsets, kv_lengths, query, key_pages, value_pages, *, window, scales, causal):
    return reference.paged_prefill(
        query, key_pages, value_pages, q_offsets, kv_lengths, block_table, causal=causal,
        local_window=window[0], global_window=window[1], k_scale=scales[0], v_scale=scales[1],
    )
"""

ADAPTER = """
from swalib.ops import attention_decode, attention_prefill


def _into(result, out):
    if out is None:
        return result
    out.copy_(result)
    return out


def paged_decode(q, k_cache, v_cache, seqlens, block_tables, *, local_window, global_window,
                 k_scale=None, v_scale=None, out=None):
    result = attention_decode(block_tables, seqlens, q, k_cache, v_cache,
                              window=(local_window, global_window), scales=(k_scale, v_scale))
    return _into(result, out)


def paged_prefill(q, k_cache, v_cache, cu_seqlens_q, seqlens_kv, block_tables, *, local_window, global_window,
                  causal=True, k_scale=None, v_scale=None, out=None):
    result = attention_prefill(block_tables, cu_seqlens_q, seqlens_kv, q, k_cache, v_cache,
                               window=(local_window, global_window), scales=(k_scale, v_scale), causal=causal)
    return _into(result, out)
"""


@pytest.fixture
def third_party(tmp_path) -> Path:
    work = tmp_path / "swalib-repo"
    (work / "swalib").mkdir(parents=True)
    repo = git.Repo.init(work)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Ada").set_value("user", "email", "ada@example.com")
    (work / "swalib" / "__init__.py").write_text("")
    (work / "swalib" / "ops.py").write_text(THIRD_PARTY_OPS)
    repo.index.add(["swalib/__init__.py", "swalib/ops.py"])
    repo.index.commit("swalib: paged attention with a local window and sinks")
    return work


def _run(work: Path, tmp_path: Path, *extra: str):
    db = f"sqlite:///{tmp_path / 'perfci.db'}"
    common = ["--suite", "tiny", "--cases", CASE, "--device", "interpreter", "--budget", "0.3", "--db", db]
    return perfci("run", *common, *extra, cwd=work)


def test_a_repo_without_kernels_swa_is_tracked_through_an_adapter(third_party, tmp_path):
    adapter = tmp_path / "adapter.py"
    adapter.write_text(ADAPTER)
    without = _run(third_party, tmp_path)
    assert without.returncode == 2 and "kernels do not import" in without.stderr
    result = _run(third_party, tmp_path, "--adapter", str(adapter), "-o", str(tmp_path / "doc.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = json.loads((tmp_path / "doc.json").read_text())["results"]
    assert row["status"] == "ok" and row["correctness"]["passed"] and len(row["samples"]) >= 3


def test_the_adapter_comes_from_the_config_and_must_define_the_contract(third_party, tmp_path):
    adapters = tmp_path / "adapters"
    adapters.mkdir()
    (adapters / "swalib.py").write_text(ADAPTER)
    config = tmp_path / "perfci.toml"
    config.write_text('[kernels]\nadapter = "adapters/swalib.py"\n')  # relative to the config file
    result = _run(third_party, tmp_path, "--config", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    (adapters / "half.py").write_text(ADAPTER.split("def paged_decode")[0])
    half = _run(third_party, tmp_path, "--adapter", str(adapters / "half.py"))
    assert half.returncode == 2 and "lacks paged_prefill and paged_decode" in half.stderr
    config.write_text('[kernels]\nadapter = "adapters/none.py"\n')
    missing = _run(third_party, tmp_path, "--config", str(config))
    assert missing.returncode == 2 and "kernels.adapter" in missing.stderr and "none.py" in missing.stderr
