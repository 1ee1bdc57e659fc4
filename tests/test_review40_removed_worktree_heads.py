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


def test_another_worktree_at_a_non_utf8_path_does_not_stop_the_check(repo: Path) -> None:
    """Every admin dir's ``gitdir`` is read while none names the removed worktree: another
    worktree's, at a path that is no UTF-8 (git-snapshot does not snapshot it; git works
    there), raised UnicodeDecodeError, and the recorder failed."""
    other = os.fsdecode(os.path.realpath(bytes(repo.parent)) + b"/odd\xe9")
    git(repo, "worktree", "add", "-q", "--detach", other)
    linked = Path(os.path.realpath(repo.parent)) / "wt2"
    git(repo, "worktree", "add", "-q", "-b", "side", str(linked))
    (linked / "new1.txt").write_text("committed work\n")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    gs(linked, "create")
    git(repo, "worktree", "remove", str(linked))  # (its admin dir goes: every one is read)
    assert _record(linked) is None


def test_a_relative_gitdir_names_the_admin_dir(tmp_path: Path) -> None:
    """git 2.48's worktree.useRelativePaths writes ``gitdir`` relative to the admin dir."""
    from types import SimpleNamespace

    from git_snapshot.watch import bursts

    admin = tmp_path / "main" / ".git" / "worktrees" / "wt2"
    admin.mkdir(parents=True)
    (admin / "gitdir").write_text("../../../../wt2/.git\n")
    repo = SimpleNamespace(common_dir=str(tmp_path / "main" / ".git"))
    assert bursts._admin_dir(repo, str(tmp_path / "wt2")) == str(admin)


def test_an_rm_rf_worktree_on_a_non_utf8_branch_is_checked_against_it(repo: Path) -> None:
    """Its admin dir's HEAD names a branch that is no UTF-8 (git allows it): read as bytes
    (it raised UnicodeDecodeError, and the recorder failed)."""
    branch = os.fsdecode(b"side\xe9")
    linked = Path(os.path.realpath(repo.parent)) / "wt2"
    git(repo, "worktree", "add", "-q", "-b", branch, str(linked))
    (linked / "new1.txt").write_text("committed work\n")
    (linked / "wip.txt").write_text("untracked, only here\n")
    gs(linked, "create")
    git(linked, "add", "new1.txt")
    git(linked, "commit", "-q", "-m", "add new1")
    shutil.rmtree(linked)
    assert _lost(_record(linked)) == ["wip.txt"]
