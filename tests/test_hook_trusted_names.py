"""A folder's names taken from its files-cache record instead of listing it (walker.py,
NAMES_TRUSTED): only when the record says so (written when the folder's mtime and ctime were
older than the walk by RACY_NS), while the folder's own lstat is the record's, and on a file
system known to change a folder's times at every create, unlink and rename in it. What an
unchanged hook saves: an open, two getdents and a close per folder (M: ~10,000 folders)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import diff
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import filescache
from git_snapshot.store import walker


@pytest.fixture(autouse=True)
def trusting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders written a moment ago count as old (each test sleeps past the clock's grain),
    and the test's file system as one whose folder times can be trusted."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    monkeypatch.setattr(walker, "_fs_type", lambda dev: "ext4")


def settle() -> None:
    time.sleep(0.02)  # the file system's coarse clock moves past the last write


def _tree() -> D:
    return D(
        {
            b"a.txt": F(b"alpha\n"),
            b"sub": D({b"b.txt": F(b"beta\n"), b"deep": D({b"c.txt": F(b"gamma\n")})}),
            b"other": D({b"d.txt": F(b"delta\n")}),
        }
    )


class Listed:
    """The folders below *root* that a walk listed (os.scandir), relative."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
        self.root = os.path.realpath(os.fsencode(root))
        self.paths: list[bytes] = []
        real = os.scandir

        def scandir(path: Any = ".") -> Any:
            p = os.path.realpath(os.fsencode(path))
            if p == self.root or p.startswith(self.root + b"/"):
                self.paths.append(os.path.relpath(p, self.root))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)


def _cache(store: Store) -> tuple[Path, str, filescache.FilesCache]:
    (path,) = Path(store.cache_dir).iterdir()
    generation = store.index.meta_get("generation", "0")
    return path, generation, filescache.load(str(path), generation, store.index.has_root)


def _trusted(store: Store, here: bytes) -> bool:
    head = filescache.parse(_cache(store)[2].dirs[here])
    assert head is not None
    return bool(head[9] & walker.NAMES_TRUSTED)


def _same(store: Store, src: Path, snap: Any) -> None:
    assert diff(scan(src), snapshot_contents(store, snap)) == []


def test_an_unchanged_folder_is_not_listed_and_the_snapshot_is_the_same(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    with Store(store_dir) as store:
        first = take(store, "s", src)
        assert all(_trusted(store, here) for here in (b"sub", b"sub/deep", b"other"))
        listed = Listed(monkeypatch, src)
        assert take(store, "s", src).root == first.root
        assert listed.paths == [b"."]  # the root only (no stat of its own to compare)
        (src / "sub" / "deep" / "c.txt").write_bytes(b"GAMMA, longer\n")  # not its folder
        settle()
        listed.paths.clear()
        snap = take(store, "s", src)
        assert listed.paths == [b"."]
        assert snap.root != first.root
        _same(store, src, snap)


def test_a_racy_folder_is_recorded_untrusted_then_trusted(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The racy rule is decided when the record is written: a folder changed less than
    RACY_NS before the walk may change again within one tick of a coarse clock, its times
    then unchanged, so its record does not say its names may be trusted."""
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    monkeypatch.setattr(walker, "RACY_NS", 3600 * 10**9)  # every folder is recent
    with Store(store_dir) as store:
        take(store, "s", src)
        assert not _trusted(store, b"sub")
        listed = Listed(monkeypatch, src)
        take(store, "s", src)
        assert b"sub" in listed.paths
        monkeypatch.setattr(walker, "RACY_NS", 0)
        take(store, "s", src)
        assert _trusted(store, b"sub")  # old enough now: said from then on


@pytest.mark.parametrize("how", ["create", "rename", "unlink", "mkdir"])
def test_a_name_added_or_gone_is_seen(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Any create, unlink or rename in a folder changes its own lstat: it is listed."""
    src = tmp_path / "src"
    build(src, _tree())
    (tmp_path / "outside.txt").write_bytes(b"moved in\n")
    settle()
    with Store(store_dir) as store:
        take(store, "s", src)
        assert _trusted(store, b"sub/deep")
        deep = src / "sub" / "deep"
        if how == "create":
            (deep / "new.txt").write_bytes(b"new\n")
        elif how == "rename":
            os.rename(tmp_path / "outside.txt", deep / "moved.txt")
        elif how == "unlink":
            (deep / "c.txt").unlink()
        else:
            (deep / "inner").mkdir()
        settle()
        listed = Listed(monkeypatch, src)
        _same(store, src, take(store, "s", src))
        assert b"sub/deep" in listed.paths


def test_an_unknown_file_system_is_listed(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the file systems of TRUSTED_FS are trusted, asked per device (a folder may be a
    mount point): nfs, fuse, overlay... and anything unknown are listed."""
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    asked: list[int] = []

    def fs_type(dev: int) -> str:
        asked.append(dev)
        return "nfs4"

    monkeypatch.setattr(walker, "_fs_type", fs_type)
    with Store(store_dir) as store:
        take(store, "s", src)
        listed = Listed(monkeypatch, src)
        take(store, "s", src)
        assert sorted(listed.paths) == [b".", b"other", b"sub", b"sub/deep"]
        assert set(asked) == {os.stat(src).st_dev}


def test_the_file_system_type_is_read_from_mountinfo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real _fs_type
    info = tmp_path / "mountinfo"
    info.write_bytes(
        b"27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        b"30 25 0:27 / /dev/shm rw,relatime shared:5 master:1 - tmpfs tmpfs rw\n"
        b"31 27 0:50 / /mnt/n rw - nfs4 server:/x rw\n"
        b"garbage\n"
    )
    monkeypatch.setattr(walker, "MOUNTINFO", str(info))
    assert walker._fs_type(os.makedev(254, 0)) == "ext4"
    assert walker._fs_type(os.makedev(0, 27)) == "tmpfs"
    assert walker._fs_type(os.makedev(0, 50)) == "nfs4"
    assert walker._fs_type(os.makedev(9, 9)) == ""
    monkeypatch.setattr(walker, "MOUNTINFO", str(tmp_path / "none"))
    assert walker._fs_type(os.makedev(254, 0)) == ""


def _taken_again(
    store_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    damage: Callable[[dict[bytes, bytes]], None],
) -> Listed:
    """The tree snapshotted, its files-cache records (folder -> record) changed by *damage*,
    then snapshotted again: the snapshot is the tree's. Returns what that walk listed."""
    src = tmp_path / "src"
    build(src, _tree())
    settle()
    with Store(store_dir) as store:
        take(store, "s", src)
        path, generation, cache = _cache(store)
        damage(cache.dirs)
        filescache.save(str(path), generation, cache, store.tmp_dir)
        listed = Listed(monkeypatch, src)
        _same(store, src, take(store, "s", src))
    return listed


def test_a_record_whose_names_do_not_parse_is_listed(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged record (its count cut, its names then read from the wrong place) never
    stands for the folder's listing: the snapshot is the tree's."""

    def cut(dirs: dict[bytes, bytes]) -> None:
        for here in (b"sub", b"other"):
            rec = dirs[here]
            head = list(filescache.HEAD.unpack_from(rec))
            assert head[9] & walker.NAMES_TRUSTED
            head[8] = 0
            dirs[here] = filescache.HEAD.pack(*head) + rec[filescache.HEAD.size :]

    _taken_again(store_dir, tmp_path, monkeypatch, cut)


def test_a_record_naming_a_path_below_is_listed(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged record whose names hold a slash (b.txt become deep/c.txt, which lstat
    finds) never stands for the folder's listing: the snapshot is the tree's, b.txt in it and
    no entry named with a slash."""

    def slash(dirs: dict[bytes, bytes]) -> None:
        rec = dirs[b"sub"]
        n = filescache.HEAD.unpack_from(rec)[8]
        at = filescache.HEAD.size + (filescache.STAT.size + filescache.KEY) * n
        assert rec[at:].split(b"\0") == [b"b.txt", b"deep"]
        dirs[b"sub"] = rec[:at] + b"deep/c.txt\0deep"

    assert b"sub" in _taken_again(store_dir, tmp_path, monkeypatch, slash).paths


@pytest.mark.parametrize("names", [b"\0deep", b"b.txt\0", b"\0"])
def test_a_record_naming_an_empty_name_is_listed(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: bytes
) -> None:
    """A damaged record with an empty name among its names (a NUL first or last: the
    folder's own path, which lstat finds) never stands for the folder's listing: the
    snapshot is the tree's, b.txt in it and no entry without a name."""

    def empty(dirs: dict[bytes, bytes]) -> None:
        rec = dirs[b"sub"]
        n = filescache.HEAD.unpack_from(rec)[8]
        at = filescache.HEAD.size + (filescache.STAT.size + filescache.KEY) * n
        assert rec[at:].split(b"\0") == [b"b.txt", b"deep"]
        dirs[b"sub"] = rec[:at] + names

    assert b"sub" in _taken_again(store_dir, tmp_path, monkeypatch, empty).paths
