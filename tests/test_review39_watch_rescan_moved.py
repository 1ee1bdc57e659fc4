"""Review39 RE: a folder renamed while the watcher's events were lost (a queue overflow: the
kernel drops the MOVED_FROM/MOVED_TO pair) is found at its new name by the rescan, whose
inotify_add_watch gives the watch it has already (one wd per inode). The rescan then removed
the watches of the old names it no longer found, which were those same wds: the folder and
every folder below it stayed listed as watched with no kernel watch, no event came from them
again, and hooks took their edits as clean ("unchanged since snapshot N") until the 5-minute
check came by. Likewise a folder deleted and made again at its path while the events were lost
(`rm -rf build; mkdir build`): the rescan kept the watch of the folder deleted, which the
kernel had ended with it, and the new folder had none. Real inotify."""

from __future__ import annotations

import os
import select
import shutil
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


def _created(src: ev.Inotify, budget: Budget) -> list[tuple[str, str]]:
    """(watched folder, name) of each CREATE event now queued, for every folder holding its
    watch: what reaches the worktrees."""
    return [
        (folder, e.name)
        for e in _events(src)
        for _, folder in budget.owners(e.wd)
        if e.kind == ev.CREATE
    ]


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
        got = _created(src, budget)
        assert (sub, "main.py") in got
    finally:
        src.close()


def test_a_folder_made_again_during_an_overflow_gets_a_watch_at_the_rescan(
    tmp_path: Path,
) -> None:
    (tmp_path / "build" / "out").mkdir(parents=True)
    src = ev.Inotify()
    try:
        budget = Budget(src, 1000)
        ws = WatchSet(str(tmp_path), str(tmp_path / ".store"), budget, WatchConfig())
        ws.setup(frozenset())
        _events(src)
        shutil.rmtree(tmp_path / "build")
        (tmp_path / "build" / "out").mkdir(parents=True)
        _events(src)  # lost: as in a queue overflow (the old watches' IN_IGNORED too)
        ws.setup(frozenset())  # the rescan after it
        out = str(tmp_path / "build" / "out")
        assert out in ws.watched
        (tmp_path / "build" / "out" / "main.o").write_text("precious build\n")
        got = _created(src, budget)
        assert (out, "main.o") in got
        assert budget.used == len(ws.watched)  # the dead watches' places went to the new ones
    finally:
        src.close()


def test_a_folder_made_again_in_a_tree_watched_whole_gets_a_watch_at_the_rescan(
    tmp_path: Path,
) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n")
    (tmp_path / "node_modules" / "left-pad" / "lib").mkdir(parents=True)
    src = ev.Inotify()
    try:
        budget = Budget(src, 1000)
        cfg = WatchConfig(big_dirs=1)
        ws = WatchSet(str(tmp_path), str(tmp_path / ".store"), budget, cfg)
        ignored = frozenset([b"node_modules"])
        ws.setup(ignored)
        assert str(tmp_path / "node_modules") in ws.whole
        _events(src)
        shutil.rmtree(tmp_path / "node_modules" / "left-pad")  # an npm install
        (tmp_path / "node_modules" / "left-pad" / "lib").mkdir(parents=True)
        _events(src)  # lost: as in a queue overflow
        ws.setup(ignored)
        lib = str(tmp_path / "node_modules" / "left-pad" / "lib")
        assert lib in ws.watched
        (tmp_path / "node_modules" / "left-pad" / "lib" / "index.js").write_text("edit\n")
        got = _created(src, budget)
        assert (lib, "index.js") in got
    finally:
        src.close()
