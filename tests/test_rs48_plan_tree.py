"""A restore's plan of one tree in C (_ctree.plan_tree) against its Python twin
(restore_plan._plan_tree_py, validate.check_tree underneath): it accepts exactly the bytes
validate.checked accepts (None for any other: the twin then names the problem), and answers
the same folders, count, small and whole files' keys without making an entry; a hostile tree
is refused before anything is written, with the twin's words; and a whole restore planned
by it and by the twin writes the same tree (modes, mtimes, symlinks, empty folders,
non-UTF-8 names, a set-gid folder) with the same report."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import keeps_nothing
from ctreehelp import native as _ctree
from ctreehelp import outcome
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import Crafter
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_plan
from git_snapshot.store import validate
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import encode_tree
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.validate import UnsafeTree

needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "plan_tree"), reason="_ctree.plan_tree not built"
)
T = 1_600_000_000_123_456_789
KEY = bytes(range(32))


def _raw(kind: int, mode: int, size: int, name: bytes, ref: bytes, nlen: int = -1) -> bytes:
    """One entry as HEAD packs it, whatever its fields hold (*nlen*: a name length that lies)."""
    n = len(name) if nlen < 0 else nlen
    return HEAD.pack(kind, 0, 0, mode, T, size, n, len(ref)) + name + ref


_good_name = st.one_of(
    st.sampled_from([b"a", b"b", b"b.txt", b"d\xff", b"e" * 255, b".git", b"\xe9t\xe9", b"..."]),
    st.binary(min_size=1, max_size=6).filter(
        lambda n: b"/" not in n and b"\0" not in n and n not in (b".", b"..")
    ),
)
_size = st.one_of(
    st.sampled_from([0, 6, 4096, 64 << 10, (64 << 10) + 1]), st.integers(0, 2**64 - 1)
)
_mode = st.sampled_from([0o644, 0o755, 0o2755, 0o7777, 0])
_good = st.one_of(
    st.builds(_raw, st.sampled_from([FILE, DIR]), _mode, _size, _good_name, st.just(KEY)),
    st.builds(
        lambda name, target: _raw(SYMLINK, 0o777, len(target), name, target),
        _good_name,
        st.sampled_from([b"t", b"../up", b"x" * 4095]),
    ),
)
# one field validate refuses, the others honest
_kind = st.sampled_from([FILE, DIR])
_bad = st.one_of(
    st.builds(
        _raw,
        _kind,
        _mode,
        _size,
        st.sampled_from([b"e" * 256, b"", b".", b"..", b"a/b", b"/", b"a\0b", b"\0"]),
        st.just(KEY),
    ),
    st.builds(_raw, _kind, st.sampled_from([0o10000, 2**32 - 1]), _size, _good_name, st.just(KEY)),
    st.builds(_raw, st.sampled_from([0, 4, 255]), _mode, _size, _good_name, st.just(KEY)),
    st.builds(_raw, _kind, _mode, _size, _good_name, st.sampled_from([b"", b"k" * 31, b"k" * 33])),
    st.builds(
        lambda name, target, off: _raw(SYMLINK, 0o777, max(len(target) + off, 0), name, target),
        _good_name,
        st.sampled_from([b"", b"t\0x", b"x" * 4096, b"t"]),
        st.sampled_from([0, 0, 1, -1]),
    ),
)
_raw_entry = st.one_of(_good, _good, _good, _good, _good, _good, _good, _good, _bad)
_honest = st.builds(
    Entry,
    name=st.binary(min_size=1, max_size=8).filter(
        lambda n: b"/" not in n and b"\0" not in n and n not in (b".", b"..")
    ),
    kind=st.sampled_from([FILE, FILE, DIR, SYMLINK]),
    mode=st.sampled_from([0o644, 0o755, 0o600, 0o2775, 0o4755, 0o1777]),
    mtime_ns=st.integers(-(2**63), 2**63 - 1),
    size=st.sampled_from([0, 1, 65536, 65537, 4 << 20, (4 << 20) + 1]),
    ref=st.just(KEY),
)


def _honest_tree(entries: list[Entry]) -> bytes:
    by_name = {}
    for e in entries:
        if e.kind == SYMLINK:
            e = e._replace(ref=b"to-" + e.name, size=len(b"to-" + e.name))
        by_name[e.name] = e
    return encode_tree([by_name[n] for n in sorted(by_name)])


def _same(data: bytes, path: bytes, shared: int, whole: int) -> None:
    """C accepts exactly what validate.checked accepts, and then answers as the twin."""
    got = outcome(_ctree.plan_tree, (data, path, shared, whole))
    accepted = validate.checked(data) is not None
    if not accepted:
        assert got is None
        return
    assert got == outcome(restore_plan._plan_tree_py, (data, path, shared, whole))
    assert [type(x) for x in got] == [list, int, list, list]


@needs_c
@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(
    parts=st.lists(_raw_entry, max_size=8),
    cut=st.sampled_from([0, 0, 0, 0, -1, -3, 1, 3]),
    magic=st.sampled_from([TREE_MAGIC, TREE_MAGIC, TREE_MAGIC, b"GSTREE2\n", b""]),
    shared=st.sampled_from([-1, 0, 6, 64 << 10]),
    whole=st.sampled_from([-1, 0, 4 << 20]),
    sort=st.booleans(),
)
def test_plan_tree_c_accepts_what_checked_accepts(
    parts: list[bytes], cut: int, magic: bytes, shared: int, whole: int, sort: bool
) -> None:
    if sort:  # (sorted by name: most are refused for their order otherwise)
        parts.sort(key=lambda p: p[29 : 29 + int.from_bytes(p[23:25], "little")])
    data = magic + b"".join(parts)
    if cut < 0:
        data = data[:cut]  # cut within the last entry
    elif cut > 0:
        data += b"\0" * cut  # a piece of a header after the last entry
    _same(data, b"a/\xff/", shared, whole)


@needs_c
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(_honest, max_size=12), shared=st.sampled_from([-1, 65536]))
def test_plan_tree_c_answers_as_the_twin_for_honest_trees(
    entries: list[Entry], shared: int
) -> None:
    data = _honest_tree(entries)
    assert validate.checked(data) is not None
    got = _ctree.plan_tree(data, b"", shared, 4 << 20)
    assert got is not None
    assert got == restore_plan._plan_tree_py(data, b"", shared, 4 << 20)


# each what validate refuses (entry_problem, the order), in a tree otherwise honest
_HOSTILE = [
    _raw(FILE, 0o644, 1, b"", KEY),
    _raw(FILE, 0o644, 1, b".", KEY),
    _raw(DIR, 0o755, 0, b"..", KEY),
    _raw(FILE, 0o644, 1, b"z/..", KEY),
    _raw(FILE, 0o644, 1, b"z\0", KEY),
    _raw(FILE, 0o644, 1, b"z" * 256, KEY),
    _raw(FILE, 0o10644, 1, b"z", KEY),
    _raw(FILE, 0o644, 1, b"z", KEY[:31]),
    _raw(DIR, 0o755, 0, b"z", KEY + b"!"),
    _raw(SYMLINK, 0o777, 0, b"z", b""),
    _raw(SYMLINK, 0o777, 3, b"z", b"t\0x"),
    _raw(SYMLINK, 0o777, 4096, b"z", b"x" * 4096),
    _raw(SYMLINK, 0o777, 5, b"z", b"abcd"),
    _raw(7, 0o644, 1, b"z", KEY),
    _raw(FILE, 0o644, 1, b"a", KEY),  # after "b": out of order
    _raw(FILE, 0o644, 1, b"b", KEY),  # "b" again: repeated
]


@needs_c
@pytest.mark.parametrize("bad", range(len(_HOSTILE)))
def test_plan_tree_c_leaves_every_unsafe_tree_to_the_twin(bad: int) -> None:
    parts = [_raw(FILE, 0o644, 1, b"b", KEY), _HOSTILE[bad]]
    if bad < 3:  # ("", "." and "..": before "b", else their order alone refuses them)
        parts.reverse()
    data = TREE_MAGIC + b"".join(parts)
    assert _ctree.plan_tree(data, b"p/", 65536, -1) is None
    with pytest.raises(UnsafeTree):
        restore_plan._plan_tree_py(data, b"p/", 65536, -1)


@needs_c
def test_plan_tree_c_refuses_what_is_no_tree_and_keeps_nothing() -> None:
    good = TREE_MAGIC + _raw(DIR, 0o755, 0, b"d\xff", KEY) + _raw(FILE, 0o644, 9, b"f", KEY)
    assert _ctree.plan_tree(good, b"x/", 65536, 4 << 20) == ([(KEY, b"x/d\xff/")], 1, [KEY], [KEY])
    assert _ctree.plan_tree(TREE_MAGIC, b"", 1, 1) == ([], 0, [], [])
    assert _ctree.plan_tree(b"GSTREE1", b"", 1, 1) is None
    assert _ctree.plan_tree(good[:-1], b"", 1, 1) is None
    assert _ctree.plan_tree(good + b"\0", b"", 1, 1) is None
    lying = TREE_MAGIC + _raw(FILE, 0o644, 1, b"f", KEY, nlen=0xFFFF)
    assert _ctree.plan_tree(lying, b"", 1, 1) is None
    wrong: list[tuple[Any, ...]] = [
        (good, "x/", 1, 1),
        (bytearray(good), b"", 1, 1),
        (good, b"", 1.0, 1),
    ]
    for args in wrong:
        with pytest.raises(TypeError):
            _ctree.plan_tree(*args)
    with pytest.raises(TypeError):
        _ctree.plan_tree(good, b"")  # type: ignore[call-arg]
    with pytest.raises(OverflowError):
        _ctree.plan_tree(good, b"", 2**64, 1)
    calls: list[tuple[Any, ...]] = [(good, b"x/", 65536, 4 << 20), (good[:-1], b"", 1, 1)]
    keeps_nothing(_ctree.plan_tree, calls, [good])


def _tree() -> D:
    folders: dict[bytes, Node] = {}
    for i in range(24):
        inner: dict[bytes, Node] = {
            b"f%d\xe9" % j: F(b"%d-%d\n" % (i, j) * (j + 1), 0o640 if j % 2 else 0o755, T + j)
            for j in range(i % 7)
        }
        inner[b"LICENSE"] = F(b"the same licence\n", 0o644, T)
        if i % 4 == 0:
            inner[b"ln"] = L(b"f0\xe9", T + 5)
        if i % 5 == 0:
            inner[b"empty"] = D({}, 0o700, T + 7)
        mode = 0o2755 if i == 3 else 0o755 if i % 3 else 0o700
        folders[b"d%02d\xff" % i] = D(inner, mode, T + 100 + i)
    folders[b"big"] = F(b"b" * (70 << 10), 0o600, T + 9)  # over SHARED
    return D({b"top": D(folders, 0o755, T + 2), b"x.txt": F(b"x\n", 0o644, T + 3)})


def _planned(store: Store, snap: Any) -> tuple[int, dict[bytes, bytes], set[bytes], set[bytes]]:
    r = Restorer(store)
    r._plan(snap, [[]])  # (no scan: the contents to read whole are collected)
    return r.total, r.trees, r.shared, r.want


@pytest.mark.parametrize("how", ["processes", "threads", "alone"])
def test_a_restore_planned_by_c_and_by_the_twin_is_the_same(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    kw: dict[str, Any] = {"threads": 0 if how == "alone" else 2, "processes": how == "processes"}
    planned = _planned(store, snap)
    c = restore(store, snap, tmp_path / "c", **kw)
    monkeypatch.setattr(restore_plan, "_plan_tree", restore_plan._plan_tree_py)
    assert _planned(store, snap) == planned
    assert planned[2] and planned[3]  # (the LICENSE met twice; contents to read whole)
    twin = restore(store, snap, tmp_path / "twin", **kw)
    want = scan(src)
    assert scan(tmp_path / "c") == want
    assert scan(tmp_path / "twin") == want
    got = os.stat(os.path.join(os.fsencode(tmp_path), b"c", b"top", b"d03\xff"))
    assert stat.S_IMODE(got.st_mode) == 0o2755  # (a set-gid folder; scan compares modes)
    # (writer processes enter their jobs' files as each job is taken: sorted)
    c.created.sort()
    twin.created.sort()
    assert c == twin


@pytest.mark.parametrize("bad", [b"..", b"z/..", b"z\0", b""])
def test_a_hostile_tree_is_refused_with_the_twins_words_and_nothing_written(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: bytes
) -> None:
    c = Crafter(store)
    dirs = []
    for i in range(70):
        files = [c.file(b"f%d" % j, b"%d %d\n" % (i, j)) for j in range(8)]
        if i == 40:
            files.append(Entry(bad, FILE, 0o644, T, 4, c.blob(b"out\n")))
        dirs.append(c.dir(b"pkg%02d" % i, sorted(files)))
    snap = c.commit("crafted", dirs)
    snap.files = 560  # as an honest snapshot would count them: the locations are scanned
    said = []
    for twin in (False, True):
        if twin:
            monkeypatch.setattr(restore_plan, "_plan_tree", restore_plan._plan_tree_py)
        out = tmp_path / f"out{twin}"
        with pytest.raises(UnsafeTree, match="pkg40") as exc:
            restore(store, snap, out, threads=2)
        said.append(str(exc.value))
        assert not out.exists()
    assert said[0] == said[1]
