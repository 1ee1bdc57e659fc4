"""review40 RF2: after an ``rm -rf`` of a linked worktree, git keeps its admin dir (its HEAD
and reflog) only until ``git worktree prune``; the watcher counted what that HEAD and
reflog held as given back, though the snapshot's own HEAD counts only while a ref reaches
it (RED40 F2). A commit only a detached HEAD held, or one a ``reset`` left behind, hid
files no branch, tag or stash holds: the same files a plain ``git worktree remove`` of the
same worktree has named. Each of those commits counts while a ref reaches it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from clihelpers import git
from clihelpers import gs
from test_red40_watch_worktree_removed import _lost
from test_red40_watch_worktree_removed import _record


def test_an_rm_rf_detached_worktree_names_what_only_its_head_held(repo: Path) -> None:
    linked = Path(os.path.realpath(repo.parent)) / "wt3"
    git(repo, "worktree", "add", "-q", "--detach", str(linked))
    (linked / "new1.txt").write_text("committed on a detached HEAD\n")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    gs(linked, "create")
    shutil.rmtree(linked)  # git keeps worktrees/wt3 (its HEAD) until `git worktree prune`
    assert _lost(_record(linked)) == ["new1.txt"]


def test_an_rm_rf_worktree_names_what_only_its_reflog_held(repo: Path) -> None:
    """A commit HEAD left after the snapshot (a reset), which no branch reaches: only the
    admin dir's reflog (and the branch's) names it."""
    linked = Path(os.path.realpath(repo.parent)) / "wt2"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    (linked / "new1.txt").write_text("committed, then reset away\n")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    gs(linked, "create")
    git(linked, "reset", "-q", "--soft", "HEAD~1")  # side no longer holds new1.txt
    shutil.rmtree(linked)
    assert _lost(_record(linked)) == ["new1.txt"]


def test_what_a_branch_holds_is_still_given_back_after_an_rm_rf(repo: Path) -> None:
    """The same detached commit, reachable from a branch made there: no loss."""
    linked = Path(os.path.realpath(repo.parent)) / "wt3"
    git(repo, "worktree", "add", "-q", "--detach", str(linked))
    (linked / "new1.txt").write_text("committed on a detached HEAD\n")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    gs(linked, "create")
    git(linked, "branch", "-q", "kept")
    shutil.rmtree(linked)
    assert _record(linked) is None
