"""A file edited after the watcher's snapshot, then overwritten by a burst (session 16, TRUE5).

What such an overwrite destroys is the edit, which no snapshot holds: the burst's entry must
not call the snapshot's copy exact (DESIGN: "an earlier version, saved N ago, is in snapshot
M; later edits, if any, were not saved")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from clihelpers import gs
from test_watch_daemon import Watcher
from test_watch_daemon import add
from test_watch_daemon import config
from test_watch_daemon import make_repo
from test_watch_daemon import paths_in
from test_watch_daemon import settled
from test_watch_daemon import wait_for
from test_watch_daemon import watch_snaps
from test_watch_daemon import watcher  # noqa: F401  (the fixture)

from git_snapshot.watch import bursts
from git_snapshot.watch import source as ev
from git_snapshot.watch.config import WatchConfig
from git_snapshot.watch.watchset import Budget
from git_snapshot.watch.watchset import WatchSet


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_an_edit_then_a_tools_overwrite_is_not_called_exact(
    tmp_path: Path,
    store_dir: Path,
    watcher: Watcher,  # noqa: F811
) -> None:
    """The watcher snapshots d/; the user edits d/f0.txt in place and saves d/f1.txt the
    editor way (a temp file renamed over it); a tool then rewrites all of d/ in place. The
    burst's entry said f0's lost version was in the snapshot, exact (only f0's first write
    was fed), and left f1 out (a file moved in was never fed)."""
    config(burstFiles=50, burstSeconds=2)
    repo = make_repo(tmp_path)
    add(store_dir, repo)
    watcher.start()
    watcher.watching(repo)
    d = repo / "d"
    d.mkdir()
    files = [d / f"f{i}.txt" for i in range(120)]
    for f in files:
        f.write_text(f"v1 {f.name}\n")
    wait_for(
        lambda: any("d/f119.txt" in paths_in(s) for s in watch_snaps(repo)),
        what="a watch snapshot holding d/",
    )
    # settled: no snapshot due or under way (one started between a write and the daemon's
    # read of its event would hold the tool's output, and the burst would be matched to it)
    settled(watcher, repo)
    files[0].write_text("the user's edit\n")
    tmp = d / ".f1.txt.tmp"
    tmp.write_text("the user's save\n")
    os.replace(tmp, files[1])
    for f in files:
        f.write_text("the tool's output\n")
    entries = wait_for(
        lambda: json.loads(gs(repo, "losses", "--json").out), timeout=60, what="the loss entry"
    )
    entry = entries[-1]
    lost = {x["path"] for x in entry["lost"]}
    assert {"d/f0.txt", "d/f1.txt", "d/f119.txt"} <= lost, (entry, watcher.log())
    assert entry["exact"] is False, entry
    assert sorted(entry.get("maybe_older", [])) == ["d/f0.txt", "d/f1.txt"], entry


class _Fed:
    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []

    def __call__(self, now: float, path: str, kind: str) -> None:
        self.got.append((os.path.basename(path), kind))


@pytest.mark.skipif(not os.path.exists("/proc/sys/fs/inotify"), reason="inotify (Linux) only")
def test_write_sessions_feed_one_overwrite_and_one_edited_overwrite(tmp_path: Path) -> None:
    """One write session (many MODIFYs) is one overwrite; a MODIFY after its CLOSE_WRITE is a
    second session, fed once as an overwrite of an edited file; the next snapshot starts
    over. A file created since the snapshot is never fed as overwritten (no snapshot holds
    it); one renamed in is (an editor's save over a file the snapshot holds)."""
    fed = _Fed()
    root = str(tmp_path)
    source = ev.Inotify()
    try:
        _sessions(
            WatchSet(root, str(tmp_path / "store"), Budget(source, 100), WatchConfig(), feed=fed),
            fed,
        )
    finally:
        source.close()


def _sessions(ws: WatchSet, fed: _Fed) -> None:
    root = ws.root

    def e(kind: str, name: str) -> None:
        ws.handle(root, ev.Event(1, kind, name, False), 1.0)

    for kind in (ev.MODIFY, ev.MODIFY, ev.CLOSE_WRITE, ev.MODIFY, ev.MODIFY, ev.CLOSE_WRITE):
        e(kind, "a")
    e(ev.MODIFY, "a")  # a third session: fed already
    for kind in (ev.CREATE, ev.MODIFY, ev.CLOSE_WRITE, ev.MODIFY, ev.CLOSE_WRITE):
        e(kind, "new")
    e(ev.MOVED_TO, "saved")
    e(ev.MODIFY, "saved")
    assert fed.got == [
        ("a", bursts.OVERWRITE),
        ("a", bursts.OVERWRITE_EDITED),
        ("saved", bursts.OVERWRITE_EDITED),
    ]
    ws.overwritten.clear()  # the daemon, as a snapshot starts
    fed.got.clear()
    e(ev.MODIFY, "a")
    assert fed.got == [("a", bursts.OVERWRITE)]


class _Snap:
    def __init__(self, sid: str, created: float) -> None:
        self.id = sid
        self.created = created


def test_a_file_overwritten_again_after_a_snapshot_is_matched_to_that_snapshot() -> None:
    """The user's edit of f at 10 (fed as an overwrite), a watch snapshot at 13 holding it, a
    formatter rewriting f and 100 more at 14 (f fed again: the first write since that
    snapshot). The burst opened on both feeds: f kept its first time (10), so its loss was
    matched to the snapshot before the edit and called exact (the lost edit is in the one at
    13)."""
    det = bursts.BurstDetector(threshold_files=50, window_s=5.0)
    det.feed(10.0, "/w/f", bursts.OVERWRITE)
    for i in range(100):
        det.feed(14.0 + i / 1000, f"/w/g{i}", bursts.OVERWRITE)
    det.feed(14.2, "/w/f", bursts.OVERWRITE)
    (burst,) = det.take(30.0)
    old, new = _Snap("1", 5.0), _Snap("2", 13.0)
    parts = burst.parts(lambda t: new if t >= new.created else old)
    held = {snap.id: set(b.paths) for snap, b in parts}
    assert "/w/f" in held["2"], held
    assert "/w/f" not in held.get("1", set()), held
