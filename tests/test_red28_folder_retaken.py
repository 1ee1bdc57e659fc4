"""RED28 (session 28): a folder replaced while the walk was at it was left out of the snapshot.
The walk lstat'ed it as a folder, then listed it: by then a file, a symlink or nothing stood
there. Replaced by a file: "unreadable: Not a directory", the file missing from the snapshot
though its name never left the worktree (rename replaces atomically); by a symlink (RED25):
"replaced while it was read", the symlink missing; gone: stored as an empty folder that was
never there. Now what stands there is looked at again and taken as it is now, as session 27
made it for files and symlinks (walkfiles._again): a file is read, a symlink's target kept
(never followed), nothing left out when gone; a folder again is walked afresh once, and one
that keeps changing is left out and said. The split walk's child never answers for such a
folder: the parent walks it. (The symlink's swaps: tests/test_red25_swapped_folder.py.)"""

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
from test_red25_swapped_folder import OUTSIDE
from test_red25_swapped_folder import _swap as _to_link
from test_red25_swapped_folder import _tree
from test_red26_far_dates import _split
from test_red26_far_dates import impl as impl  # (the fixture: C and twin)
from test_red27_type_change import _swapped

from git_snapshot.store import Store
from git_snapshot.store import walker


def _to_file(src: Path) -> None:
    shutil.rmtree(src / "a")
    (src / "a").write_bytes(b"a file now\n")


def _at_listing(
    monkeypatch: pytest.MonkeyPatch, path: Path, swap: Any, times: int = 1
) -> list[int]:
    """Run *swap* when the walk lists *path* (its first *times* listings)."""
    real = os.scandir
    target = os.fsencode(path)
    done: list[int] = []

    def scandir(p: Any) -> Any:
        if len(done) < times and not isinstance(p, int) and os.fsencode(p) == target:
            done.append(1)
            swap()
        return real(p)

    monkeypatch.setattr(os, "scandir", scandir)
    return done


def _plain(store: Store, snap: Any) -> dict[bytes, tuple[str, bytes]]:
    return {k: (v.kind, v.data) for k, v in snapshot_contents(store, snap).items()}


def test_a_folder_replaced_by_a_file_before_it_is_listed_is_taken_as_the_file(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, _ = _tree(tmp_path)
    with Store(store_dir) as store:
        done = _at_listing(monkeypatch, src / "a", lambda: _to_file(src))
        snap = take(store, "s", src)
        assert done
        assert snap.meta["skipped_paths"] == [] and snap.skipped == 0
        held = _plain(store, snap)
        assert held[b"a"] == ("file", b"a file now\n")
        assert held[b"b.txt"] == ("file", b"b\n")
        assert b"a/x.txt" not in held


def test_a_folder_gone_before_it_is_listed_is_not_stored_as_an_empty_one(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, _ = _tree(tmp_path)
    with Store(store_dir) as store:
        done = _at_listing(monkeypatch, src / "a", lambda: shutil.rmtree(src / "a"))
        snap = take(store, "s", src)
        assert done
        assert set(_plain(store, snap)) == {b"b.txt"}  # (before: an empty folder a)
        assert snap.meta["skipped_paths"] == []
        assert "" in snap.meta["unsettled"]["dirs"]  # an entry of the top went meanwhile


def test_a_folder_that_keeps_changing_is_left_out_and_said(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replaced by a symlink at each listing and back by a folder at each readlink: looked at
    again a bounded number of times, then left out and said (no endless walk)."""
    src, outside = _tree(tmp_path)

    def to_folder() -> None:
        os.unlink(src / "a")
        (src / "a").mkdir()
        (src / "a" / "x.txt").write_bytes(b"inside again\n")

    real_readlink = os.readlink
    target = os.fsencode(src / "a")

    def readlink(p: Any, *a: Any, **k: Any) -> Any:
        if not isinstance(p, int) and os.fsencode(p) == target:
            to_folder()
        return real_readlink(p, *a, **k)

    with Store(store_dir) as store:
        done = _at_listing(monkeypatch, src / "a", lambda: _to_link(src, outside), times=99)
        monkeypatch.setattr(os, "readlink", readlink)
        snap = take(store, "s", src)
        assert 2 <= len(done) <= 4, done
        held = _plain(store, snap)
        assert all(data != OUTSIDE for _, data in held.values()), held
        assert b"a" not in held and held[b"b.txt"] == ("file", b"b\n")
        assert [p for p, _ in snap.meta["skipped_paths"]] == ["a"]


def test_the_split_walks_child_does_not_answer_for_a_replaced_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """The last folder, the child's first unit, replaced by a symlink as the child lists it
    (the processes share the swap: whoever lists it first; the parent waits for the child's
    answer there, splitwalk.WAIT): the snapshot holds the symlink, nothing through it, and
    the parent's record of the folder is not taken as unchanged."""
    src = tmp_path / "src"
    for i in range(6):
        build(src / f"f{i}", D({b"x.txt": F(b"x %d\n" % i)}))
    build(src / "z", D({b"in.txt": F(b"z\n")}))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "in.txt").write_bytes(OUTSIDE)
    with Store(tmp_path / "store") as store:
        take(store, "s", src)
        time.sleep(0.01)
        (src / "f0" / "x.txt").write_bytes(b"edited\n")
        _split(monkeypatch)

        parent = os.getpid()

        def swap() -> None:
            if os.getpid() != parent:  # the child: after the parent listed the top (rmtree
                time.sleep(0.2)  # and symlink leave z out of a listing between them)
            if not os.path.islink(src / "z"):
                shutil.rmtree(src / "z")
                os.symlink(outside, src / "z")

        _at_listing(monkeypatch, src / "z", swap)
        snap = take(store, "s", src)
        held = _plain(store, snap)
        assert all(data != OUTSIDE for _, data in held.values()), held
        assert held[b"z"] == ("link", os.fsencode(outside))
        assert held[b"f0/x.txt"] == ("file", b"edited\n")
        assert snap.skipped == 0


def swap_while_read(
    mp: pytest.MonkeyPatch, module: Any, top: Path, outside: Path, away: Path, then: str
) -> list[bytes]:
    """As `top/a/x.txt` is read, `a` renamed to *away* and a symlink to *outside* put in its
    place (the read goes through it); when *module*'s ``_moved`` (the walker's, or the
    rebuild's own name for it) lstats `a` again, the symlink *then* "stays", is "gone" or
    `a` is moved "back". Whether that check came is what it returns (a list, filled)."""
    target = os.fsencode(top / "a")

    def swap(p: bytes) -> None:
        time.sleep(0.01)  # (past a tick of the kernel's coarse clock: a new ctime)
        os.rename(top / "a", away)
        os.symlink(outside, top / "a")

    real = walker._moved
    done: list[bytes] = []

    def moved(path: bytes, own: tuple[int, int, int]) -> str | None:
        if path == target and not done and os.path.islink(path):
            done.append(path)
            if then != "stays":
                os.unlink(path)
            if then == "back":
                time.sleep(0.01)
                os.rename(away, top / "a")
        return real(path, own)

    _swapped(mp, b"x.txt", swap)
    mp.setattr(module, "_moved", moved)
    return done


def read_through_a_symlink(
    store: Store, src: Path, outside: Path, away: Path, back: bool
) -> tuple[Any, bool]:
    """A snapshot of *src* (after one, and `a/x.txt` edited) during which `a` is swapped as
    :func:`swap_while_read` does, the symlink gone when the walk lstats `a` again, `a`
    moved back first with *back*; and whether that happened."""
    take(store, "s", src)
    time.sleep(0.02)
    (src / "a" / "x.txt").write_bytes(b"edited inside\n")
    with pytest.MonkeyPatch.context() as mp:
        done = swap_while_read(mp, walker, src, outside, away, "back" if back else "gone")
        snap = take(store, "s", src)
    return snap, bool(done)


def test_a_folder_swapped_for_a_symlink_and_back_while_read_is_walked_again(
    store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, impl: str
) -> None:
    """`a` renamed away and a symlink to a folder outside put in its place as its edited file
    is read (the read goes through the symlink: the outside file), then `a` moved back before
    the walk lstats it again: the same folder there, so RED25's check passed and the snapshot
    held the outside file as a/x.txt (a real race did so in 1 of 40 snapshots). Its ctime
    changed and its mtime did not: moved away and back; it is walked again."""
    src, outside = _tree(tmp_path)
    with Store(store_dir) as store:
        snap, back = read_through_a_symlink(store, src, outside, tmp_path / "a.away", True)
        assert back
        held = _plain(store, snap)
        assert all(data != OUTSIDE for _, data in held.values()), held
        assert held[b"a/x.txt"] == ("file", b"edited inside\n")
        assert snap.meta["skipped_paths"] == []
