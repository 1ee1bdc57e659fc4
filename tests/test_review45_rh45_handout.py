"""Review RH45 of ho45's hand-out in C (_ctree.gather, _ctree.share_out): what a caller's
Python code may do meanwhile, sizes past a C long long, and the references of the locations
gather hands on.

gather calls a locations object's get (restore_locs.Located's is Python) and kept using the
entry it had borrowed from the list, and the list's length it read before: a get that
changed the list crashed the interpreter (SIGSEGV) where the twin's for loop stops.
share_out's loop ran Python code (a pack name's hash, an offset's __eq__) holding the item
borrowed from the list (SIGSEGV when it changed the list), and added sizes in a long long:
past 2**63 it wrapped (a part given to another writer, negative loads) or raised
OverflowError where the twin's ints grow. Now such calls give the twin's answer."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import keeps_nothing
from ctreehelp import native as _ctree
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import build
from storehelpers import restore
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store import restorer
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry

needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "share_out"), reason="not in this build"
)
WHOLE = 4 << 20


def _run(code: str) -> str:
    """*code* run in a Python of its own (a crash there is this test's failure, not the
    test process's)."""
    ran = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True
    )
    assert ran.returncode == 0, (ran.returncode, ran.stderr[-2000:])
    return ran.stdout


@needs_c
def test_gather_whose_get_changes_the_list_gives_the_twins_answer() -> None:
    out = _run(
        """
        from git_snapshot.store import _ctree, restorer
        from git_snapshot.store.objects import Entry, FILE

        class Clearing:
            def __init__(self, entries):
                self.entries = entries

            def get(self, key):
                self.entries.clear()  # (the entries: referenced by the list alone)
                return None

        def answer(gather):
            entries = [Entry(b"f%d" % i, FILE, 0o644, 0, 3, bytes([i]) * 32) for i in range(50)]
            got = gather(entries, None, b"x/", Clearing(entries), 4 << 20)
            return [x[2].name for x in got[0]], got[1:]

        print(answer(restorer._gather_py))
        print(answer(_ctree.gather))
        """
    )
    twin, c = out.splitlines()
    assert c == twin == "([b'f0'], ([], 34, False))"


@needs_c
def test_share_out_whose_pack_name_changes_the_list_gives_the_twins_answer() -> None:
    out = _run(
        """
        from git_snapshot.store import _ctree, restore_write

        class Clearing(str):
            def __hash__(self):
                ready.clear()
                return str.__hash__(self)

            __eq__ = str.__eq__

        def items():
            return [((Clearing("p"), i, 1, 10, 0), i, None, b"") for i in range(50)]

        ready = items()
        load, owner = [0, 0], {}
        print(restore_write._share_out_py(ready, load, owner), load, owner)
        ready = items()
        load, owner = [0, 0], {}
        print(restore_write.share_out(ready, load, owner, []), load, owner)
        ready = items()
        load, owner = [0, 0], {}
        print(_ctree.share_out(ready, load, owner, restore_write._NOWHERE, 10), load, owner)
        """
    )
    twin, public, c = out.splitlines()
    after = f"[{10 + restore_write.FILE_COST}, 0] {{('p', 0): 0}}"
    # (share_out names each part's writer; the twin's parts are every writer's)
    assert twin == "[[(('p', 0, 1, 10, 0), 0, None, b'')], []] " + after
    assert public == "[(0, [(('p', 0, 1, 10, 0), 0, None, b'')])] " + after
    assert c == "None [0, 0] {}"  # (nothing changed: the twin runs)


def _split(fn: Any, locs: list[Any], load: list[int]) -> tuple[list[list[int]], list[int], Any]:
    items = [(loc, i, None, b"") for i, loc in enumerate(locs)]
    owner: dict[tuple[str, int], int] = {}
    load = list(load)
    got: list[Any]
    if fn is restore_write.share_out:
        got = [[] for _ in load]
        for k, part in fn(items, load, owner, []):  # type: ignore[arg-type]
            got[k] = part
    else:
        got = fn(items, load, owner)
    return [[x[1] for x in part] for part in got], load, owner


@needs_c
@pytest.mark.parametrize(
    "locs",
    [
        [("p", 0, 1, 2**63 - 1, -1), ("p", 1, 1, 2**63 - 1, -1), ("p", 2, 1, 5, -1)],
        [("p", 0, 1, 2**64, 0), ("p", 0, 1, 2**64, 1), ("p", 9, 1, 5, 0)],
        [("p", 0, 1, 5, 2**64), ("p", 1, 1, 5, -(2**64))],
    ],
)
def test_share_out_past_a_long_long_gives_the_twins_split(locs: list[Any]) -> None:
    twin = _split(restore_write._share_out_py, locs, [0, 0])
    assert _split(restore_write.share_out, locs, [0, 0]) == twin
    assert _split(restore_write.share_out, locs[:1], [2**63 - 1, 0]) == _split(
        restore_write._share_out_py, locs[:1], [2**63 - 1, 0]
    )


@needs_c
def test_gather_keeps_no_reference_to_a_location() -> None:
    """The location gather put in an item (from a dict, or a get) is released with it:
    ho45's test watched the dict, not the location in it (a missing Py_DECREF passed)."""
    loc = ("p", 0, 5, 3, -1)
    e = Entry(b"f", FILE, 0o644, 0, 3, b"k" * 32)
    other = Entry(b"g", FILE, 0o644, 0, 3, b"j" * 32)
    locs = {b"k" * 32: loc, b"j" * 32: ("p", 9, 5, 4, -1)}  # (g's at another size)

    class Get:
        def get(self, key: bytes) -> Any:
            return locs.get(key)

    calls = [([e, other], None, b"x/", locs, WHOLE), ([e, other], None, b"x/", Get(), WHOLE)]
    for args in calls:
        got = _ctree.gather(*args)
        assert got is not None and got[0][0][0] is loc
        assert got == restorer._gather_py(*args)  # type: ignore[arg-type]
    watched = [loc, locs[b"j" * 32], e, other]
    keeps_nothing(_ctree.gather, calls[:1], watched)
    # through a Python get: the references alone (its calls allocate frames)
    before = [sys.getrefcount(x) for x in watched]
    for _ in range(100):
        _ctree.gather(*calls[1])
    assert [sys.getrefcount(x) for x in watched] == before


@needs_c
def test_the_restore_takes_the_c_loops_where_they_are_built() -> None:
    """A name looked up wrong (restorer._native, restore_write._native_share_out) ran the
    twins: every test above still passed, and the restore was as slow as before ho45."""
    from git_snapshot.store import ctree

    if not ctree.NATIVE:
        pytest.skip("the twins, by GIT_SNAPSHOT_PURE_PYTHON")
    assert restorer._gather is _ctree.gather
    assert restorer._c_order is _ctree.in_storage_order
    assert restore_write._c_share_out is _ctree.share_out


def _tree_of(root: Path) -> dict[bytes, tuple[int, int, int, bytes]]:
    """Each path below *root*: mode, size, mtime and bytes (a link's target)."""
    out = {}
    base = os.fsencode(root)
    for top, dirs, files in os.walk(base):
        for name in dirs + files:
            p = os.path.join(top, name)
            st = os.lstat(p)
            data = b""
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                data = hashlib.sha256(Path(os.fsdecode(p)).read_bytes()).digest()
            size = 0 if stat.S_ISDIR(st.st_mode) else st.st_size
            out[os.path.relpath(p, base)] = (st.st_mode, size, st.st_mtime_ns, data)
    return out


def _restored(store: Store, snap: Any, target: Path) -> tuple[Any, ...]:
    try:
        report = restore(store, snap, target)
    except restorer.Damaged as exc:
        assert exc.report is not None
        report = exc.report
    lists = {k: sorted(v) for k, v in vars(report).items() if isinstance(v, list)}
    return lists, report.files, report.unchanged, _tree_of(target)


def test_a_folder_gathered_is_restored_as_one_entry_at_a_time(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same tree and report whether the folders made here go through _gather (C where
    built, its twin) or the one-entry way (_fill_each, what ran before ho45): every kind of
    folder (plain, a symlink, a set-id file, a file over WHOLE, a .git, a content the index
    lacks or holds at another size, subfolders, more files than a job holds)."""
    tree: dict[bytes, Node] = {
        b"plain": D({b"f%d" % i: F(b"plain %d\n" % i) for i in range(30)}),
        b"link": D({b"a": F(b"a\n"), b"to-a": L(b"a"), b"b": F(b"b\n")}),
        b"setid": D({b"run": F(b"#!/bin/sh\n", mode=0o4755), b"x": F(b"x\n", mode=0o600)}),
        b"big": D({b"whole": F(b"w" * WHOLE), b"over": F(b"o" * (WHOLE + 1))}),
        b"git": D({b".git": F(b"gitdir: /nowhere\n"), b"y": F(b"y\n")}),
        b"lost": D({b"gone": F(b"lost 1\n"), b"other": F(b"lost 2\n"), b"kept": F(b"k\n")}),
        b"nested": D({b"s": D({b"t": D({b"u": F(b"u\n")}), b"v": F(b"v\n")}), b"w": F(b"w\n")}),
        b"many": D({b"m%03d" % i: F(b"many %d\n" % i) for i in range(600)}),
        b"empty": D({}),
    }
    src = tmp_path / "src"
    build(src, D({b"top.txt": F(b"top\n"), b"sub": D(tree)}))
    snap = take(store, "s", src)
    gone = hashlib.sha256(b"lost 1\n").digest()
    other = hashlib.sha256(b"lost 2\n").digest()
    for table in store.index.tables():
        store.index.db.execute(f"DELETE FROM {table} WHERE key = ?", (gone,))
        store.index.db.execute(f"UPDATE {table} SET size = size + 1 WHERE key = ?", (other,))
    ways: dict[str, Any] = {"each": lambda *args: None, "twin": restorer._gather_py}
    if restorer._gather is not restorer._gather_py:
        ways["c"] = restorer._gather
    got = {}
    for way, gather in ways.items():
        monkeypatch.setattr(restorer, "_gather", gather)
        got[way] = _restored(store, snap, tmp_path / way)
    want = got.pop("each")
    lists = want[0]
    assert [p for p, _ in lists["damaged"]] == [b"sub/lost/gone", b"sub/lost/other"]
    assert lists["setid"] == [b"sub/setid/run"]
    assert b"sub/many/m599" in lists["created"]
    for way, answer in got.items():
        assert answer == want, way
