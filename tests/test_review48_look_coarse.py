"""Review RP48 of pl48 (0c4e2b1): the periodic look takes an entry whose ctime is before its
last look (less TOLD_MARGIN_NS, 20 ms) as unchanged since. That holds where the kernel stamps
ctime in nanoseconds (ext4, xfs, btrfs, tmpfs); a file system whose clock is coarser stamps
it *truncated*: FAT 2 s or 10 ms, HFS+ and reiserfs 1 s, ext2/3/4 with 128-byte inodes 1 s
(watchset.LOCAL_FS are watched, not walked). There a write through a shared map 0.3 s after
a look is stamped before it: skipped, and when an event in the same folder (a new file) had
changed the folder, the look marked nothing, where it marked the whole folder before: the
snapshots keep the old bytes. The stats such a file system gives are made here from the real
folder's (truncated to whole seconds): no mount needed."""

from __future__ import annotations

import os
import stat as stat_mod
import time
from pathlib import Path

from test_idle_scans import FakeSource

from git_snapshot.watch.config import WatchConfig
from git_snapshot.watch.watchset import Budget
from git_snapshot.watch.watchset import Listing
from git_snapshot.watch.watchset import WatchSet
from git_snapshot.watch.watchset import _listing

S = 1_000_000_000


def _coarse(got: Listing, at: int) -> Listing:
    """*got* as a file system of 1 s timestamps stamps it, every time at *at* or before."""
    t = at - at % S
    items = [(n, ino, size, t, t, mode) for n, ino, size, _, _, mode in got.items]
    own = (at - at % S, *got.own[1:])
    return Listing(own, items, got.subdirs, got.linked, got.failed)


def _watchset(top: Path) -> WatchSet:
    return WatchSet(str(top), str(top / ".store"), Budget(FakeSource(), 1000), WatchConfig())


def test_a_mapped_write_stamped_before_the_last_look_still_marks(tmp_path: Path) -> None:
    d = tmp_path / "w"
    d.mkdir()
    (d / "a.txt").write_bytes(b"OLD")
    ws = _watchset(tmp_path)
    folder = str(d)
    base = time.time_ns() // S * S - 10 * S
    first = _listing(folder)
    assert first is not None
    before = _coarse(first, base - S)
    wall0 = base + 900_000_000  # the last look: 0.9 s into a second
    ws._looked(folder, before, before.sig(), wall0, 0)

    # then, in the same second: b.txt made (its events; the record kept as the marks are
    # written), and a.txt written through a shared map (no event): both stamped `base`
    (d / "b.txt").write_bytes(b"NEW")
    ws.told_any.add(folder)
    after = _listing(folder)
    assert after is not None
    now = _coarse(after, base + 950_000_000)
    b = next(i for i in now.items if i[0] == "b.txt")
    ws.told[folder] = {hash(b)}
    ws.told_n = 1
    assert all(stat_mod.S_ISREG(i[5]) for i in now.items)

    wall1 = base + S + 500_000_000
    marks = ws._unexplained(folder, now, wall1, wall1 - wall0)
    # a.txt changed after the last look: marked (the entry), or the whole folder (None)
    assert marks is None or os.path.join(folder, "a.txt") in marks, marks


def test_a_mapped_write_in_the_second_of_its_record_still_marks(tmp_path: Path) -> None:
    """a.txt written (its events: the record taken as the marks are written, a snapshot may
    read it then), then written again through a shared map in the same second: a 1 s clock
    leaves the stat the record holds."""
    d = tmp_path / "w"
    d.mkdir()
    (d / "a.txt").write_bytes(b"OLD")
    ws = _watchset(tmp_path)
    folder = str(d)
    base = time.time_ns() // S * S - 10 * S
    first = _listing(folder)
    assert first is not None
    before = _coarse(first, base - S)
    wall0 = base - 500_000_000  # the last look, half a second before
    ws._looked(folder, before, before.sig(), wall0, 0)

    (d / "a.txt").write_bytes(b"NEW")  # (same size: the map's write keeps it)
    ws.told_any.add(folder)
    after = _listing(folder)
    assert after is not None
    now = _coarse(after, base + 200_000_000)
    a = next(i for i in now.items if i[0] == "a.txt")
    ws.told[folder] = {hash(a)}  # recorded at +0.2 s; mapped write at +0.5 s: the same stat
    ws.told_n = 1

    wall1 = base + S + 500_000_000
    marks = ws._unexplained(folder, now, wall1, wall1 - wall0)
    assert marks is None or os.path.join(folder, "a.txt") in marks, marks
