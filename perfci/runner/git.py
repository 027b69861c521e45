"""Git access through GitPython: resolve revisions, walk ranges, materialise a commit in a worktree."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import git


class GitInputError(ValueError):
    """A revision, range or repository that cannot be used; the message says what to do."""


def open_repo(path: str | Path = ".") -> git.Repo:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitInputError(f"--repo: {path} is not inside a git repository; run perfci from your checkout") from None


def resolve(repo: git.Repo, rev: str) -> git.Commit:
    try:
        return repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError):
        raise GitInputError(
            f"--commit: unknown revision {rev!r}; give a sha, branch or tag that `git log` shows"
        ) from None


def commits_in_range(repo: git.Repo, spec: str) -> list[git.Commit]:
    """Commits of ``A..B`` oldest first (as ``git rev-list --reverse A..B``)."""
    if ".." not in spec:
        raise GitInputError(f"--range: {spec!r} is not of the form A..B")
    base, head = spec.split("..", 1)
    resolve(repo, base or "HEAD")
    resolve(repo, head or "HEAD")
    return list(repo.iter_commits(spec, reverse=True))


def merge_base(repo: git.Repo, commit: git.Commit, target: str) -> str:
    """The merge-base of ``commit`` with the target branch ``target`` (a PR's baseline)."""
    target_commit = resolve(repo, target)
    bases = repo.merge_base(commit, target_commit)
    if not bases:
        raise GitInputError(f"--pr-base: {commit.hexsha[:12]} and {target!r} share no history; check the branch name")
    return bases[0].hexsha


def require_clean(repo: git.Repo) -> None:
    if repo.is_dirty(untracked_files=False):
        raise GitInputError(
            "the working tree has uncommitted changes to tracked files, which `perfci run` would not measure: "
            "commit or stash them, or pass --allow-dirty to measure the committed revision"
        )


def repo_name(repo: git.Repo) -> str:
    """The origin URL when there is one (stable across clones), else the checkout's folder name."""
    try:
        return next(iter(repo.remote("origin").urls))
    except (ValueError, StopIteration, git.GitCommandError):
        return Path(repo.working_tree_dir or ".").resolve().name


def commit_metadata(commit: git.Commit, branch: str | None) -> dict[str, Any]:
    return {
        "sha": commit.hexsha,
        "parents": [parent.hexsha for parent in commit.parents],
        "branch": branch,
        "authored_at": commit.authored_datetime.isoformat(),
        "author": f"{commit.author.name} <{commit.author.email}>",
        "message": commit.message.strip()[:65_536],
    }


def current_branch(repo: git.Repo) -> str | None:
    try:
        return repo.active_branch.name
    except TypeError:  # detached HEAD
        return None


@contextmanager
def worktree(repo: git.Repo, sha: str) -> Iterator[Path]:
    """A detached, temporary worktree of ``sha``; removed afterwards, also on errors."""
    parent = Path(tempfile.mkdtemp(prefix="perfci-worktree-"))
    path = parent / sha[:12]
    repo.git.worktree("add", "--detach", str(path), sha)
    try:
        yield path
    finally:
        try:
            repo.git.worktree("remove", "--force", str(path))
        except git.GitCommandError:
            shutil.rmtree(path, ignore_errors=True)
            repo.git.worktree("prune")
        shutil.rmtree(parent, ignore_errors=True)
