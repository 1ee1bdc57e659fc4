"""The job a writer gets, made in C (_ctree.work) against its Python twin
(restore_write._work_py): the same tuples (the folder's descriptor or its number, name,
mode, mtime, key or link target, location or None for a symlink) for any job, the same
KeyError for a folder the numbering lacks, None (the twin runs) for what is no item, nothing
kept; and a whole restore through it and through the twin writes the same tree and report,
by writer processes, threads and the restoring process alone."""

from __future__ import annotations

import os
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
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Node
from storehelpers import build
from storehelpers import diff
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.store.restore_write import _NOWHERE
from git_snapshot.store.restore_write import _Dir

needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "work"), reason="_ctree.work not built"
)
T = 1_600_000_000_123_456_789
_DIRS = [_Dir(fd, None) for fd in (3, 7, 7, 12, 40)]  # (two folders of one fd: a reopen)

_entry = st.builds(
    Entry,
    name=st.sampled_from([b"a", b"b.txt", b"d\xff", b"e" * 255]),
    kind=st.sampled_from([FILE, FILE, SYMLINK]),
    mode=st.sampled_from([0o644, 0o755, 0o600, 0o1777]),
    mtime_ns=st.integers(-(2**63), 2**63 - 1),
    size=st.integers(0, 2**64 - 1),
    ref=st.sampled_from([b"k" * 32, b"target", b""]),
)
_loc = st.one_of(
    st.just(_NOWHERE),
    st.just(("", 0, 0, 0, -1)),  # equal to _NOWHERE, not it: kept, as the twin keeps it
    st.tuples(st.sampled_from(["p", "q"]), st.integers(0, 2**40), st.integers(1, 99)).map(
        lambda t: (*t, 5, -1)
    ),
)
_item = st.tuples(_loc, st.sampled_from(_DIRS), _entry, st.sampled_from([b"", b"a/b/"]))


@needs_c
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_item, max_size=30), numbered=st.sampled_from([None, "all", "some"]))
def test_work_c_gives_the_twins_answer(items: list[Any], numbered: str | None) -> None:
    number: dict[int, int] | None = None
    if numbered is not None:
        fds = sorted({d.fd for d in _DIRS})
        number = {fd: k for k, fd in enumerate(fds) if numbered == "all" or fd != 12}
    want = outcome(restore_write._work_py, (items, number))
    got = outcome(_ctree.work, (items, number, _NOWHERE))
    assert got == want
    if isinstance(want, list):
        for w, g in zip(want, got):
            assert [type(x) for x in w] == [type(x) for x in g]
            assert g[5] is None or g[5] is w[5]  # the location itself, not a copy


@needs_c
def test_work_c_leaves_to_the_twin_what_is_no_item_and_keeps_nothing() -> None:
    e = Entry(b"f", FILE, 0o644, T, 1, b"k" * 32)
    d = _Dir(5, None)
    good = [(("p", 0, 1, 1, -1), d, e, b"")]
    assert _ctree.work([[("p", 0, 1, 1, -1), d, e, b""]], None, _NOWHERE) is None  # a list
    assert _ctree.work([(None, d, e)], None, _NOWHERE) is None  # 3 fields
    assert _ctree.work([(None, d, (b"f", 1), b"")], None, _NOWHERE) is None  # no Entry
    assert _ctree.work([], {}, _NOWHERE) == []
    assert _ctree.work(good, [], _NOWHERE) is None  # type: ignore[arg-type]  # (RC47)
    assert _ctree.work(tuple(good), None, _NOWHERE) is None  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _ctree.work(good, None)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):  # a folder with no fd: the twin's error
        _ctree.work([(None, object(), e, b"")], None, _NOWHERE)
    with pytest.raises(KeyError):
        _ctree.work(good, {6: 0}, _NOWHERE)
    calls = [(good, None, _NOWHERE), (good, {5: 0}, _NOWHERE), (good, {6: 0}, _NOWHERE)]
    keeps_nothing(_ctree.work, calls, [d, e, good[0][0]])


def _tree() -> D:
    folders: dict[bytes, Node] = {}
    for i in range(30):
        inner: dict[bytes, Node] = {
            b"f%d\xe9" % j: F(b"%d-%d\n" % (i, j) * (j + 1), 0o640 if j % 2 else 0o755, T + j)
            for j in range(i % 7)
        }
        if i % 4 == 0:
            inner[b"ln"] = L(b"f0\xe9", T + 5)
        folders[b"d%02d" % i] = D(inner, 0o755 if i % 3 else 0o700, T + 100 + i)
    return D({b"top": D(folders, 0o755, T + 2), b"x.txt": F(b"x\n", 0o644, T + 3)})


@pytest.mark.parametrize("how", ["processes", "threads", "alone"])
def test_a_restore_through_work_and_its_twin_is_the_same(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    kw: dict[str, Any] = {"threads": 0 if how == "alone" else 2, "processes": how == "processes"}
    calls: list[int] = []
    work = restore_write._work

    def counted(ready: list[Any], number: dict[int, int] | None) -> list[Any]:
        calls.append(len(ready))
        return work(ready, number)

    monkeypatch.setattr(restore_write, "_work", counted)
    if how != "processes":
        from git_snapshot.store import restorer

        monkeypatch.setattr(restorer, "_work", counted)
    c = restore(store, snap, tmp_path / "c", **kw)
    assert calls  # (the jobs went through _work)
    monkeypatch.setattr(restore_write, "_c_work", None)
    twin = restore(store, snap, tmp_path / "twin", **kw)
    want = scan(src)
    assert diff(want, scan(tmp_path / "c")) == []
    assert diff(want, scan(tmp_path / "twin")) == []
    if how == "processes":  # (writers answer in their own time: the order of the paths
        # made varies from one run to the next, of the same code too)
        c.created.sort()
        twin.created.sort()
    assert vars(c) == vars(twin)
    assert sorted(c.created) == sorted(want)
    assert os.listdir(tmp_path / "c") == os.listdir(tmp_path / "twin")
