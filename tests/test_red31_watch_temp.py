"""Red team (session 31, D2): files whose names only look like temp files.

watchset.is_temp took `.env.tmpl` (a dot name holding ".tmp"), `book.part`, `x.crdownload`
and `notes~` for editor temp files: their events never started a watch snapshot, and a later
`git clean -fdx` took them with no copy anywhere. An event is skipped now only for a file
that truly is an editor's temp file: a vim swap file (its `b0VIM` header), an Emacs lock
link, or a temp-named file already gone (renamed over its target, or deleted)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from test_watch_daemon import QUIET
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
NAMES = [".env.tmpl", "book.part", "x.crdownload", "notes~", "draft.tmp", "4913", ".#plan"]


def test_user_files_named_like_temp_files_are_snapshotted(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    for name in NAMES:
        (repo / name).write_text(f"my {name}\n")
    snaps = wait_for(
        lambda: [s for s in watch_snaps(repo) if set(NAMES) <= paths_in(s)],
        timeout=30,
        what="a watch snapshot holding the files",
    )
    assert snaps


def test_real_editor_temp_files_take_no_snapshot(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    src = repo / "src"
    # each made whole (and the temp-named ones gone) before the daemon reads their events
    # (stopped meanwhile: under load it could read a creation before the write or the unlink,
    # find an empty swap file or the temp file there and, rightly, keep it)
    daemon = watcher.procs[-1].pid
    os.kill(daemon, signal.SIGSTOP)
    try:
        (src / ".main.py.swp").write_bytes(b"b0VIM 9.0\0" + b"\0" * 100)  # vim's swap file
        os.symlink("me@host.123:456", src / ".#main.py")  # Emacs's lock
        for name in ("4913", "main.py~", ".main.py.tmp.123", ".goutputstream-ABC123"):
            (src / name).write_text("temp\n")
            (src / name).unlink()
    finally:
        os.kill(daemon, signal.SIGCONT)
    wait_for(lambda: watcher.tree(repo).get("events_ignored", 0) >= 6, what="the temp files seen")
    time.sleep(QUIET * 4)
    assert watch_snaps(repo) == [], watcher.log()


def test_the_rule(tmp_path: Path) -> None:
    from git_snapshot.watch.watchset import temp_file

    (tmp_path / "main.py").write_text("x\n")
    swap = tmp_path / ".main.py.swp"
    swap.write_bytes(b"b0VIM 8.2\0")
    assert temp_file(str(swap), swap.name)
    fake = tmp_path / ".notes.swp"
    fake.write_text("my notes\n")
    assert not temp_file(str(fake), fake.name)
    for name in NAMES:
        (tmp_path / name).write_text("mine\n")
        assert not temp_file(str(tmp_path / name), name), name
    assert temp_file(str(tmp_path / "gone~"), "gone~")  # (gone: renamed or deleted)
    assert not temp_file(str(tmp_path / "gone.txt"), "gone.txt")  # (not a temp name)
    os.symlink("me@host.1:2", tmp_path / ".#main.py")
    assert temp_file(str(tmp_path / ".#main.py"), ".#main.py")
