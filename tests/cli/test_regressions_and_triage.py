"""`perfci regressions` in a CI log (not a terminal, 80 columns) and bulk triage, on SQLite and
PostgreSQL: ids first and case ids whole, one line a finding; several ids triaged at once, all or
none."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.dashboard.conftest import populate

PIPED = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}


def _perfci(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfci", *args], capture_output=True, text=True, timeout=120, env=PIPED
    )


def test_regressions_read_in_a_ci_log(db_url):
    populate(db_url)
    listed = _perfci("regressions", "--status", "all", "--db", db_url)
    assert listed.returncode == 1  # open gating findings
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "CHANGE", "STATUS", "COMMIT", "BASELINE", "DEVICE", "CASE"]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert set(rows) == {"latency", "improvement", "correctness", "missing"}
    assert len(lines) == 5  # one line a finding: nothing wrapped
    assert rows["latency"].split()[0].isdigit() and rows["latency"].endswith("decode/bf16/case0")
    assert "+8." in rows["latency"] and "…" not in listed.stdout


def test_several_regressions_are_triaged_at_once_or_not_at_all(db_url):
    populate(db_url)
    rows = json.loads(_perfci("regressions", "--json", "--status", "all", "--db", db_url).stdout)
    ids = [str(row["id"]) for row in rows if row["kind"] in ("latency", "improvement")]
    done = _perfci("triage", *ids, "expected", "--note", "new tiling", "--author", "ada", "--db", db_url)
    assert done.returncode == 0, done.stderr
    assert {row["status"] for row in json.loads(done.stdout)} == {"expected"}
    missing = _perfci("triage", ids[0], "99999", "fixed", "--db", db_url)
    assert missing.returncode == 2 and "99999" in missing.stderr and "nothing was changed" in missing.stderr
    after = json.loads(_perfci("regressions", "--json", "--status", "all", "--db", db_url).stdout)
    assert {row["status"] for row in after if str(row["id"]) in ids} == {"expected"}  # not "fixed"
    unclear = _perfci("triage", *ids, "--db", db_url)
    assert unclear.returncode == 2 and "STATUS" in unclear.stderr
    wrong = _perfci("triage", "twelve", "fixed", "--db", db_url)
    assert wrong.returncode == 2 and "REGRESSION_ID" in wrong.stderr and "Traceback" not in wrong.stderr


def test_runs_and_show_say_what_is_stored(db_url):
    populate(db_url)
    listed = _perfci("runs", "--db", db_url)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["RUN", "COMMIT", "BRANCH"] and len(lines) == 13
    runs = json.loads(_perfci("runs", "--json", "--limit", "50", "--db", db_url).stdout)
    assert len(runs) == 12 and {"id", "commit", "suite", "status", "findings", "environment"} <= set(runs[0])
    stepped = next(run for run in runs if run["findings"] == 2)  # the +8% / -10% commit
    shown = _perfci("show", stepped["id"], "--db", db_url)
    assert shown.returncode == 0, shown.stderr
    assert f"run {stepped['id']}" in shown.stdout and "latency (open)" in shown.stdout
    assert "improvement (open)" in shown.stdout and "decode/bf16/case0" in shown.stdout
    by_commit = json.loads(_perfci("show", stepped["commit"][:9], "--json", "--db", db_url).stdout)
    assert {row["case"] for row in by_commit} == {f"decode/bf16/case{i}" for i in range(4)}
    unknown = _perfci("show", "nothing-like-this", "--db", db_url)
    assert unknown.returncode == 2 and "REF" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_static_html_report_of_a_run_or_commit(db_url, tmp_path):
    from perfci.testing import sha_for
    from tests.dashboard.conftest import HOSTILE

    populate(db_url)
    runs = json.loads(_perfci("runs", "--json", "--limit", "50", "--db", db_url).stdout)
    stepped = next(run for run in runs if run["findings"] == 2)
    written = _perfci("report", stepped["id"], "--html", str(tmp_path / "out"), "--db", db_url)
    assert written.returncode == 0, written.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert "<script" not in html and "<svg" in html  # self-contained: no script, inline trend lines
    assert "1 latency, 1 improvement" in html and "decode/bf16/case0" in html and 'class="worse"' in html
    hostile = _perfci("report", sha_for("commit-9")[:10], "--html", str(tmp_path / "nine"), "--db", db_url)
    assert hostile.returncode == 0, hostile.stderr
    page = (tmp_path / "nine" / "index.html").read_text()
    assert HOSTILE not in page and "&lt;script&gt;" in page  # the commit message is text, never markup
    unknown = _perfci("report", "nope", "--html", str(tmp_path / "x"), "--db", db_url)
    assert unknown.returncode == 2 and "REF" in unknown.stderr


def test_every_open_finding_of_a_commit_or_a_range_is_triaged_at_once(db_url, tmp_path):
    from perfci.testing import sha_for

    populate(db_url)
    eight = sha_for("commit-8")  # a latency regression and an improvement, both open
    done = _perfci("triage", "--commit", eight[:9], "acknowledged", "--note", "one tiling change", "--db", db_url)
    assert done.returncode == 0, done.stderr
    assert sorted(row["kind"] for row in json.loads(done.stdout)) == ["improvement", "latency"]
    again = _perfci("triage", "--commit", eight, "fixed", "--db", db_url)
    assert again.returncode == 2 and "no open finding" in again.stderr  # nothing open there any more
    unknown = _perfci("triage", "--commit", "abcdef0123", "fixed", "--db", db_url)
    assert unknown.returncode == 2 and "abcdef0123" in unknown.stderr and "not a stored commit" in unknown.stderr
    no_status = _perfci("triage", "--commit", eight, "--db", db_url)
    assert no_status.returncode == 2 and "STATUS" in no_status.stderr

    # a range read in a git checkout: the findings stored at its commits
    import git

    from perfci.config import PerfciConfig
    from perfci.document import parse_document
    from perfci.pipeline import process_document
    from perfci.store.migrate import open_store
    from tests.store.test_judge import _doc

    repo = git.Repo.init(tmp_path / "repo")
    shas = []
    for index in range(3):
        (tmp_path / "repo" / "f").write_text(str(index))
        repo.index.add(["f"])
        shas.append(repo.index.commit(f"commit {index}").hexsha)
    store = open_store(db_url)
    for commit in range(7):
        process_document(store, PerfciConfig(), parse_document(_doc(200 + commit, [1.0], seed=commit)))
    slower = _doc(207, [1.2], seed=7)
    slower["run"]["commit"]["sha"] = shas[1]
    assert process_document(store, PerfciConfig(), parse_document(slower)).findings
    store.dispose()
    ranged = _perfci(
        "triage", "--range", f"{shas[0]}..{shas[2]}", "invalid", "--repo", str(tmp_path / "repo"), "--db", db_url
    )
    assert ranged.returncode == 0, ranged.stderr
    assert {
        row["status"] for row in json.loads(ranged.stdout if ranged.stdout.startswith("[") else f"[{ranged.stdout}]")
    } == {"invalid"}
    bad = _perfci("triage", "--range", "nope", "invalid", "--repo", str(tmp_path / "repo"), "--db", db_url)
    assert bad.returncode == 2 and "--range" in bad.stderr
