"""Entering a writer's packs in the index (Index.add_packs, several rows a statement): every
object where the writer put it, the first copy of a key kept, a damaged one healed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from git_snapshot.store import Store
from git_snapshot.store import index as index_mod
from git_snapshot.store.index import Location
from git_snapshot.store.objects import BLOB
from git_snapshot.store.packs import FinishedPack
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
