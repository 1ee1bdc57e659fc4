"""RED8: a folder's names taken from its files-cache record (walker.NAMES_TRUSTED, c77b19f)
rest on its own lstat (inode, mtime_ns, ctime_ns) naming one state of one folder. A mount
point breaks that: two file systems mounted in one tick of the clock have roots with the same
inode number (tmpfs: 1) and the same times, and a bind mount, ``mount --move`` or an unmount
and mount puts one where the other was without changing any time. The record of the first
then matches the second, and a name only the second has is never seen: lost with no word.
(Two tmpfs created in one tick: what a boot or a script mounting several gets.)"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import walker

MS_BIND = 4096
MNT_DETACH = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _mount(src: bytes, target: Path, fstype: bytes | None, flags: int) -> None:
    if _libc.mount(src, os.fsencode(target), fstype, flags, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(target))


def _umount(target: Path) -> None:
    _libc.umount2(os.fsencode(target), MNT_DETACH)


def _own(p: Path) -> tuple[int, int, int]:
    st = os.lstat(p)
    return st.st_ino, st.st_mtime_ns, st.st_ctime_ns


def _twins(one: Path, two: Path) -> bool:
    """Two tmpfs mounted and filled in one tick: *one* holds x, *two* x and y, and their
    roots' lstats (inode, mtime, ctime) are the same. False when the tick passed between."""
    _mount(b"none", one, b"tmpfs", 0)
    _mount(b"none", two, b"tmpfs", 0)
    for path in (one / "x", two / "x", two / "y"):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
    if _own(one) == _own(two):
        return True
    _umount(one)
    _umount(two)
    return False


@pytest.fixture
def mounts(tmp_path: Path):  # type: ignore[no-untyped-def]
    if os.geteuid() != 0:
        pytest.skip("needs mount(2)")
    made: list[Path] = []
    try:
        probe = tmp_path / "probe"
        probe.mkdir()
        try:
            _mount(b"none", probe, b"tmpfs", 0)
        except OSError as exc:
            pytest.skip(f"cannot mount here: {exc}")
        _umount(probe)
        yield made
    finally:
        for p in reversed(made):
            _umount(p)


def test_a_bind_mount_of_a_twin_file_system_is_listed(
    store_dir: Path, tmp_path: Path, mounts: list[Path]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    for _ in range(200):
        if _twins(one, two):
            break
    else:
        pytest.skip("no two mounts in one tick of the clock")
    mounts += [one, two]
    src = tmp_path / "src"
    build(src, D({b"a.txt": F(b"alpha\n"), b"A": D({})}))
    _mount(os.fsencode(one), src / "A", None, MS_BIND)
    mounts.append(src / "A")
    # the real racy rule: the roots' times older than the walk by RACY_NS
    time.sleep(walker.RACY_NS / 1e9 + 0.1)
    with Store(store_dir) as store:
        take(store, "s", src)
        first = snapshot_contents(store, take(store, "s", src))
        assert sorted(k for k in first if k.startswith(b"A/")) == [b"A/x"]
        _umount(src / "A")
        _mount(os.fsencode(two), src / "A", None, MS_BIND)
        assert _own(src / "A") == _own(one)  # the same lstat, another folder
        got = snapshot_contents(store, take(store, "s", src))
        assert sorted(k for k in got if k.startswith(b"A/")) == [b"A/x", b"A/y"]
