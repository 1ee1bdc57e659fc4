"""RED25 (session 25): a folder replaced by a symlink to a folder outside the tree while a walk
is in it. The walk lstat'ed the folder as a directory, then takes its names from its record
(or lists it by path) and lstats and reads each by path: every path through the symlink now.
The snapshot held the outside folder's files as the folder's own: restored, files the worktree
never had. Now a folder written again is lstat'ed once more when it is done (walker._moved):
if no folder stands there, nothing read of it is kept and the snapshot says it left the folder
out ("replaced while it was read"); the next snapshot records the symlink. (Session 28,
RED28: what stands there is taken instead, the symlink, as tests/test_red28_folder_retaken.py
checks; only one that keeps changing is still left out and said.) A folder gone when it is
checked is taken as gone (session 29, RED29); one replaced by another folder is walked
afresh."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot import output
from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.lstats import best

OUTSIDE = b"outside the tree\n"


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    build(src, D({b"a": D({b"x.txt": F(b"inside\n")}), b"b.txt": F(b"b\n")}))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.txt").write_bytes(OUTSIDE)
    return src, outside


def _swap(src: Path, outside: Path) -> None:
    shutil.rmtree(src / "a")
    os.symlink(outside, src / "a")


def _check(store: Store, snap: Any, src: Path, outside: Path) -> None:
    got = snapshot_contents(store, snap)
    assert all(seen.data != OUTSIDE for seen in got.values()), got
    assert got[b"b.txt"].data == b"b\n"
    # the symlink that stands there now, taken as it is (RED28; before: the folder left out
    # and said, "replaced while it was read"), never followed
    assert got[b"a"].kind == "link" and got[b"a"].data == os.fsencode(outside)
    assert b"a/x.txt" not in got
    assert snap.meta["skipped_paths"] == [] and output.snapshot_warnings(snap) == []
    nxt = snapshot_contents(store, take(store, "s", src))
    assert nxt[b"a"].kind == "link" and nxt[b"a"].data == os.fsencode(outside)


def _third_snapshot(store: Store, src: Path, swap: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Two snapshots of *src* (the second's records trust their names: RACY_NS 0), then a
    third during which *swap* runs as `a`'s names are lstat'ed (after its parent saw a
    folder there)."""
    take(store, "s", src)
    take(store, "s", src)
    target = os.fsencode(src / "a") + b"/"
    done: list[int] = []

    def lstats(pre: bytes, names: list[bytes]) -> Any:
        if not done and pre == target:
            done.append(1)
            swap()
        return best(pre, names)

    monkeypatch.setattr(walker, "_lstats", lstats)
    snap = take(store, "s", src)
    monkeypatch.setattr(walker, "_lstats", best)
    assert done
    return snap


def test_a_folder_swapped_for_a_symlink_while_its_names_are_trusted(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src, outside = _tree(tmp_path)
    time.sleep(0.05)
    with Store(store_dir) as store:
        snap = _third_snapshot(store, src, lambda: _swap(src, outside), monkeypatch)
        _check(store, snap, src, outside)


def test_a_folder_swapped_for_a_symlink_before_it_is_listed(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, outside = _tree(tmp_path)
    with Store(store_dir) as store:
        take(store, "s", src)
        real = os.scandir
        target = os.fsencode(src / "a")
        done: list[int] = []

        def scandir(path: Any) -> Any:
            if not done and os.fsencode(path) == target:
                done.append(1)
                _swap(src, outside)
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)
        snap = take(store, "s", src)
        monkeypatch.setattr(os, "scandir", real)
        assert done
        _check(store, snap, src, outside)


def test_a_folder_gone_while_it_was_read_is_taken_as_gone(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gone when it is lstat'ed again: what was read may have gone through a symlink that
    stood there meanwhile (RED29: session 28's race put an outside file in 4 snapshots of
    150 so), so it is taken as it is now, nothing (it kept what was read before)."""
    src, _ = _tree(tmp_path)
    with Store(store_dir) as store:
        real = walker._moved
        seen: list[str | None] = []

        def moved(path: bytes, own: tuple[int, int, int]) -> str | None:
            if path == os.fsencode(src / "a"):
                shutil.rmtree(src / "a")  # after its reads, before the check
                seen.append(real(path, own))
            return real(path, own)

        monkeypatch.setattr(walker, "_moved", moved)
        snap = take(store, "s", src)
        assert seen == [walker.GONE]
        got = snapshot_contents(store, snap)
        assert b"a" not in got and b"a/x.txt" not in got
        assert got[b"b.txt"].data == b"b\n"
        assert snap.meta["skipped_paths"] == [] and output.snapshot_warnings(snap) == []


def test_a_folder_replaced_by_another_folder_holds_the_new_ones_files(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rm -r a; mkdir a` while the walk is in it: the new folder's file, and nothing is said
    to be replaced (session 28: another inode there, so it is walked afresh, walker._moved;
    what its path gave before may have come through a symlink standing there meanwhile)."""
    monkeypatch.setattr(walker, "RACY_NS", 0)
    src, _ = _tree(tmp_path)
    time.sleep(0.05)

    def swap() -> None:
        shutil.rmtree(src / "a")
        (src / "a").mkdir()
        (src / "a" / "x.txt").write_bytes(b"the new folder's\n")

    with Store(store_dir) as store:
        snap = _third_snapshot(store, src, swap, monkeypatch)
        assert snapshot_contents(store, snap)[b"a/x.txt"].data == b"the new folder's\n"
        assert snap.meta["skipped_paths"] == []
