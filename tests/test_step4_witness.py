"""A tree that names a key the store lacks is not looked up in the index (PackWriter._have):
the store never holds an object without those its bytes name, so it cannot hold that tree
either. L's 1 % step asked the index about ~5,600 keys (2,010 files, 3,571 trees); the trees'
lookups go, and nothing the store holds is written again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import walker
from git_snapshot.store.index import Index
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import TREE
from git_snapshot.store.packs import PackWriter


def _key(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_a_tree_naming_a_key_the_store_lacks_is_not_asked(tmp_path: Path) -> None:
    for d in ("tmp", "packs"):
        os.makedirs(tmp_path / d)
    held_blob = b"in the store already"
    held_tree = b"tree naming " + _key(held_blob)
    held = {_key(held_blob), _key(held_tree)}
    asked: list[bytes] = []

    def known(keys: list[bytes]) -> set[bytes]:
        asked.extend(keys)
        return {k for k in keys if k in held}

    w = PackWriter(str(tmp_path))
    w.known = known
    new = b"new content"
    t1 = b"folder naming " + _key(new)  # its file is new: so is it
    t2 = b"folder above naming " + _key(t1)  # a folder above it: new too
    stranger = os.urandom(32)  # a key never given to this writer
    t3 = b"tree naming a stranger " + stranger
    w.add(BLOB, _key(new), new, dedupe=True)
    w.add(TREE, _key(t1), t1, dedupe=_key(new))
    w.add(TREE, _key(t2), t2, dedupe=_key(t1))
    w.add(BLOB, _key(held_blob), held_blob, dedupe=True)
    # the store holds its witness, and the tree itself: asked, and left out
    w.add(TREE, _key(held_tree), held_tree, dedupe=_key(held_blob))
    w.add(TREE, _key(t3), t3, dedupe=stranger)
    w.flush()
    assert _key(t1) not in asked and _key(t2) not in asked
    assert {_key(new), _key(held_blob), _key(held_tree), _key(t3)} <= set(asked)
    # a later batch: a tree naming a key found missing before is not asked either
    t4 = b"later folder naming " + _key(t2)
    w.add(TREE, _key(t4), t4, dedupe=_key(t2))
    w.flush()
    assert _key(t4) not in asked
    packs = w.finish()
    written = {o.key for p in packs for o in p.objects}
    assert written == {_key(x) for x in (new, t1, t2, t3, t4)}  # nothing held written again


def _objects_of(store: Store, snap_pack_names: set[str]) -> list[tuple[bytes, int]]:
    rows = []
    for table in store.index.tables():
        rows += store.index.db.execute(
            f"SELECT o.key, o.type FROM {table} o JOIN packs p ON p.id = o.pack "
            f"WHERE p.name IN ({','.join('?' * len(snap_pack_names))})",
            sorted(snap_pack_names),
        ).fetchall()
    return [(bytes(k), t) for k, t in rows]


def test_a_walk_asks_about_its_files_not_its_trees_and_stores_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(walker, "RACY_NS", 0)  # the files read are cached: their keys named
    src = tmp_path / "src"
    build(src, D({b"a": D({b"b": D({b"c": D({b"f.txt": F(b"one\n")})})}), b"g": F(b"g\n")}))
    asked: list[bytes] = []
    real = Index.known

    def known(self: Index, keys: list[bytes]) -> set[bytes]:
        asked.extend(keys)
        return real(self, keys)

    monkeypatch.setattr(Index, "known", known)
    f = src / "a" / "b" / "c" / "f.txt"
    with Store(str(tmp_path / "store")) as store:
        take(store, "s", src)
        was = f.stat()
        asked.clear()
        f.write_bytes(b"two\n")
        second = take(store, "s", src)
        # the new file is asked about; the four folders above it (c, b, a, the root) are not
        assert asked == [_key(b"two\n")]
        assert snapshot_contents(store, second)[b"a/b/c/f.txt"].data == b"two\n"
        # back as it was (its mtime too: a tree names it): every tree of the first snapshot
        # again, each held: asked, not written
        packs_before = {n for (n,) in store.index.db.execute("SELECT name FROM packs")}
        f.write_bytes(b"one\n")
        os.utime(f, ns=(was.st_atime_ns, was.st_mtime_ns))
        third = take(store, "s", src)
        new_packs = {n for (n,) in store.index.db.execute("SELECT name FROM packs")}
        types = {t for _, t in _objects_of(store, new_packs - packs_before)}
        assert types <= {RECORD}  # only the snapshot's record: no tree or file again
        assert snapshot_contents(store, third)[b"a/b/c/f.txt"].data == b"one\n"
