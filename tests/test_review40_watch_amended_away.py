"""review40 RF1: the watcher's burst check counted every commit HEAD was at since the
snapshot as giving its files back, an amended-away one too, which only the reflog holds: a
file `git rm --cached` + `commit --amend` dropped from its commit, then deleted (an `rm`, a
tool's clean), was no loss to the watcher, though nothing but that snapshot held it. It now
asks as the hooks' check does (losses.given_heads: a ref reaches it, or HEAD reached it after
the snapshot's HEAD)."""

from __future__ import annotations

import os
from pathlib import Path

from clihelpers import git

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.watch import bursts
from git_snapshot.watch.bursts import BurstDetector


def _burst_of_rm(repo: Path, name: str) -> bursts.Burst:
    d = BurstDetector(threshold_files=1)
    os.unlink(repo / name)
    d.feed(100.0, str(repo / name), "delete")
    (burst,) = d.take(200.0)
    return burst


def test_a_file_an_amend_dropped_then_deleted_is_a_loss(repo: Path) -> None:
    (repo / "cfg.txt").write_text("only here\n")
    (repo / "app.txt").write_text("app\n")  # (the amend keeps a change: not empty)
    git(repo, "add", "cfg.txt", "app.txt")
    git(repo, "commit", "-q", "-m", "cfg")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(repo)), trigger="watch").snapshot
        git(repo, "rm", "-q", "--cached", "cfg.txt")
        git(repo, "commit", "-q", "--amend", "-m", "cfg dropped")
        entry = bursts.record(store, str(repo), _burst_of_rm(repo, "cfg.txt"), snap)
    assert entry is not None and "cfg.txt" in str(entry), entry


def test_a_file_a_branch_still_holds_is_no_loss(repo: Path) -> None:
    (repo / "cfg.txt").write_text("kept on a branch\n")
    (repo / "app.txt").write_text("app\n")  # (the amend keeps a change: not empty)
    git(repo, "add", "cfg.txt", "app.txt")
    git(repo, "commit", "-q", "-m", "cfg")
    git(repo, "branch", "keep")
    with Store() as store:
        snap = worktree.take(store, gitrepo.find_repo(str(repo)), trigger="watch").snapshot
        git(repo, "rm", "-q", "--cached", "cfg.txt")
        git(repo, "commit", "-q", "--amend", "-m", "cfg dropped")
        entry = bursts.record(store, str(repo), _burst_of_rm(repo, "cfg.txt"), snap)
    assert entry is None, entry
