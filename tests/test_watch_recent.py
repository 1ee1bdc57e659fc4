"""The index's recent table (store/index.py): a snapshot rebuilt from the dirty set lists its
objects there, every reader finds them, and they move into objects off the hooks' time (the
watcher's worker, gc, any other snapshot) without losing one (real store, real git)."""

from __future__ import annotations

from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take as take_snapshot
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _on_disk
from test_watch_dirtyset import _take
from test_watch_dirtyset import watched  # noqa: F401  (a fixture)

from git_snapshot.store import Store
from git_snapshot.store import index
from git_snapshot.store.gc import gc
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import digest
from git_snapshot.watch import dirtyset
from git_snapshot.watch import take


def _rows(store: Store, table: str) -> set[bytes]:
    return {bytes(k) for (k,) in store.index.db.execute(f"SELECT key FROM {table}")}


def test_rebuilt_objects_are_listed_apart_read_and_merged(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, top, daemon = watched
    first = _take(store, top)  # the epoch's first snapshot: a full walk, into objects
    assert _rows(store, "recent") == set()
    (top / "a" / "b" / "c" / "f1.txt").write_text("changed\n")
    daemon.entries(top / "a" / "b" / "c" / "f1.txt")
    snap = _take(store, top)
    recent = _rows(store, "recent")
    blob = digest(b"changed\n")
    # the new blob, the trees of a/b/c, a/b, a and the root, the record: there, not in objects
    assert {blob, snap.root, snap.record} <= recent and len(recent) == 6
    assert recent.isdisjoint(_rows(store, "objects"))
    assert store.index.has(blob) and store.index.locate(blob) is not None
    assert store.index.known([blob, first.root]) == {blob, first.root}
    assert set(store.index.locate_many([blob, snap.root])) == {blob, snap.root}
    assert blob in store.index.object_keys()
    assert _on_disk(top) == snapshot_contents(store, snap)
    # the next rebuilt snapshot adds its own; the worker's merge moves them all
    (top / "e" / "f0.txt").write_text("again\n")
    daemon.entries(top / "e" / "f0.txt")
    later = _take(store, top)
    assert len(_rows(store, "recent")) == 6 + 4  # (the blob, e, the root, the record)
    take._merge(store)
    assert _rows(store, "recent") == set()
    assert recent <= _rows(store, "objects")
    assert _on_disk(top) == snapshot_contents(store, later)
    # gc moves them first (else it would find their packs unused and delete them)
    (top / "e" / "f1.txt").write_text("once more\n")
    daemon.entries(top / "e" / "f1.txt")
    last = _take(store, top)
    assert _rows(store, "recent")
    gc(store)
    assert _rows(store, "recent") == set()
    assert _on_disk(top) == snapshot_contents(store, last)
    assert snapshot_contents(store, snap)[b"a/b/c/f1.txt"].data == b"changed\n"  # (older)
    # a full walk's snapshot (events were lost) that finds recent full (index.WALK_RECENT_MAX:
    # 1 here) moves them in its own transaction
    (top / "e" / "f2.txt").write_text("x\n")
    daemon.entries(top / "e" / "f2.txt")
    _take(store, top)
    assert _rows(store, "recent")
    monkeypatch.setattr(index, "WALK_RECENT_MAX", 1)
    dirtyset.mark_all(store.path, str(top), "overflow (the test)")
    (top / "e" / "f2.txt").write_text("y\n")
    full = _take(store, top)
    assert _rows(store, "recent") == set()
    assert _on_disk(top) == snapshot_contents(store, full)


def test_a_damaged_object_stored_again_is_healed_out_of_recent(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
) -> None:
    store, top, daemon = watched
    _take(store, top)
    path = top / "a" / "d" / "f0.txt"
    path.write_text("fresh\n")
    daemon.entries(path)
    _take(store, top)
    key = digest(b"fresh\n")
    assert key in _rows(store, "recent")
    bad = store.index.locate(key)
    assert bad is not None
    store.index.mark_damaged(key, "damaged by the test")
    daemon.entries(path)  # looked at again, unchanged: its damaged copy is not reused
    snap = _take(store, top)
    assert store.index.damaged() == {}
    assert key not in _rows(store, "recent") and key in _rows(store, "objects")
    healed = store.index.locate(key)
    assert healed is not None and healed.pack != bad.pack and healed.type == BLOB
    assert _on_disk(top) == snapshot_contents(store, snap)


def test_an_index_of_schema_4_is_read_on_a_full_disk_and_migrated_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from git_snapshot.store import index as index_mod

    monkeypatch.setenv("GIT_SNAPSHOT_ALLOW_EPHEMERAL", "1")
    room = index_mod._low_space
    src = tmp_path / "src"
    build(src, D({b"f": F(b"data"), b"d": D({b"g": F(b"more")})}))
    with Store(tmp_path / "store") as s:
        snap = take_snapshot(s, "src", src)
        s.index.db.execute("DROP TABLE recent")
        s.index.db.execute("PRAGMA user_version=4")
    monkeypatch.setattr(index_mod, "_low_space", lambda path: True)
    with Store(tmp_path / "store") as s:  # read-only: not migrated, no recent table
        assert s.index.readonly and not s.index.has_recent
        assert scan(src) == snapshot_contents(s, snap)
        assert len(s.index.object_keys()) == s.index.object_count() == 5
        assert s.index.known([snap.root]) == {snap.root} and s.index.merge_recent() == 0
    monkeypatch.setattr(index_mod, "_low_space", room)
    with Store(tmp_path / "store") as s:  # room again: migrated
        assert s.index.db.execute("PRAGMA user_version").fetchone()[0] == 5
        assert s.index.has_recent and s.index.object_count() == 5
