"""results/ holds every measurement the docs cite, and results/manifest.toml says for each file which
card, commit, command and day produced it: a number in the docs can always be traced to its file and
its file to how it was made."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
MANIFEST = RESULTS / "manifest.toml"
FIELDS = ("measured", "card", "commit", "command", "date")
# a file or folder in results/ as the docs and benchmarks cite it: a name with an extension or a folder
# ending in "/" (not the perfci.results/1 schema name, nor "results/s" as a rate)
CITATION = re.compile(r"(?<![\w.])(?:\.\./)*(results/(?:[\w*-]+/)*(?:[\w*-]+\.[\w*]+)?)(?![\w/])")

# a markdown link to a file of this repository (not a web address, not an anchor on the same page)
MARKDOWN_LINK = re.compile(r"\]\((?!https?:|mailto:|#)([^)\s]+)\)")


def _entries() -> list[dict]:
    return tomllib.loads(MANIFEST.read_text())["entry"]


def test_every_results_file_has_exactly_one_manifest_entry() -> None:
    listed = [name for entry in _entries() for name in entry["files"]]
    on_disk = sorted(str(p.relative_to(RESULTS)) for p in RESULTS.rglob("*") if p.is_file() and p != MANIFEST)
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry["files"][0])
def test_manifest_entries_say_what_how_where_and_when(entry: dict) -> None:
    assert all(isinstance(entry.get(field), str) and entry[field].strip() for field in FIELDS), entry
    assert re.fullmatch(r"[0-9a-f]{7,40}", entry["commit"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry["date"])


def _citing_files() -> list[Path]:
    return [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "benchmarks").rglob("*.py")]


def test_every_cited_results_path_exists() -> None:
    missing = []
    for path in _citing_files():
        for cited in CITATION.findall(path.read_text()):
            if not (list(ROOT.glob(cited)) if "*" in cited else (ROOT / cited).exists()):
                missing.append(f"{path.relative_to(ROOT)}: {cited}")
    assert not missing


def test_relative_links_in_the_docs_resolve() -> None:
    broken = []
    for path in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        for target in MARKDOWN_LINK.findall(path.read_text()):
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken
