"""Review RB48 of bd48 (b970241): a worktree's git dir that another watched worktree holds.

The daemon watches each worktree's git dir for git's index.lock (Daemon.watch_git_dir). The
kernel gives one watch per folder: when that folder is also one another worktree watches (a
git dir made with `git init --separate-git-dir` inside that worktree, a bare repository's
worktrees/X inside one), both get the same watch id. The daemon sent every event of a
lock-watched id to the lock only, so the other worktree's files there changed with no mark
(its snapshots, which trust the dirty set, kept their old versions); and dropping the lock
watch removed the kernel's watch under the other worktree. Now each event goes to both, and
the watch stays while a worktree holds it.

A daemon in this process with real inotify (the test drives its steps)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from clihelpers import git
from test_watch_daemon import add
from test_watch_daemon import in_process
from test_watch_daemon import make_repo

from git_snapshot.watch import dirtyset

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _marked(store: Path, root: Path) -> set[tuple[bytes, bytes | None]]:
    con = sqlite3.connect(dirtyset.journal_path(str(store), str(root)))
    try:
        rows = con.execute("SELECT dir, name FROM marks").fetchall()
    finally:
        con.close()
    return {(bytes(d), None if n is None else bytes(n)) for d, n in rows}


def _two(tmp_path: Path, store_dir: Path) -> tuple[Path, Path]:
    outer = make_repo(tmp_path, "outer")
    inner = tmp_path / "inner"
    git(tmp_path, "init", "-q", f"--separate-git-dir={outer / 'gd'}", str(inner))
    (inner / "f.txt").write_text("x\n")
    git(inner, "add", "f.txt")
    git(inner, "commit", "-q", "-m", "i")
    inner = Path(os.path.realpath(inner))
    add(store_dir, inner)
    add(store_dir, outer)
    return outer, inner


def test_a_folder_both_lock_watched_and_watched_by_a_worktree_marks_its_changes(
    tmp_path: Path, store_dir: Path
) -> None:
    outer, inner = _two(tmp_path, store_dir)
    with in_process(store_dir, inner) as d:  # inner first: its git dir's watch first
        d.add(str(outer))
        ti, to = d.trees[str(inner)], d.trees[str(outer)]
        gd = str(outer / "gd")
        assert ti.lock_wd is not None and to.ws.watched.get(gd) == ti.lock_wd
        d.on_events(d.src.read())
        (outer / "gd" / "note.txt").write_text("mine\n")
        d.on_events(d.src.read())
        assert (b"gd", b"note.txt") in _marked(store_dir, outer) or (
            b"gd",
            None,
        ) in _marked(store_dir, outer)


def test_dropping_the_lock_watch_keeps_the_other_worktrees_watch(
    tmp_path: Path, store_dir: Path
) -> None:
    outer, inner = _two(tmp_path, store_dir)
    with in_process(store_dir, inner) as d:
        d.add(str(outer))
        ti = d.trees[str(inner)]
        assert ti.lock_wd is not None
        d.drop(str(inner), "test")
        d.on_events(d.src.read())
        (outer / "gd" / "note.txt").write_text("mine\n")
        d.on_events(d.src.read())
        assert (b"gd", b"note.txt") in _marked(store_dir, outer) or (
            b"gd",
            None,
        ) in _marked(store_dir, outer)
