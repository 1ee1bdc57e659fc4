"""Files written in a folder made since the last snapshot, before the daemon's watch on that
folder came (npm install: mkdir, then its files at once), had no CREATE event; their next write
was fed to the burst detector as an overwrite of what the snapshot holds, and a burst of them
cost a recording ("nothing lost") that the watch snapshot waited for (403 of a 20,000-file
burst on M). The folder's listing, when its watch is added, knows them as new."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from git_snapshot.watch import bursts
from git_snapshot.watch import source as ev
from git_snapshot.watch.config import WatchConfig
from git_snapshot.watch.watchset import Budget
from git_snapshot.watch.watchset import WatchSet

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only"
)


class _Fed:
    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []

    def __call__(self, now: float, path: str, kind: str) -> None:
        self.got.append((os.path.basename(path), kind))


def _written_before_its_watch(
    tmp_path: Path, kind: str, snapshot_between: bool = False
) -> list[tuple[str, str]]:
    """A folder pkg/lib/ with f.js written in it before the watch set hears of pkg (*kind*:
    made there, or moved in; *snapshot_between*: a snapshot began after the writes, before
    the folder's event was read), then f.js written again: what the detector is fed."""
    fed = _Fed()
    source = ev.Inotify()
    try:
        ws = WatchSet(
            str(tmp_path), str(tmp_path / "store"), Budget(source, 100), WatchConfig(), feed=fed
        )
        (tmp_path / "pkg" / "lib").mkdir(parents=True)
        (tmp_path / "pkg" / "lib" / "f.js").write_text("1\n")
        (tmp_path / "pkg" / "README").write_text("r\n")
        if snapshot_between:  # (a ctime is never ahead of time.time_ns(): coarser)
            ws.snapshot_begins()
        ws.handle(str(tmp_path), ev.Event(1, kind, "pkg", True), 1.0)
        assert str(tmp_path / "pkg" / "lib") in ws.watched
        for name, folder in (("f.js", "pkg/lib"), ("README", "pkg")):
            ws.handle(str(tmp_path / folder), ev.Event(2, ev.MODIFY, name, False), 2.0)
            ws.handle(str(tmp_path / folder), ev.Event(2, ev.CLOSE_WRITE, name, False), 2.0)
        return fed.got
    finally:
        source.close()


def test_files_in_a_new_folder_are_new(tmp_path: Path) -> None:
    assert _written_before_its_watch(tmp_path, ev.CREATE) == []


def test_files_in_a_folder_moved_in_are_still_fed(tmp_path: Path) -> None:
    """A folder moved in (renamed within the worktree, or from elsewhere) is not new: its
    files may be in a snapshot (under its old name): their writes are fed as before."""
    got = _written_before_its_watch(tmp_path, ev.MOVED_TO)
    assert sorted(got) == [("README", bursts.OVERWRITE), ("f.js", bursts.OVERWRITE)]


def test_files_older_than_the_snapshot_are_still_fed(tmp_path: Path) -> None:
    """Under continuous change a snapshot can begin between a folder's making and the reading
    of its event: the snapshot may hold its files, so their writes are fed as before."""
    got = _written_before_its_watch(tmp_path, ev.CREATE, snapshot_between=True)
    assert sorted(got) == [("README", bursts.OVERWRITE), ("f.js", bursts.OVERWRITE)]
