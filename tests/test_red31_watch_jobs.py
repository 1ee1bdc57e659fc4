"""Red team (session 31, D4): a worktree path holding a newline.

The daemon wrote each snapshot job to its worker as a raw line (the worktree's path) and the
worker read jobs line by line: a newline in one path made two jobs and two answers, and every
later answer went to the wrong worktree (an ordinary worktree's edit stayed unsaved, its
status showed the other's error). Jobs are JSON lines now: any path works."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from clihelpers import git
from clihelpers import gs
from conftest import init_repo
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def test_a_path_with_a_newline_is_watched_and_others_are_unharmed(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    odd = init_repo(tmp_path / "odd\nname")
    (odd / "a.txt").write_text("hi\n")
    git(odd, "add", ".")
    git(odd, "commit", "-q", "-m", "init")
    odd = Path(os.path.realpath(odd))
    plain = make_repo(tmp_path)
    add(store_dir, odd)
    add(store_dir, plain)
    watcher.start()
    got = watcher.watching(odd)
    assert got.get("last_error") is None, got
    watcher.watching(plain)
    (odd / "notes.txt").write_text("odd work\n")
    (plain / "notes.txt").write_text("important work\n")
    wait_for(
        lambda: [s for s in watch_snaps(plain) if "notes.txt" in paths_in(s)],
        timeout=30,
        what=f"the plain worktree's edit saved ({watcher.tree(plain)})",
    )
    wait_for(
        lambda: [s for s in watch_snaps(odd) if "notes.txt" in paths_in(s)],
        timeout=30,
        what=f"the odd worktree's edit saved ({watcher.tree(odd)})",
    )
    assert watcher.tree(plain).get("last_error") is None
    assert watcher.tree(odd).get("last_error") is None
    assert "odd work" in str(gs(odd, "cat", "latest", "notes.txt"))
