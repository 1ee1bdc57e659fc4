"""A manual ``prune`` keeps what a loss report of the retention window names, so that its
restore command and ``undo`` still work. The snapshot ``run -- git worktree remove`` takes of
the worktree it removes belongs to that worktree, not to the one the report is logged in:
``prune --keep-last 1`` forgot it, and the report's restore command then failed."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from clihelpers import run
from hookhelpers import put_venv_on_path


def test_prune_keeps_the_snapshot_of_a_removed_worktree_a_report_names(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_venv_on_path(monkeypatch)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(wt), "-b", "wt")
    (wt / "notes.txt").write_bytes(b"only here\n")
    gs(wt, "-m", "older one of wt")
    ran = gs(repo, "run", "--", "git", "worktree", "remove", "--force", "../wt")
    (line,) = [ln for ln in ran.err.splitlines() if "removed the worktree" in ln]
    snap = int(line.split("saved in snapshot ")[1].split(";")[0])
    for i in range(3):
        (repo / f"f{i}").write_bytes(b"x")
        gs(repo)
    forget = gs(repo, "forget", "--dry-run", str(snap))
    assert "a loss report names" in forget.err or "loss report" in forget.err, forget.err
    pruned = gs(repo, "prune", "--keep-last", "1")
    # (the newest of the removed worktree's: kept as such since retention counts each
    # worktree's apart, RED36 B-prune; a report's keeps it too)
    assert f"{snap} (worktree" not in pruned.out.splitlines()[0], pruned.out
    run(repo, *shlex.split(line.split("restore with: ")[1]))
    assert (wt / "notes.txt").read_bytes() == b"only here\n"
