"""Entering a writer's packs in the index (Index.add_packs, several rows a statement): every
object where the writer put it, the first copy of a key kept, a damaged one healed."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import random_tree
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import index as index_mod
from git_snapshot.store.index import Location
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import FILE
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import PackWriter


def _blobs(n: int, tag: str) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(n):
        data = f"{tag} {i}\n".encode() * (1 + i % 7)
        out.append((hashlib.sha256(data).digest(), data))
    return out


def _write(store: Store, objects: list[tuple[bytes, bytes]]) -> list[FinishedPack]:
    w = PackWriter(store.path, dictionary=True)
    for key, data in objects:
        w.add(BLOB, key, data)
    return w.finish()


def _where(packs: list[FinishedPack]) -> dict[bytes, Location]:
    return {
        o.key: Location(p.name, o.offset, o.length, o.size, o.type, o.inner)
        for p in packs
        for o in p.objects
    }


def test_every_object_entered_where_the_writer_put_it(tmp_path: Path) -> None:
    rows = index_mod.ROWS_PER_INSERT
    small = _blobs(3 * rows + 5, "a")  # not a whole number of statements
    big = os.urandom(300 << 10)  # a frame of its own, beside the groups
    objects = [*small, (hashlib.sha256(big).digest(), big)]
    with Store(str(tmp_path / "store")) as store:
        first = _write(store, objects)
        store.index.add_packs(first)
        want = _where(first)
        assert len(want) == len(objects)
        assert {k: store.index.locate(k) for k in want} == want
        n = store.index.db.execute("SELECT count(*) FROM objects").fetchone()[0]
        assert n == len(objects)
        for key, data in objects:
            assert store.read_object(key) == data

        # a second copy of some of them: the first stays, but a damaged one is replaced
        hurt = small[rows + 1][0]
        store.index.mark_damaged(hurt, "test")
        again = _write(store, small[: 2 * rows + 3])
        store.index.add_packs(again)
        fresh = _where(again)
        for key, _ in small:
            assert store.index.locate(key) == (fresh[key] if key == hurt else want[key])
        assert hurt not in store.index.damaged()
        for key, data in objects:
            assert store.read_object(key) == data


def _rows(store: Store, table: str) -> set[bytes]:
    return {bytes(k) for (k,) in store.index.db.execute(f"SELECT key FROM {table}")}


def test_a_walks_few_new_rows_go_to_recent_until_it_holds_enough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot walked with a files cache that adds few rows lists them in the recent table
    (a few pages, not most of objects' leaves); every reader finds them; the walk that finds
    WALK_RECENT_MAX rows there moves them into objects first. A first snapshot's rows go to
    objects."""
    monkeypatch.setenv("GIT_SNAPSHOT_ALLOW_EPHEMERAL", "1")
    src = tmp_path / "src"
    build(src, random_tree(1, 80))
    with Store(str(tmp_path / "store")) as store:
        take(store, "src", src)
        assert _rows(store, "recent") == set()
        (src / "d003" / "new.txt").write_bytes(b"one\n")
        second = take(store, "src", src)
        recent = _rows(store, "recent")
        blob = hashlib.sha256(b"one\n").digest()
        assert {blob, second.root, second.record} <= recent
        assert recent.isdisjoint(_rows(store, "objects"))
        assert store.index.known([blob, second.root]) == {blob, second.root}
        assert scan(src) == snapshot_contents(store, second)
        monkeypatch.setattr(index_mod, "WALK_RECENT_MAX", len(recent))
        (src / "d004" / "new.txt").write_bytes(b"two\n")
        third = take(store, "src", src)
        assert _rows(store, "recent") == set()
        assert recent <= _rows(store, "objects")
        assert scan(src) == snapshot_contents(store, third)
        assert snapshot_contents(store, second)[b"d003/new.txt"].data == b"one\n"


def test_gc_on_a_full_disk_moves_recent_rows_by_giving_up_the_reserve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gc moves the recent table's rows into objects before its plan: on a full disk that
    write gives up the reserve, as gc's own commit does (it failed: 'database or disk is
    full', whenever a hook had left rows there)."""
    from fullfs import fill
    from fullfs import small_fs

    from git_snapshot.store.gc import gc
    from git_snapshot.store.reserve import ensure_reserve
    from git_snapshot.store.retention import Policy
    from git_snapshot.store.retention import forget_by_policy

    monkeypatch.setenv("GIT_SNAPSHOT_ALLOW_EPHEMERAL", "1")
    big = 4 << 20
    src = tmp_path / "src"
    with small_fs(tmp_path) as mnt, Store(str(mnt / "store")) as store:
        for i in range(3):
            build(src, D({b"big": F(os.urandom(big)), b"n": F(str(i).encode())}))
            last = take(store, "s", src)
        db = store.index.db
        row = db.execute("SELECT pack FROM objects WHERE key=?", (last.root,)).fetchone()
        if row is not None:  # the last snapshot's rows where a rebuilt one puts them
            with store.index.write():
                cols = index_mod._OBJECT_COLS
                db.execute(f"INSERT INTO recent SELECT {cols} FROM objects WHERE pack=?", row)
                db.execute("DELETE FROM objects WHERE pack=?", row)
        moved = _rows(store, "recent")
        assert last.root in moved
        forget_by_policy(store, Policy(keep_last=1), ["s"])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no log space to reuse
        assert ensure_reserve(store)
        fill(mnt)
        report = gc(store)
        assert report.bytes_freed > 2 * big * 0.9
        assert _rows(store, "recent") == set()
        assert {last.root, last.record} <= _rows(store, "objects")  # (the rest was dead)
        assert scan(src) == snapshot_contents(store, last)


def test_a_packs_rows_are_made_and_entered_a_slice_at_a_time_in_key_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pack's rows are made ROWS_AT_ONCE at a time, in key order across the slices (a first
    snapshot's index thread enters a pack while the walk goes on: a whole pack's rows held
    beside it raised L's peak RSS); every object is entered where the writer put it, and a
    damaged key among them is healed as before."""
    monkeypatch.setattr(index_mod, "ROWS_AT_ONCE", 2 * index_mod.ROWS_PER_INSERT)
    objects = _blobs(5 * index_mod.ROWS_PER_INSERT + 3, "s")
    seen: list[list[bytes]] = []
    real = index_mod._insert_rows

    def insert_rows(db: object, insert: str, rows: list[tuple[object, ...]]) -> None:
        seen.append([r[0] for r in rows])  # type: ignore[misc]
        real(db, insert, rows)  # type: ignore[arg-type]

    with Store(str(tmp_path / "store")) as store:
        packs = _write(store, objects)
        damaged = objects[7][0]
        store.index.db.execute(
            "INSERT INTO damaged(key, why, found) VALUES (?, 'test', 0)", (damaged,)
        )
        monkeypatch.setattr(index_mod, "_insert_rows", insert_rows)
        store.index.add_packs(packs)
        monkeypatch.undo()
        assert seen and max(len(s) for s in seen) <= 2 * index_mod.ROWS_PER_INSERT
        keys = [k for s in seen for k in s]
        assert keys == sorted(keys) and len(keys) == len(objects)
        want = _where(packs)
        assert {k: store.index.locate(k) for k in want} == want
        assert store.index.damaged() == {} or damaged not in store.index.damaged()


def _twice(name: str, key: bytes, offsets: list[int]) -> FinishedPack:
    """A pack listing *key* at each of *offsets* (the index never reads it), among others."""
    others = [
        PackedObject(hashlib.sha256(bytes([i])).digest(), BLOB, 9000 + i, 5, 5) for i in range(9)
    ]
    dups = [PackedObject(key, BLOB, off, 7, 7) for off in offsets]
    return FinishedPack(name, 1 << 20, [*others[:4], dups[0], *others[4:], *dups[1:]])


def test_a_key_listed_twice_in_one_pack_keeps_its_first_place(tmp_path: Path) -> None:
    """A pack that holds a key twice: the first place in the pack's order is entered (the
    rows are sorted by key before they go in: a stable sort)."""
    key = hashlib.sha256(b"twice").digest()
    with Store(str(tmp_path / "store")) as store:
        pack = _twice("p1", key, [300, 100, 200])
        store.index.add_packs([pack])
        assert store.index.locate(key) == Location("p1", 300, 7, 7, BLOB, -1)
        n = store.index.db.execute("SELECT count(*) FROM objects").fetchone()[0]
        assert n == 10


def test_a_reader_finds_every_key_while_merges_move_them_from_recent(tmp_path: Path) -> None:
    """locate beside a writer (another connection) that enters packs in the recent table and
    merges them into objects, over and over: every key entered before the lookup began is
    found, wherever the merges have moved it meanwhile (locate reads both tables in one
    statement, so one read of the database)."""
    with Store(str(tmp_path / "store")) as store:
        entered: list[tuple[bytes, Location]] = []
        done = threading.Event()
        missed: list[bytes] = []
        looked = [0]

        def reader() -> None:
            other = index_mod.Index(store.index.path, create=False)
            try:
                while not done.is_set():
                    for key, where in list(entered):
                        got = other.locate(key)
                        looked[0] += 1
                        if got != where:
                            missed.append(key)
            finally:
                other.db.close()

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for r in range(61):
                packs = _write(store, _blobs(8, f"round {r}"))
                with store.index.write() as db:
                    store.index._add_recent(db, packs)
                entered.extend(_where(packs).items())
                if r % 2:
                    assert store.index.merge_recent() > 0
        finally:
            done.set()
            thread.join()
        assert not missed, f"{len(missed)} of {looked[0]} lookups found nothing or another place"
        assert looked[0] > 1000
        assert _rows(store, "recent") and _rows(store, "objects")


def test_marking_many_at_once_leaves_what_marking_each_in_turn_does(tmp_path: Path) -> None:
    """mark_damaged_each (a restore's damaged files, one transaction) records each key with
    the why that mark_damaged called for each in the same order leaves: its own, or the
    group's note of the last one of its group marked after it; members of a group never
    named themselves included."""
    src = tmp_path / "src"
    build(src, D({b"d%d" % d: D({b"f%d" % i: F(b"x %d %d\n" % (d, i)) for i in range(40)})
                  for d in range(3)}))  # fmt: skip
    with Store(str(tmp_path / "one")) as store:
        snap = take(store, "s", src)
        files = [e.ref for _, e in store.walk(snap.root) if e.kind == FILE]
    shutil.copytree(tmp_path / "one", tmp_path / "each")
    found = [
        (files[3], "is unreadable: a", True),
        (files[50], "does not match its hash", False),
        (files[7], "is unreadable: b", True),  # (in files[3]'s group, or not: both kinds)
        (files[90], "is unreadable: c", True),
        (files[3], "does not match its hash", False),
    ]
    with Store(str(tmp_path / "one")) as store:
        for key, why, group in found:
            store.index.mark_damaged(key, why, group)
        one = store.index.damaged()
    with Store(str(tmp_path / "each")) as store:
        store.index.mark_damaged_each(found)
        each = store.index.damaged()
    assert each == one
    assert len(one) > len({k for k, _, _ in found})  # group members were marked too
