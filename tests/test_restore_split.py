"""Restore's plan shared with a forked child (restore_plan._Planner): the child checks every other
folder of a wide level and sends the checked trees' bytes back. The plan it gives is the one a
single process makes; a child that dies, sends garbage or cannot be forked changes nothing
(the parent checks its part itself), and a hostile tree in the child's part is still refused
before anything is written."""

from __future__ import annotations

import marshal
import os
from pathlib import Path
from typing import Any

import pytest
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import entry_of
from storehelpers import flip_stored
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import forked
from git_snapshot.store import restore_plan
from git_snapshot.store import restore_write
from git_snapshot.store import restorer
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.validate import UnsafeTree


def _tree(tmp_path: Path) -> Path:
    """70 folders (a wide level) of subfolders and files, some contents in several places."""
    folders: dict[bytes, Node] = {}
    for i in range(70):
        sub: dict[bytes, Node] = {
            b"LICENSE": F(b"the same licence\n"),
            b"index.js": F(b"module %d\n" % i),
        }
        for j in range(6):  # 512 files at least: the locations are scanned (PARALLEL_MIN)
            sub[b"m%d.js" % j] = F(b"m %d %d\n" % (i, j))
        for j in range(i % 4):
            sub[b"lib%d" % j] = D({b"a.js": F(b"a %d %d\n" % (i, j)), b"same.js": F(b"x\n")})
        folders[b"pkg%02d" % i] = D(sub, mode=0o750 if i % 3 else 0o755)
    folders[b"top.txt"] = F(b"top\n")
    src = tmp_path / "src"
    build(src, D(folders))
    return src


def _plan(store: Store, snap: Snapshot, split: bool, visits: list[bytes]) -> Restorer:
    """A restorer that planned all of *snap* (as restore does), the trees this process read
    appended to *visits*."""
    r = Restorer(store)
    visit = r._visit

    def counted(
        key: bytes, path: bytes, seen: set[bytes], loc: Location | None = None
    ) -> list[tuple[bytes, bytes]]:
        visits.append(key)
        return visit(key, path, seen, loc)

    r._visit = counted  # type: ignore[method-assign]
    restore_plan.SPLIT = split
    try:
        r._prepare(snap, [[]])
        assert r.locs
    finally:
        restore_plan.SPLIT = None
    return r


def _same_plan(a: Restorer, b: Restorer) -> None:
    assert a.total == b.total
    assert a.trees == b.trees
    assert a.shared == b.shared


@pytest.fixture
def snap(store: Store, tmp_path: Path) -> Snapshot:
    return take(store, "s", _tree(tmp_path))


def test_a_split_plan_is_the_single_one(store: Store, snap: Snapshot, tmp_path: Path) -> None:
    alone: list[bytes] = []
    here: list[bytes] = []
    single = _plan(store, snap, False, alone)
    split = _plan(store, snap, True, here)
    _same_plan(single, split)
    assert single.shared  # the LICENSE and same.js: met in both halves
    assert len(here) < len(alone) * 3 // 4  # the child read the rest
    restore_plan.SPLIT = True
    try:
        restore(store, snap, tmp_path / "out", threads=2)
    finally:
        restore_plan.SPLIT = None
    assert scan(tmp_path / "out") == scan(tmp_path / "src")


def _dies(self: Restorer, part: Any, budget: int) -> bytes:
    os._exit(3)


def _garbage(self: Restorer, part: Any, budget: int) -> bytes:
    return b"\x00not marshal"


def _unknown_tree(self: Restorer, part: Any, budget: int) -> bytes:
    """Well formed, but a tree's bytes are not those of its key."""
    return marshal.dumps((0, [bytes(32)], [b"GSTREE1\n"], [], []))


def _wrong_type(self: Restorer, part: Any, budget: int) -> bytes:
    """Its own real answer with one tree's bytes an int."""
    got = marshal.loads(Restorer._plan_part(self, part, budget))
    got[2][0] = 7
    return marshal.dumps(got)


def _tampered(self: Restorer, part: Any, budget: int) -> bytes:
    """Its own real answer with one byte of one tree changed (a name, say)."""
    got = marshal.loads(Restorer._plan_part(self, part, budget))
    tree = bytearray(got[2][0])
    tree[-40] ^= 1
    got[2][0] = bytes(tree)
    return marshal.dumps(got)


def _short(self: Restorer, part: Any, budget: int) -> bytes:
    """Its own real answer, cut."""
    data = Restorer._plan_part(self, part, budget)
    return data[: len(data) // 2]


@pytest.mark.parametrize("child", [_dies, _garbage, _unknown_tree, _wrong_type, _tampered, _short])
def test_a_child_that_dies_or_lies_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, store: Store, snap: Snapshot, tmp_path: Path, child: Any
) -> None:
    alone: list[bytes] = []
    single = _plan(store, snap, False, alone)
    monkeypatch.setattr(Restorer, "_plan_part", child)
    here: list[bytes] = []
    split = _plan(store, snap, True, here)
    _same_plan(single, split)
    assert sorted(here) == sorted(alone)  # the parent read the child's part itself


def test_no_fork_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, store: Store, snap: Snapshot, tmp_path: Path
) -> None:
    alone: list[bytes] = []
    single = _plan(store, snap, False, alone)

    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    here: list[bytes] = []
    _same_plan(single, _plan(store, snap, True, here))
    assert sorted(here) == sorted(alone)


def test_a_hostile_tree_in_the_childs_part_writes_nothing(store: Store, tmp_path: Path) -> None:
    """The child gets CHILD_SHARE of the root's 80 folders, spread evenly: the bad name is
    in pkg01, one of them."""
    assert restore_plan._share_of(80, restore_plan.CHILD_SHARE)[1]
    c = Crafter(store)
    dirs = []
    for i in range(80):
        name = b"pkg%02d" % i
        files = [c.file(b"f%d" % j, b"%d %d\n" % (i, j)) for j in range(8)]
        if i == 1:
            files.append(c.file(b"z/..", b"out\n"))  # a name holding '/'
        dirs.append(c.dir(name, files))
    snap = c.commit("crafted", dirs)
    snap.files = 640  # as an honest snapshot would count them: the locations are scanned
    restore_plan.SPLIT = True
    try:
        with pytest.raises(UnsafeTree, match="pkg01"):
            restore(store, snap, tmp_path / "out", threads=2)
    finally:
        restore_plan.SPLIT = None
    assert not (tmp_path / "out").exists()


def test_a_damaged_folder_in_the_childs_part_restores_as_alone(
    store: Store, store_dir: Path, snap: Snapshot, tmp_path: Path
) -> None:
    """pkg01 (the child's) is damaged: named and skipped, the rest written, as without a
    child."""
    assert restore_plan._share_of(70, restore_plan.CHILD_SHARE)[1]  # (the child's)
    pkg01 = entry_of(store, snap, b"pkg01")
    flip_stored(store_dir, store, pkg01.ref)
    got = []
    for split in (True, False):
        restore_plan.SPLIT = split
        try:
            with pytest.raises(Damaged) as exc:
                restore(store, snap, tmp_path / f"out{split}", threads=2)
        finally:
            restore_plan.SPLIT = None
        got.append((sorted(p for p, _ in exc.value.damaged), scan(tmp_path / f"out{split}")))
    assert b"pkg01" in got[0][0]
    assert got[0] == got[1]
    assert b"pkg00/index.js" in got[0][1]


def test_the_idle_core_is_looked_for_before_the_writers_start(
    monkeypatch: pytest.MonkeyPatch, store: Store, snap: Snapshot, tmp_path: Path
) -> None:
    """A whole restore forks its writer processes before it plans; starting, they took the
    idle core's place in the kernel's count of running tasks, and the plan of M went
    unshared in most runs (session 45: 0.4 s of planning on one core, the other idle). The
    question is asked once, before they are forked: here a core is idle then, not after."""
    writers: list[object] = []
    workers = restore_write._Workers

    def forking(*args: Any) -> Any:
        writers.append(workers(*args))
        return writers[-1]

    monkeypatch.setattr(restorer, "_Workers", forking)
    monkeypatch.setattr(forked, "idle_core", lambda: not writers)
    # (a forked child is possible here though another test left a thread in this worker, or
    # the machine has one core: the question under test is the idle core's, and when)
    monkeypatch.setattr(forked, "possible", lambda: True)
    monkeypatch.setattr(restore_plan, "SPLIT_MIN", 100)
    started: list[object] = []
    start = restore_plan._Planner.start

    def counted(*args: Any) -> Any:
        got = start(*args)
        started.append(got)
        return got

    monkeypatch.setattr(restore_plan._Planner, "start", staticmethod(counted))
    restore(store, snap, tmp_path / "out", threads=2, processes=True)
    assert len(writers) == 1 and len(started) == 1 and started[0] is not None
    assert scan(tmp_path / "out") == scan(tmp_path / "src")
