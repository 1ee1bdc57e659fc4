"""gc never deletes a pack that still holds a live object, whatever that object's share of its
group's bytes: an empty file's share is 0, a small file's beside big compressible ones rounds
to 0, and a pack whose only live objects were such members was counted as holding nothing
live and deleted whole (the CI at 51d7c63: test_red17_overlap's snapshot had an empty file
whose blob a forgotten snapshot had written; after a gc it was "missing from the index").

Snapshot 1 writes every object in one pack, snapshot 2 keeps one of them (deduplicated: it
stays in snapshot 1's pack), snapshot 1 is forgotten and gc runs: snapshot 2 reads back whole,
and what only snapshot 1 held is reclaimed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store.gc import gc
from git_snapshot.store.gc import plan
from git_snapshot.store.objects import digest
from git_snapshot.store.verify import verify

KEPT: dict[str, tuple[bytes, Node]] = {
    # the empty file: its share of the group is 0 bytes
    "empty": (b"kept", F(b"")),
    # 3 bytes in a group of 120 KB that compresses to a few dozen: its share rounds to 0
    "small": (b"kept", F(b"abc")),
    # a folder holding an empty file (a tree is no group member: its whole size counts, so
    # it kept its pack before too)
    "tree": (b"sub", D({b"e": F(b"")})),
}


@pytest.mark.parametrize("what", sorted(KEPT))
def test_a_pack_whose_live_objects_are_small_group_members_is_kept(
    store: Store, tmp_path: Path, what: str
) -> None:
    name, node = KEPT[what]
    src = tmp_path / "src"
    build(src, D({name: node, b"big": F(b"z" * 120_000), b"other": F(os.urandom(500))}))
    first = take(store, "s", src)
    (first_pack,) = store.index.packs()
    (src / "big").unlink()
    (src / "other").unlink()
    expected = scan(src)
    second = take(store, "s", src)
    # the file snapshot 2 keeps lies in snapshot 1's pack, in its group
    held = store.index.locate(digest(b"") if what != "small" else digest(b"abc"))
    assert held is not None and held.pack == first_pack and held.inner >= 0
    store.forget([first])
    todo = plan_of(store)
    assert first_pack not in todo  # (deleted whole before the fix)
    report = gc(store)
    assert report.objects_removed >= 3  # big, other, snapshot 1's root and record
    assert store.index.locate(digest(b"z" * 120_000)) is None
    assert report.packs_rewritten == 1  # snapshot 1's pack, copied without what died
    assert first_pack not in store.index.packs()
    (only,) = store.snapshots("s")
    assert only.id == second.id
    out = tmp_path / "out"
    restore(store, only, out)
    assert diff(expected, scan(out)) == []
    assert verify(store, read_data=True).ok


def plan_of(store: Store) -> set[str]:
    """The names of the packs gc would delete whole."""
    with store.lock(exclusive=True):
        return {p.name for p in plan(store).empty}


def test_a_pack_holding_only_the_empty_file_is_not_rewritten_by_every_gc(
    store: Store, tmp_path: Path
) -> None:
    """The first gc copies the empty file, the only live object of snapshot 1's pack, into a
    pack of its own, in a group of its own (its members' sizes sum to 0). Counted as 1 byte
    of that pack's ~100, every later gc rewrote it, for ever (a new file, an index commit);
    its share is the group's bytes: the pack stays as it is, and still reads back."""
    src = tmp_path / "src"
    build(src, D({b"kept": F(b""), b"big": F(b"z" * 120_000), b"other": F(os.urandom(500))}))
    first = take(store, "s", src)
    (src / "big").unlink()
    (src / "other").unlink()
    expected = scan(src)
    take(store, "s", src)
    store.forget([first])
    assert gc(store).packs_rewritten == 1
    moved = store.index.locate(digest(b""))
    assert moved is not None and moved.inner >= 0
    packs = store.index.packs()
    for _ in range(2):
        report = gc(store)
        assert (report.packs_rewritten, report.packs_removed) == (0, 0)
        assert store.index.packs() == packs
    (only,) = store.snapshots("s")
    out = tmp_path / "out"
    restore(store, only, out)
    assert diff(expected, scan(out)) == []
    assert verify(store, read_data=True).ok
