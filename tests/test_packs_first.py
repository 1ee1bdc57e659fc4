"""A first snapshot's fast paths: a listed file read in one call (archiver._read_listed) and
the pack writer's own record positions (no tell() per record)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from readhelp import python_reads  # noqa: F401  (pytestmark below)
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import entry_of
from storehelpers import random_tree
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.errors import UserError
from git_snapshot.store import archiver
from git_snapshot.store import index
from git_snapshot.store import packs
from git_snapshot.store import walker
from git_snapshot.store.core import Store
from git_snapshot.store.objects import CHANGED_WHILE_READ
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.verify import verify

pytestmark = pytest.mark.usefixtures("python_reads")  # (they watch os.open/os.read)

_real_open = os.open
_real_read = os.read


def _records(store: Store) -> int:
    """Objects of every pack, parsed record by record from the headers (as repair, push and
    gc read them): a torn record raises."""
    d = os.path.join(store.path, "packs")
    return sum(len(list(scan_pack(os.path.join(d, n)))) for n in os.listdir(d))


def test_file_changed_after_listing_is_stored_as_read_with_its_new_stat(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rewritten (same size, new mtime) between its folder's listing and its read: the
    snapshot holds the new bytes with the new mtime, never the listing's stat beside them."""
    src = tmp_path / "src"
    old_ns, new_ns = 1_600_000_000 * 10**9, 1_700_000_000 * 10**9
    build(src, D({b"a": F(b"x" * 100, mtime_ns=old_ns), b"b": F(b"keep", mtime_ns=old_ns)}))
    target = os.fsencode(src / "a")
    opened: list[bytes] = []

    def edit_then_open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        p = os.fsencode(path)
        if p == target:
            if not opened:  # just before its first open, a is rewritten
                with open(p, "r+b") as f:
                    f.write(b"y" * 100)
                os.utime(p, ns=(new_ns, new_ns))
            opened.append(p)
        return _real_open(path, flags, mode, **kw)

    monkeypatch.setattr(os, "open", edit_then_open)
    snap = take(store, "s", src)
    monkeypatch.undo()
    got = snapshot_contents(store, snap)
    assert got[b"a"].data == b"y" * 100
    e = entry_of(store, snap, b"a")
    assert e.mtime_ns == new_ns  # not the listing's old_ns
    assert e.flags & CHANGED_WHILE_READ == 0  # unchanged while it was read again
    assert len(opened) == 2  # the one-call read refused it, the careful read took it
    assert got[b"b"].data == b"keep"


def test_records_after_streamed_ones_lie_where_the_index_says(store: Store, tmp_path: Path) -> None:
    """Two identical big (streamed) files: the first one's record is kept, the second one's
    discarded (a duplicate), and every record written after them (small files, trees) is
    read back from its place (the writer counts where records start, without tell())."""
    src = tmp_path / "src"
    big = os.urandom(archiver.SMALL_FILE + 1000)
    small = {b"s%03d" % i: F(b"small %d " % i * 50) for i in range(300)}
    build(src, D({b"a-big": F(big), b"b-big": F(big), **small, b"sub": D(dict(small))}))
    snap = take(store, "s", src)
    assert snapshot_contents(store, snap) == scan(src)
    assert _records(store) == 1 + 300 + 2 + 1  # blobs, trees, the record
    assert verify(store, read_data=True).ok


def test_file_unreadable_while_streamed_leaves_no_torn_record(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big file whose read fails halfway (EIO) is skipped as unreadable; the part of it
    written already is taken back out of the pack, so every pack still parses record by
    record and the rest of the snapshot reads back."""
    src = tmp_path / "src"
    more = os.urandom(archiver.SMALL_FILE + 10)
    build(
        src,
        D(
            {
                b"bad": F(os.urandom(archiver.SMALL_FILE + (3 << 20))),
                b"good": F(b"fine " * 1000),
                b"more": F(more),
            }
        ),
    )
    bad = os.fsencode(src / "bad")
    fds: set[int] = set()

    def track_open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        fd = _real_open(path, flags, mode, **kw)
        if os.fsencode(path) == bad:
            fds.add(fd)
        else:  # a number used again
            fds.discard(fd)
        return fd

    def failing_read(fd: int, n: int) -> bytes:
        if fd in fds and os.lseek(fd, 0, os.SEEK_CUR) > 0:  # past its first chunk
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return _real_read(fd, n)

    monkeypatch.setattr(os, "open", track_open)
    monkeypatch.setattr(os, "read", failing_read)
    snap = take(store, "s", src)
    monkeypatch.undo()
    assert snap.skipped == 1
    got = snapshot_contents(store, snap, mtimes=False)
    assert set(got) == {b"good", b"more"}
    assert got[b"good"].data == b"fine " * 1000
    assert got[b"more"].data == more
    assert _records(store) == 2 + 1 + 1  # good and more, the root tree, the record
    assert verify(store, read_data=True).ok


def test_a_first_snapshot_enters_each_full_pack_in_the_index_once_sealed(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packs sealed before the last are entered in the index when sealed (packs.PackWriter
    on_sealed: their rows are committed beside the walk, not all at the end), each once it is
    in packs/; the last pack comes with the snapshot. The snapshot reads back whole."""
    monkeypatch.setattr(packs.PackWriter.__init__, "__defaults__", (64 << 10,))  # max_size
    monkeypatch.setattr(packs, "GROUP_BYTES", 32 << 10)
    src = tmp_path / "src"
    build(src, random_tree(3, 600, max_size=6000))
    real = index.Index.add_packs  # (the walking thread's, or the index thread's own)
    sealed: list[str] = []

    def add_packs(self: index.Index, done: list[packs.FinishedPack]) -> None:
        for p in done:
            assert os.path.exists(store.pack_path(p.name))  # durable and in place first
            sealed.append(p.name)
        real(self, done)

    monkeypatch.setattr(index.Index, "add_packs", add_packs)
    snap = take(store, "s", src)
    on_disk = set(os.listdir(os.path.join(store.path, "packs")))
    assert len(sealed) >= 2 and set(sealed) < on_disk  # all but the last, once each
    assert len(sealed) == len(set(sealed)) == len(on_disk) - 1
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_first_snapshot_that_fails_keeps_the_packs_the_index_names(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first snapshot failing at its commit (a full disk) removes only the packs no index
    row names: those entered when sealed stay (their rows are committed), so the store stays
    consistent and the next snapshot stores only what they lack."""
    monkeypatch.setattr(packs.PackWriter.__init__, "__defaults__", (64 << 10,))
    monkeypatch.setattr(packs, "GROUP_BYTES", 32 << 10)
    src = tmp_path / "src"
    build(src, random_tree(4, 600, max_size=6000))

    def full(*args: Any, **kw: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.index, "add_snapshot", full)
    with pytest.raises(UserError):
        take(store, "s", src)
    monkeypatch.undo()
    named = {n for (n,) in store.index.db.execute("SELECT name FROM packs")}
    assert named and named == set(os.listdir(os.path.join(store.path, "packs")))
    snap = take(store, "s", src)
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_first_snapshot_compresses_its_trees_at_the_tree_level(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trees (random keys and names, a frame each) at TREE_LEVEL (-1), blobs at LEVEL: M's
    9,633 trees took 0.12 s of CPU at level 4 for 1 % fewer bytes."""
    src = tmp_path / "src"
    build(src, random_tree(5, 50, dirs=8))
    levels: dict[bool, set[int]] = {True: set(), False: set()}
    real = packs._compress_all

    def compress_all(items: list[tuple[Any, bool, int]], zdict: Any) -> list[bytes]:
        for data, use, level in items:  # use: with the dictionary (blobs, at LEVEL)
            tree = isinstance(data, bytes) and data.startswith(TREE_MAGIC)
            levels[tree].add(packs.LEVEL if use else level)
        return real(items, zdict)

    monkeypatch.setattr(packs, "_compress_all", compress_all)
    snap = take(store, "s", src)
    assert levels[True] == {packs.TREE_LEVEL} == {-1}
    assert packs.LEVEL in levels[False]
    assert snapshot_contents(store, snap) == scan(src)


def _seal_during_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small packs and groups, and a dictionary chosen early: packs are sealed mid-walk."""
    monkeypatch.setattr(packs.PackWriter.__init__, "__defaults__", (64 << 10,))  # max_size
    monkeypatch.setattr(packs, "GROUP_BYTES", 32 << 10)
    monkeypatch.setattr(packs, "DICT_SAMPLE", 32 << 10)
    monkeypatch.setattr(packs, "DICT_HOLD", 64 << 10)


def test_a_first_walk_has_its_sealed_packs_entered_by_another_thread(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packs sealed during a first walk are entered in the index by a thread of their own
    (archiver._Indexer: the walk, which feeds the pool, goes on meanwhile), each once, in
    the order they were sealed and only once durable in packs/; the last ones come with the
    snapshot, from the walking thread. The snapshot reads back whole."""
    _seal_during_the_walk(monkeypatch)
    src = tmp_path / "src"
    build(src, random_tree(6, 900, max_size=6000))
    real = index.Index.add_packs
    entered: list[tuple[str, int]] = []

    def add_packs(self: index.Index, done: list[packs.FinishedPack]) -> None:
        for p in done:
            assert os.path.exists(store.pack_path(p.name))  # durable and in place first
            entered.append((p.name, threading.get_ident()))
        real(self, done)

    monkeypatch.setattr(index.Index, "add_packs", add_packs)
    snap = take(store, "s", src)
    on_disk = set(os.listdir(os.path.join(store.path, "packs")))
    names = [n for n, _ in entered]
    assert len(names) == len(set(names)) == len(on_disk) - 1  # all but the last, once each
    by_thread = [n for n, t in entered if t != threading.get_ident()]
    assert len(by_thread) >= 2
    assert names[: len(by_thread)] == by_thread  # the walk's first, the end's after
    named = {n for (n,) in store.index.db.execute("SELECT name FROM packs")}
    assert named == on_disk
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_first_walk_whose_index_thread_fails_fails_and_keeps_the_store_consistent(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index thread's failure (a full disk) fails the snapshot with the store's one line,
    as the walking thread's own insert did; the index names exactly the packs it entered
    before (the others are removed) and the next snapshot stores the rest."""
    _seal_during_the_walk(monkeypatch)
    src = tmp_path / "src"
    build(src, random_tree(7, 900, max_size=6000))
    real = index.Index.add_packs
    main = threading.get_ident()
    calls: list[int] = []

    def add_packs(self: index.Index, done: list[packs.FinishedPack]) -> None:
        if threading.get_ident() != main:
            calls.append(1)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        real(self, done)

    monkeypatch.setattr(index.Index, "add_packs", add_packs)
    with pytest.raises(UserError, match="disk is full"):
        take(store, "s", src)
    assert len(calls) >= 2
    monkeypatch.setattr(index.Index, "add_packs", real)
    named = {n for (n,) in store.index.db.execute("SELECT name FROM packs")}
    assert len(named) == 1 and named == set(os.listdir(os.path.join(store.path, "packs")))
    assert not [t for t in threading.enumerate() if t.name == "git-snapshot-index"]
    snap = take(store, "s", src)
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_first_walk_seals_its_pack_when_it_ends_and_commits_a_small_last_one(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pack open when a first walk ends is sealed then (PackWriter.cut, at least
    CUT_AFTER bytes) and entered by the index thread while the pool compresses what is still
    queued: the snapshot's own transaction, at the end, enters only the pack of that queue and
    the record. Every object is in a pack the index names; the snapshot reads back whole."""
    monkeypatch.setattr(packs, "DICT_SAMPLE", 32 << 10)
    monkeypatch.setattr(packs, "DICT_HOLD", 64 << 10)
    monkeypatch.setattr(packs, "GROUP_BYTES", 32 << 10)
    monkeypatch.setattr(packs, "BATCH_OBJECTS", 16)  # (most batches written during the walk)
    monkeypatch.setattr(packs, "QUEUE", 1)
    monkeypatch.setattr(archiver, "CUT_AFTER", 16 << 10)
    src = tmp_path / "src"
    build(src, random_tree(8, 900, max_size=9000))
    real = index.Index.add_packs
    by_thread: list[str] = []

    def add_packs(self: index.Index, done: list[packs.FinishedPack]) -> None:
        if threading.get_ident() != main:
            by_thread.extend(p.name for p in done)
        real(self, done)

    main = threading.get_ident()
    monkeypatch.setattr(index.Index, "add_packs", add_packs)
    snap = take(store, "s", src)
    on_disk = set(os.listdir(os.path.join(store.path, "packs")))
    assert len(by_thread) == 1 and len(on_disk) == 2  # (one pack without the cut)
    last = (on_disk - set(by_thread)).pop()
    kinds = [o.type for o in scan_pack(store.pack_path(last))]
    assert kinds[-1] == RECORD and len(kinds) < len(list(scan_pack(store.pack_path(by_thread[0]))))
    named = {n for (n,) in store.index.db.execute("SELECT name FROM packs")}
    assert named == on_disk
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_later_walk_enters_its_packs_with_its_snapshot_from_its_own_thread(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a first walk (no files cache) has its sealed packs entered by the index thread: a
    later walk storing enough to fill packs enters them all with its snapshot, as before."""
    src = tmp_path / "src"
    build(src, random_tree(9, 300, max_size=6000))
    take(store, "s", src)
    for i, f in enumerate(sorted((src / "d000").iterdir())[:40]):
        f.write_bytes(os.urandom(5000 + i))
    monkeypatch.setattr(packs.PackWriter.__init__, "__defaults__", (16 << 10,))  # max_size
    monkeypatch.setattr(packs, "GROUP_BYTES", 8 << 10)  # (packs filled during the walk)
    monkeypatch.setattr(packs, "BATCH_OBJECTS", 4)
    monkeypatch.setattr(packs, "QUEUE", 1)
    main = threading.get_ident()
    real = index.Index.add_packs
    other: list[int] = []

    def add_packs(self: index.Index, done: list[packs.FinishedPack]) -> None:
        if threading.get_ident() != main:
            other.append(len(done))
        real(self, done)

    monkeypatch.setattr(index.Index, "add_packs", add_packs)
    monkeypatch.setattr(walker, "RACY_NS", 0)
    before = set(os.listdir(os.path.join(store.path, "packs")))
    snap = take(store, "s", src)
    assert not other
    assert len(set(os.listdir(os.path.join(store.path, "packs"))) - before) >= 2
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok
