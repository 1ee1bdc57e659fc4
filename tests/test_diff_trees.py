"""diff_trees compares stored entry bytes and decodes only what differs (store/treebytes.py):
it must still refuse every hostile entry it shows, with the path validate names."""

from __future__ import annotations

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
from git_snapshot.store.objects import Entry


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


def test_diff_dir_passes_over_a_file_as_the_snapshot_holds_it(store: Store, tmp_path: Path) -> None:
    import os

    from git_snapshot.store.diff import diff_dir

    disk = tmp_path / "disk"
    disk.mkdir()
    for name, data in ((b"same", b"1"), (b"mode", b"2"), (b"edited", b"3")):
        (disk / name.decode()).write_bytes(data)
    c = Crafter(store)

    def held(name: bytes, data: bytes) -> Entry:
        st = os.lstat(os.path.join(os.fsencode(disk), name))
        return c.file(name, data, mode=st.st_mode & 0o7777, mtime_ns=st.st_mtime_ns)

    root = c.commit("s", [held(b"edited", b"4"), held(b"mode", b"2"), held(b"same", b"1")]).root
    os.chmod(disk / "mode", 0o600)
    os.utime(disk / "edited", ns=(1, 1))  # new mtime, same size: read and compared
    got = [(ch.path, ch.status) for ch in diff_dir(store, root, os.fsencode(disk))]
    assert got == [(b"edited", "modified"), (b"mode", "mode")]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_find_refuses_a_hostile_entry_a_delta_brings(case: str, store: Store) -> None:
    from git_snapshot.store.history import find

    c = Crafter(store)
    honest = c.commit("hostile", [c.file(b"zz-fine", b"fine")])
    snap, path = _craft(store, case, 2)
    with pytest.raises(validate.UnsafeTree) as refused:
        find(store, [honest, snap], lambda p, e: True)
    assert refused.value.path == path, case
