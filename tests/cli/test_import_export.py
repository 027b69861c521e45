"""The CLI contract of import/export/db/regressions: exit codes, messages, nothing half-stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from perfci.cli import main
from perfci.store import models
from perfci.store.migrate import open_store
from perfci.testing import make_document

ROOT = Path(__file__).resolve().parents[2]


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _runs(db_url: str) -> int:
    store = open_store(db_url)
    with store.read() as session:
        count = session.scalar(select(func.count()).select_from(models.Run))
    store.dispose()
    return count


@pytest.mark.parametrize(
    "name", ["run", "compare", "import", "export", "regressions", "runs", "show", "report", "serve", "db"]
)
def test_every_contract_command_has_help(name):
    result = _invoke(name, "--help")
    assert result.exit_code == 0 and "Usage:" in result.output


def test_import_twice_then_export_round_trips(db_url, tmp_path):
    documents = [make_document(commit_index=i) for i in range(3)]
    path = tmp_path / "runs.json"
    path.write_text(json.dumps(documents))
    first = _invoke("import", str(path), "--db", db_url)
    assert first.exit_code == 0, first.output
    assert "imported 3 run(s) with 9 result(s); 0 already stored" in first.output
    again = _invoke("import", str(path), "--db", db_url)
    assert "imported 0 run(s) with 0 result(s); 3 already stored" in again.output
    exported = tmp_path / "export.jsonl"
    assert _invoke("export", "--db", db_url, "-o", str(exported)).exit_code == 0
    lines = exported.read_text().splitlines()
    assert len(lines) == 3
    assert [json.loads(line)["run"]["id"] for line in lines] == [d["run"]["id"] for d in documents]
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert _invoke("import", str(exported), "--db", fresh).exit_code == 0
    assert _invoke("export", "--db", fresh).output.splitlines() == lines


def test_one_bad_document_stores_nothing(db_url, tmp_path):
    good = make_document(commit_index=0)
    bad = make_document(commit_index=1)
    bad["results"][2]["samples"][3] = -1.0
    path = tmp_path / "mixed.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    result = _invoke("import", str(path), "--db", db_url)
    assert result.exit_code == 2
    assert "mixed.jsonl:2" in result.output and "results[2].samples" in result.output
    assert _runs(db_url) == 0


def test_bad_input_exit_codes(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'p.db'}"
    (tmp_path / "broken.json").write_text("{not json")
    result = _invoke("import", str(tmp_path / "broken.json"), "--db", db_url)
    assert result.exit_code == 2 and "malformed JSON" in result.output
    assert _invoke("import", str(tmp_path / "missing.json"), "--db", db_url).exit_code == 2
    result = _invoke("export", "--db", "mysql://nobody@host/db")
    assert result.exit_code == 2 and "--db" in result.output
    result = _invoke("export", "--db", f"sqlite:///{tmp_path / 'no' / 'dir' / 'p.db'}")
    assert result.exit_code == 2 and "does not exist" in result.output
    result = _invoke("export", "--commit", "abc123", "--db", db_url)
    assert result.exit_code == 2 and "--commit" in result.output


def test_db_env_var_is_the_default(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("PERFCI_DB", db_url)
    path = tmp_path / "one.json"
    path.write_text(json.dumps(make_document()))
    assert _invoke("import", str(path)).exit_code == 0
    assert _runs(db_url) == 1


def test_db_commands(db_url):
    assert _invoke("db", "upgrade", "--db", db_url).exit_code == 0
    newest = sorted(path.name[:4] for path in (ROOT / "migrations" / "versions").glob("0*.py"))[-1]
    assert f"current: {newest}; head: {newest}" in _invoke("db", "current", "--db", db_url).output
    assert _invoke("db", "downgrade", "base", "--db", db_url).exit_code == 0
    assert "current: empty" in _invoke("db", "current", "--db", db_url).output
    result = _invoke("db", "upgrade", "9999", "--db", db_url)
    assert result.exit_code == 2 and "9999" in result.output


def test_regressions_json_empty_store_is_clean(tmp_path):
    result = _invoke("regressions", "--json", "--db", f"sqlite:///{tmp_path / 'r.db'}")
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_regressions_json_lists_open_ones_and_exits_1(db_url, tmp_path):
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([make_document(commit_index=i, cases=1) for i in range(2)]))
    _invoke("import", str(path), "--db", db_url)
    store = open_store(db_url)
    with store.write() as session:
        series = session.scalars(select(models.Series)).one()
        commits = session.scalars(select(models.Commit).order_by(models.Commit.authored_at)).all()
        session.add(
            models.Regression(
                series_id=series.id,
                commit_id=commits[1].id,
                baseline_commit_id=commits[0].id,
                kind="latency",
                change=0.052,
                verdict={"p_value": 1e-4},
                status="open",
            )
        )
    store.dispose()
    result = _invoke("regressions", "--json", "--db", db_url)
    assert result.exit_code == 1
    (row,) = json.loads(result.output)
    assert row["case"] == "decode/bf16/case0" and row["kind"] == "latency" and row["status"] == "open"
    assert row["commit"] == commits[1].sha and row["baseline_commit"] == commits[0].sha
    assert row["change"] == pytest.approx(0.052)
    assert row["environment"]["device_name"] == "NVIDIA H100 80GB HBM3"
    assert _invoke("regressions", "--status", "fixed", "--db", db_url).exit_code == 0


def _findings(db_url: str) -> list[tuple]:
    listed = _invoke("regressions", "--json", "--status", "all", "--db", db_url)
    return sorted(
        (r["case"], r["kind"], r["commit"], r["baseline_commit"], r["status"], r["note"], r["author"])
        for r in json.loads(listed.output)
    )


def test_export_then_import_into_a_fresh_store_keeps_findings_and_triage(db_url, tmp_path, postgres_problem):
    from tests.conftest import fresh_database
    from tests.dashboard.conftest import populate

    populate(db_url)
    latency = next(
        r for r in json.loads(_invoke("regressions", "--json", "--db", db_url).output) if r["kind"] == "latency"
    )
    assert (
        _invoke(
            "triage", str(latency["id"]), "acknowledged", "--note", "tiling change", "--author", "ada", "--db", db_url
        ).exit_code
        == 0
    )
    assert (
        _invoke(
            "triage", str(latency["id"]), "expected", "--note", "accepted: new tiling", "--author", "bo", "--db", db_url
        ).exit_code
        == 0
    )
    before = _findings(db_url)
    history_before = json.loads(_invoke("triage", str(latency["id"]), "--db", db_url).output)
    exported = tmp_path / "export.jsonl"
    assert _invoke("export", "-o", str(exported), "--db", db_url).exit_code == 0

    kind = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    (tmp_path / "fresh").mkdir()
    with fresh_database(kind, tmp_path / "fresh", postgres_problem) as fresh:
        imported = CliRunner().invoke(main, ["import", str(exported), "--db", fresh])
        assert imported.exit_code in (0, 1) and "restored" in imported.output, imported.output
        assert _findings(fresh) == before
        moved = next(
            r
            for r in json.loads(_invoke("regressions", "--json", "--status", "all", "--db", fresh).output)
            if r["kind"] == "latency"
        )
        assert moved["status"] == "expected" and moved["note"] == "accepted: new tiling"
        history = json.loads(_invoke("triage", str(moved["id"]), "--db", fresh).output)
        assert [(h["status"], h["note"], h["author"]) for h in history] == [
            (h["status"], h["note"], h["author"]) for h in history_before
        ]
        again = CliRunner().invoke(main, ["import", str(exported), "--db", fresh])  # idempotent
        assert again.exit_code in (0, 1) and _findings(fresh) == before
