"""RED39 E2: a worktree inside another watched worktree (a linked worktree under .worktrees/,
a submodule with our hooks): the folders both hold had one inotify watch (the kernel gives
one per inode), whose events went to the outer worktree only. The inner one's hooks trusted a
dirty set that never got its marks: "unchanged since snapshot 2" while the edit sat on disk,
and a checkout -f there destroyed it unreported.

An event in a folder that several watched worktrees hold is marked in each of them now.
A real daemon, real inotify, hooks installed as a user installs them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _held(repo: Path, rel: str) -> str:
    return gs(repo, "cat", "latest", rel, rc=None).out


@pytest.mark.slow
def test_a_linked_worktree_inside_the_main_one_gets_its_own_marks(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path, "proj")
    with (repo / ".gitignore").open("a") as f:
        f.write(".worktrees/\n")
    git(repo, "commit", "-q", "-am", "ignore .worktrees")
    git(repo, "worktree", "add", "-q", ".worktrees/f1", "-b", "f1")
    inner = repo / ".worktrees" / "f1"
    add(store_dir, repo)
    add(store_dir, inner)
    watcher.start()
    watcher.watching(repo)
    watcher.watching(inner)
    gs(repo, "install")  # the hooks, shared by both worktrees (the watcher runs already)
    (inner / "notes.txt").write_text("before\n")
    settled(watcher, inner)
    (inner / "src" / "main.py").write_text("precious edit in f1\n")
    git(inner, "checkout", "-q", "-b", "f1-two")  # a hook's snapshot of f1
    assert _held(inner, "src/main.py") == "precious edit in f1\n"
    # and the watcher's own snapshots of f1 see its edits
    (inner / "src" / "later.py").write_text("seen in f1\n")
    wait_for(
        lambda: _held(inner, "src/later.py") == "seen in f1\n",
        timeout=30,
        what="a watch snapshot of f1 holding its edit",
    )
    # the outer worktree still gets the events of the folders it holds
    (inner / "src" / "main.py").write_text("edit two in f1\n")
    wait_for(
        lambda: _held(repo, ".worktrees/f1/src/main.py") == "edit two in f1\n",
        timeout=30,
        what="a watch snapshot of proj holding f1's edit",
    )
    git(inner, "checkout", "-q", "-b", "f1-three")
    assert _held(inner, "src/main.py") == "edit two in f1\n"


@pytest.mark.slow
def test_the_inner_worktree_dropped_leaves_the_outer_ones_watches(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """The inner worktree no longer watched (watch remove) takes none of the outer one's
    watches of the folders both held with it."""
    repo = make_repo(tmp_path, "proj")
    inner = make_repo(repo, "inner")  # a repository inside (a submodule's layout)
    add(store_dir, repo)
    add(store_dir, inner)
    watcher.start()
    watcher.watching(repo)
    watcher.watching(inner)
    gs(repo, "watch", "remove", str(inner))
    wait_for(lambda: not watcher.tree(inner), what="the inner worktree dropped")
    (inner / "src" / "main.py").write_text("seen by proj\n")
    wait_for(
        lambda: _held(repo, "inner/src/main.py") == "seen by proj\n",
        timeout=30,
        what="a watch snapshot of proj holding the edit",
    )
