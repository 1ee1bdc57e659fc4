"""Where every object lies, for a whole restore of a big store (store/restore_locs.py): the
compact table answers as the index does, and a restore of a store beyond LOCATED_MAX objects
reads the index once instead of a query per tree and per job (session 10: L's 225,000
objects were past the dict's limit, and those queries were 4-5 s of the restoring process)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import build
from storehelpers import diff
from storehelpers import mutate
from storehelpers import random_tree
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_plan
from git_snapshot.store.index import Index
from git_snapshot.store.restore_locs import Located


def _keys(store: Store) -> set[bytes]:
    return {
        bytes(k)
        for t in store.index.tables()
        for (k,) in store.index.db.execute(f"SELECT key FROM {t}")
    }


def _as_index(store: Store, key: bytes) -> tuple[str, int, int, int, int] | None:
    loc = store.index.locate(key)
    return None if loc is None else (loc.pack, loc.offset, loc.length, loc.size, loc.inner)


def test_located_answers_as_the_index_does(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, random_tree(1, 400, dirs=12))
    take(store, "s", src)
    mutate(src, 2, share=0.2)
    take(store, "s", src)
    located = Located(store.index)
    keys = _keys(store)
    assert len(located) >= len(keys) > 100
    for key in keys:
        assert located.get(key) == _as_index(store, key)
    assert located.get(os.urandom(32)) is None
    assert located.get(b"short") is None
    some = next(iter(keys))
    assert located.get(some + b"x") is None


def test_keys_sharing_their_first_bytes_are_told_apart(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    build(src, D({b"a": F(b"one")}))
    take(store, "s", src)
    (pack,) = [p for (p,) in store.index.db.execute("SELECT id FROM packs")]
    head = os.urandom(8)
    made = {head + os.urandom(24): (1000 + i, 10 + i, 5 + i, i - 1) for i in range(5)}
    with store.index.write() as db:
        for key, (offset, length, size, member) in made.items():
            db.execute(
                "INSERT INTO objects(key, pack, offset, length, size, type, member) "
                "VALUES (?, ?, ?, ?, ?, 1, ?)",
                (key, pack, offset, length, size, member),
            )
    located = Located(store.index)
    (name,) = [n for (n,) in store.index.db.execute("SELECT name FROM packs")]
    for key, (offset, length, size, member) in made.items():
        assert located.get(key) == (name, offset, length, size, member)
    assert located.get(head + os.urandom(24)) is None


@pytest.mark.parametrize(("threads", "processes"), [(0, None), (2, False), (2, True)])
def test_a_big_store_is_located_in_one_pass(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    threads: int,
    processes: bool | None,
) -> None:
    src = tmp_path / "src"
    spec = random_tree(3, 700, dirs=30)
    spec.children[b"link"] = L(b"nowhere", 1_600_000_000_000_000_000)
    build(src, spec)
    snap = take(store, "s", src)
    monkeypatch.setattr(restore_plan, "LOCATED_MAX", 10)  # the compact table, not the dict
    asked: list[str] = []
    for name in ("locate", "locate_many"):
        real = getattr(Index, name)

        def spy(self: Index, *args: object, _real: object = real, _name: str = name) -> object:
            asked.append(_name)
            return _real(self, *args)  # type: ignore[operator]

        monkeypatch.setattr(Index, name, spy)
    out = tmp_path / "out"
    restore(store, snap, out, threads=threads, processes=processes)
    assert asked == []
    monkeypatch.undo()
    assert diff(snapshot_contents(store, snap), scan(out)) == []
