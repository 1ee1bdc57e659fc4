"""A whole restore's memory (issue 10: under 150 MB on L): the plan keeps the trees it checked
as their stored bytes, within restore_plan.TREE_BYTES, and makes entries of one folder at a time
while writing (kept as entries, L's listings took ~61 MB of the restoring process's 160 MB).
A tree past the budget is read and checked again: the restore is the same."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_plan
from git_snapshot.store.index import Snapshot
from git_snapshot.store.restorer import Restorer


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """70 folders (a wide level: the plan may be shared) of files and subfolders."""
    folders: dict[bytes, Node] = {}
    for i in range(70):
        sub: dict[bytes, Node] = {b"f%d.js" % j: F(b"%d %d\n" % (i, j)) for j in range(8)}
        sub[b"lib"] = D({b"a.js": F(b"a %d\n" % i), b"LICENSE": F(b"same\n")})
        folders[b"pkg%02d" % i] = D(sub)
    out = tmp_path / "src"
    build(out, D(folders))
    return out


@pytest.fixture
def snap(store: Store, src: Path) -> Snapshot:
    return take(store, "s", src)


@pytest.fixture(params=[False, True], ids=["alone", "shared"])
def split(request: pytest.FixtureRequest) -> Iterator[bool]:
    restore_plan.SPLIT = request.param
    yield request.param
    restore_plan.SPLIT = None


def test_the_plan_keeps_each_tree_as_its_stored_bytes(
    store: Store, snap: Snapshot, split: bool
) -> None:
    r = Restorer(store)
    r._prepare(snap, [[]])
    assert len(r.trees) == 1 + 70 * 2  # every folder: all fit in the budget
    for key, data in r.trees.items():
        assert type(data) is bytes
        assert hashlib.sha256(data).digest() == key
    assert r._cached == sum(map(len, r.trees.values())) <= restore_plan.TREE_BYTES


def test_trees_past_the_budget_are_read_again(
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
    snap: Snapshot,
    src: Path,
    tmp_path: Path,
    split: bool,
) -> None:
    monkeypatch.setattr(restore_plan, "TREE_BYTES", 2000)
    r = Restorer(store)
    r._prepare(snap, [[]])
    assert 0 < sum(map(len, r.trees.values())) <= 2000
    assert len(r.trees) < 1 + 70 * 2
    restore(store, snap, tmp_path / "out", threads=2)
    assert scan(tmp_path / "out") == scan(src)
