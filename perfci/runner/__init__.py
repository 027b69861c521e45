"""Per-commit execution: git worktrees, worker subprocesses, results documents."""
