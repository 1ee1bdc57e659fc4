"""diff_trees compares stored entry bytes and decodes only what differs (store/treebytes.py):
it must still refuse every hostile entry it shows, with the path validate names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storehelpers import Crafter
from test_validate import HOSTILE
from test_validate import _craft
from test_validate import _order_case

from git_snapshot.store import Store
from git_snapshot.store import validate
from git_snapshot.store.diff import ADDED
from git_snapshot.store.diff import diff_trees


@pytest.fixture
def store(store_dir: Path) -> Iterator[Store]:
    with Store(store_dir) as s:
        yield s


def _honest(store: Store, depth: int) -> bytes:
    """The root of a snapshot like _craft's, without the hostile entry."""
    c = Crafter(store)
    entries = [c.file(b"zz-fine", b"fine")]
    for level in range(depth):
        entries = [c.dir(b"d%d" % level, entries)]
    return c.commit("hostile", entries).root


@pytest.mark.parametrize("depth", [0, 2])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_diff_trees_refuses_a_hostile_entry_either_way(case: str, depth: int, store: Store) -> None:
    snap, path = _craft(store, case, depth)
    honest = _honest(store, depth)
    for a, b in ((honest, snap.root), (snap.root, honest)):
        with pytest.raises(validate.UnsafeTree) as refused:
            diff_trees(store, a, b)
        assert refused.value.path == path, case


@pytest.mark.parametrize("case", ["repeated", "out of order"])
def test_diff_trees_refuses_names_out_of_order(case: str, store: Store) -> None:
    snap = _order_case(store, case)
    with pytest.raises(validate.UnsafeTree, match="out of order or repeated"):
        diff_trees(store, _honest(store, 0), snap.root)


def test_diff_trees_decodes_links_and_modes(store: Store) -> None:
    c = Crafter(store)
    old = c.commit("s", [c.file(b"a", b"1"), c.link(b"l", b"x")]).root
    new = c.commit(
        "s", [c.file(b"a", b"1", mode=0o755), c.link(b"l", b"../y"), c.link(b"m", b"z")]
    ).root
    got = [(ch.path, ch.status) for ch in diff_trees(store, old, new)]
    assert got == [(b"a", "mode"), (b"l", "modified"), (b"m", ADDED)]
