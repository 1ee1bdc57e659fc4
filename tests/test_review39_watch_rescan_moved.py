"""Review39 RE: a folder renamed while the watcher's events were lost (a queue overflow: the
kernel drops the MOVED_FROM/MOVED_TO pair) is found at its new name by the rescan, whose
inotify_add_watch gives the watch it has already (one wd per inode). The rescan then removed
the watches of the old names it no longer found, which were those same wds: the folder and
every folder below it stayed listed as watched with no kernel watch, no event came from them
again, and hooks took their edits as clean ("unchanged since snapshot N") until the 5-minute
check came by. Real inotify."""

from __future__ import annotations

import os
import select
from pathlib import Path

import pytest

from git_snapshot.watch import source as ev
from git_snapshot.watch.config import WatchConfig
from git_snapshot.watch.watchset import Budget
from git_snapshot.watch.watchset import WatchSet

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


def _events(src: ev.Inotify) -> list[ev.Event]:
    got: list[ev.Event] = []
    while select.select([src.fileno()], [], [], 0.2)[0]:
        got += src.read()
    return got


def test_a_folder_renamed_during_an_overflow_keeps_its_watch_after_the_rescan(
    tmp_path: Path,
) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    src = ev.Inotify()
    try:
        budget = Budget(src, 1000)
        ws = WatchSet(str(tmp_path), str(tmp_path / ".store"), budget, WatchConfig())
        ws.setup(frozenset())
        _events(src)
        os.rename(tmp_path / "pkg", tmp_path / "lib")
        _events(src)  # lost: as in a queue overflow
        ws.setup(frozenset())  # the rescan after it
        sub = str(tmp_path / "lib" / "sub")
        assert sub in ws.watched
        (tmp_path / "lib" / "sub" / "main.py").write_text("precious edit\n")
        got = [
            (folder, e.name)
            for e in _events(src)
            for _, folder in budget.owners(e.wd)
            if e.kind == ev.CREATE
        ]
        assert (sub, "main.py") in got
    finally:
        src.close()
