"""The tracked-repository fixture shared by the `perfci run` and `perfci compare` tests."""

from __future__ import annotations

import shutil

import git
import pytest

from tests.runner.tracked_repo import ROOT


@pytest.fixture
def tiny_repo(tmp_path) -> git.Repo:
    """A repository whose kernels are the float64 reference (copied from this checkout), then variants."""
    work = tmp_path / "tracked"
    (work / "kernels" / "swa").mkdir(parents=True)
    repo = git.Repo.init(work)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Ada").set_value("user", "email", "ada@example.com")
    (work / "README").write_text("tiny kernels\n")
    repo.index.add(["README"])
    repo.index.commit("root")
    (work / "kernels" / "__init__.py").write_text("")
    # an old perfci inside the measured commit must never shadow the installed one
    (work / "perfci").mkdir()
    (work / "perfci" / "__init__.py").write_text("raise ImportError('the commit shadowed the installed perfci')\n")
    for name in ("reference.py", "checks.py"):
        shutil.copy(ROOT / "kernels" / "swa" / name, work / "kernels" / "swa" / name)
    repo.index.add(["kernels/__init__.py", "kernels/swa/reference.py", "kernels/swa/checks.py", "perfci/__init__.py"])
    return repo
