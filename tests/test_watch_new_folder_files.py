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


def _ws(tmp_path: Path, source: ev.Inotify, fed: _Fed) -> WatchSet:
    return WatchSet(
        str(tmp_path), str(tmp_path / "store"), Budget(source, 100), WatchConfig(), feed=fed
    )


def _rewrite(ws: WatchSet, folder: Path, name: str, now: float) -> None:
    """*name* written again in a session of its own (opened, written, closed)."""
    ws.handle(str(folder), ev.Event(2, ev.MODIFY, name, False), now)
    ws.handle(str(folder), ev.Event(2, ev.CLOSE_WRITE, name, False), now)


def test_files_made_while_a_snapshot_runs_may_be_in_it(tmp_path: Path) -> None:
    """A folder made, and its files written, after the daemon's snapshot began but while its
    walk may still read them (its job not answered yet; the folder's event read meanwhile or
    after): that snapshot may hold them, so their next write session is fed (as overwriting
    what may be an earlier version), not taken as new (c94d169's window; a tool's overwrite
    of a file the user wrote there went unreported). After the job's answer, a folder made
    is new again."""
    fed = _Fed()
    source = ev.Inotify()
    try:
        ws = _ws(tmp_path, source, fed)
        ws.snapshot_begins()  # the job is sent; its walk runs
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "f.js").write_text("the user's\n")
        ws.handle(str(tmp_path), ev.Event(1, ev.CREATE, "pkg", True), 1.0)
        ws.handle(str(tmp_path / "pkg"), ev.Event(3, ev.CREATE, "g.js", False), 1.0)
        (tmp_path / "pkg" / "g.js").write_text("the user's\n")
        ws.handle(str(tmp_path / "pkg"), ev.Event(3, ev.CLOSE_WRITE, "g.js", False), 1.0)
        ws.snapshot_ended()  # its answer: the walk read them, or not
        for name in ("f.js", "g.js"):
            _rewrite(ws, tmp_path / "pkg", name, 2.0)
        assert sorted(fed.got) == [
            ("f.js", bursts.OVERWRITE_EDITED),
            ("g.js", bursts.OVERWRITE_EDITED),
        ]
        fed.got.clear()
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / "h.js").write_text("made after the snapshot\n")
        ws.handle(str(tmp_path), ev.Event(1, ev.CREATE, "new", True), 3.0)
        ws.handle(str(tmp_path / "new"), ev.Event(4, ev.CREATE, "i.js", False), 3.0)
        for name in ("h.js", "i.js"):
            _rewrite(ws, tmp_path / "new", name, 4.0)
        assert fed.got == []
    finally:
        source.close()


def test_a_file_made_during_the_snapshot_its_event_read_after_may_be_in_it(
    tmp_path: Path,
) -> None:
    """The file's CREATE read only after the job's answer (a daemon behind): its ctime says
    it was made before that answer, so the snapshot may hold it."""
    fed = _Fed()
    source = ev.Inotify()
    try:
        ws = _ws(tmp_path, source, fed)
        ws.snapshot_begins()
        (tmp_path / "f.js").write_text("the user's\n")
        ws.snapshot_ended()
        ws.handle(str(tmp_path), ev.Event(1, ev.CREATE, "f.js", False), 1.0)
        ws.handle(str(tmp_path), ev.Event(1, ev.CLOSE_WRITE, "f.js", False), 1.0)
        _rewrite(ws, tmp_path, "f.js", 2.0)
        assert fed.got == [("f.js", bursts.OVERWRITE_EDITED)]
    finally:
        source.close()


def test_a_new_file_a_hook_saved_is_fed_when_written_again(tmp_path: Path) -> None:
    """A file made after the daemon's last snapshot is new (its writes are no loss), until a
    hook's snapshot is committed: that snapshot may hold it (the daemon settles the hook
    whether or not it holds every change), so a tool's overwrite of it after the hook is
    fed, and the report can name the hook's snapshot."""
    fed = _Fed()
    source = ev.Inotify()
    try:
        ws = _ws(tmp_path, source, fed)
        ws.snapshot_begins()
        ws.snapshot_ended()
        (tmp_path / "f.js").write_text("the user's\n")
        ws.handle(str(tmp_path), ev.Event(1, ev.CREATE, "f.js", False), 1.0)
        ws.handle(str(tmp_path), ev.Event(1, ev.CLOSE_WRITE, "f.js", False), 1.0)
        (tmp_path / "g.js").write_text("not saved\n")
        ws.handle(str(tmp_path), ev.Event(1, ev.CREATE, "g.js", False), 1.0)
        _rewrite(ws, tmp_path, "g.js", 1.5)
        assert fed.got == []  # (new, no snapshot holds it: writing it again is nothing)
        ws.hook_saved()
        _rewrite(ws, tmp_path, "f.js", 2.0)
        assert fed.got == [("f.js", bursts.OVERWRITE_EDITED)]
    finally:
        source.close()
