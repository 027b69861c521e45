"""The CLI never prints a traceback: a database that cannot be used (unreachable or missing
PostgreSQL, a text file as SQLite), an id out of range, a full disk — one line naming the problem,
exit code 2 (exit 1 means "regression found" and only that)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perfci.testing import make_document
from tests.store.test_judge import _doc


def _perfci(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfci", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def _bad_databases(tmp_path) -> dict[str, str]:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    return {
        "unreachable postgresql": "postgresql://postgres@127.0.0.1:1/test",
        "missing postgresql database": "postgresql://postgres@127.0.0.1:5432/perfci_no_such_database",
        "text file as sqlite": f"sqlite:///{text}",
    }


@pytest.mark.parametrize("which", ["unreachable postgresql", "missing postgresql database", "text file as sqlite"])
@pytest.mark.parametrize(
    "command", [["regressions"], ["export"], ["alerts"], ["triage", "1"], ["db", "current"], ["import", "DOC"]]
)
def test_an_unusable_database_is_one_line_and_exit_2(tmp_path, which, command, postgres_problem):
    if "postgresql" in which and postgres_problem and which != "unreachable postgresql":
        pytest.skip(f"PostgreSQL unreachable: {postgres_problem}")
    document = tmp_path / "doc.json"
    document.write_text(json.dumps(make_document()))
    args = [str(document) if arg == "DOC" else arg for arg in command]
    result = _perfci(*args, "--db", _bad_databases(tmp_path)[which])
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "--db" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_id_beyond_any_database_integer_is_exit_2(tmp_path):
    result = _perfci("triage", str(2**63 + 5), "open", "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode == 2 and "REGRESSION_ID" in result.stderr and "Traceback" not in result.stderr


def test_a_full_disk_is_exit_2(tmp_path):
    db = f"sqlite:///{tmp_path / 'x.db'}"
    document = tmp_path / "doc.json"
    document.write_text(json.dumps(_doc(0, [1.0], seed=0)))
    assert _perfci("import", str(document), "--db", db).returncode == 0
    result = _perfci("export", "-o", "/dev/full", "--db", db)  # every write: ENOSPC
    assert result.returncode == 2 and "No space left on device" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["token"]])
def test_help_and_token_import_no_heavy_library(args):
    """Subcommands are imported when run: the listing and `perfci token` load neither scipy,
    SQLAlchemy, Flask nor torch (they took about 2 s when every subcommand was imported)."""
    code = (
        "import sys; from perfci.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('scipy', 'sqlalchemy', 'flask', 'torch') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_every_listed_command_loads_under_its_name():
    import click

    from perfci.cli import COMMANDS, main

    context = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("run", "--timeout", "0"),
        ("run", "--budget", "-1"),
        ("run", "--precision", "-0.1"),
        ("run", "--precision", "5"),
        ("run", "--post-attempts", "0"),
        ("compare", "--timeout", "-5"),
        ("bisect", "--timeout", "0"),
    ],
)
def test_a_measuring_option_out_of_range_is_exit_2_naming_it(tmp_path, command, option, value):
    """Nonsense limits (a case killed at once, no sampling, a negative precision) are refused before
    anything is measured, not run into a result that means nothing."""
    positional = {"run": [], "compare": ["HEAD~1", "HEAD"], "bisect": ["HEAD~1", "HEAD"]}[command]
    result = _perfci(command, *positional, option, value, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert option in result.stderr and "Traceback" not in result.stderr
