"""A restore's per-file hand-out in C (_ctree), each against its Python twin: gather (a
folder made here split into its files for a writer's job, each located, and its folders:
restorer._gather_py) for any folder (a .git, symlinks, big and set-id files, contents the
locations lack or hold at another size, locations with only ``get``); in_storage_order
(sorted by location); share_out (restore_write._share_out_py: parts, loads, group owners);
nothing kept. And a whole restore through them names a file whose content the index
lacks, and a set-id one, as the one-entry way does."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from ctreehelp import keeps_nothing
from ctreehelp import native as _ctree
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import restore
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import restore_write
from git_snapshot.store import restorer
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry

WHOLE = 4 << 20
# (a build from before them: test_native_build names it stale)
needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "share_out"), reason="not in this build"
)
_KEYS = [bytes([i]) * 32 for i in range(6)]

_entry = st.builds(
    Entry,
    name=st.sampled_from([b"a", b"b.txt", b".git", b"c", b"d\xff", b"e"]),
    kind=st.sampled_from([FILE, FILE, FILE, DIR, SYMLINK]),
    mode=st.sampled_from([0o644, 0o755, 0o4755, 0o2755, 0o1777, 0o600]),
    mtime_ns=st.integers(0, 2**62),
    size=st.sampled_from([0, 1, 10, WHOLE, WHOLE + 1, 2**64 - 1]),
    ref=st.sampled_from(_KEYS),
)
_locs = st.dictionaries(
    st.sampled_from(_KEYS),
    st.tuples(
        st.just("p"), st.integers(0, 99), st.integers(1, 99), st.sampled_from([0, 1, 10, WHOLE])
    ).map(lambda t: (*t, -1)),
)


class _Get:
    """Locations with only get (restore_locs.Located's shape)."""

    def __init__(self, locs: dict[bytes, Any]) -> None:
        self.locs = locs

    def get(self, key: bytes) -> Any:
        return self.locs.get(key)


@needs_c
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(_entry, max_size=12), locs=_locs, wrapped=st.booleans())
def test_gather_c_gives_the_twins_answer(
    entries: list[Entry], locs: dict[bytes, Any], wrapped: bool
) -> None:
    folder = object()
    where: Any = _Get(locs) if wrapped else locs
    want = restorer._gather_py(entries, folder, b"x/", where, WHOLE)  # type: ignore[arg-type]
    got = _ctree.gather(entries, folder, b"x/", where, WHOLE)
    assert got == want
    if got is not None:
        assert want is not None
        same: list[tuple[Any, Any]] = list(zip(got[0], want[0]))
        assert all(a[0] is b[0] and a[1] is folder and a[2] is b[2] for a, b in same)
        assert type(got[3]) is bool


@needs_c
def test_gather_c_keeps_nothing_and_refuses_what_is_no_entry() -> None:
    e = Entry(b"f", FILE, 0o644, 0, 3, _KEYS[0])
    locs = {_KEYS[0]: ("p", 0, 5, 3, -1)}
    folder = object()
    watched = [e, locs, folder, _KEYS[0], locs[_KEYS[0]]]
    calls = [
        ([e, Entry(b"d", DIR, 0o755, 0, 0, _KEYS[1])], folder, b"x/", locs, WHOLE),
        ([e, Entry(b".git", DIR, 0o755, 0, 0, _KEYS[1])], folder, b"x/", locs, WHOLE),
        ([(b"f", FILE)], folder, b"x/", locs, WHOLE),  # (no Entry)
        ([e], folder, None, locs, WHOLE),  # (no path: located, then a TypeError)
    ]
    keeps_nothing(_ctree.gather, calls, watched)
    # through a Python get (and none): the references alone (its calls allocate frames)
    where = _Get(locs)
    before = [sys.getrefcount(x) for x in [*watched, where]]
    for _ in range(100):
        _ctree.gather([e], folder, b"x/", where, WHOLE)
        with contextlib.suppress(AttributeError):
            _ctree.gather([e], folder, b"x/", object(), WHOLE)
    assert [sys.getrefcount(x) for x in [*watched, where]] == before
    with pytest.raises(TypeError):
        _ctree.gather([(b"f", FILE)], folder, b"x/", locs, WHOLE)  # type: ignore[list-item]
    with pytest.raises(AttributeError):
        _ctree.gather([e], folder, b"x/", object(), WHOLE)


def test_whole_restore_names_a_missing_content_and_a_setid_file(
    store: Store, tmp_path: Path
) -> None:
    """Through _gather (a folder made here): a file whose content the index lacks is named
    damaged under its own path, everything else written; a set-uid file is written without
    the bit and named."""
    src = tmp_path / "src"
    tree: dict[bytes, Node] = {}
    for d in range(30):  # folders of a job's size or less: each gathered whole
        files: dict[bytes, Node] = {b"f%02d" % i: F(b"%d %d\n" % (d, i)) for i in range(20)}
        tree[b"d%02d" % d] = D(files)
    tree[b"d03"].children[b"run.sh"] = F(b"#!/bin/sh\n", mode=0o4755)  # type: ignore[union-attr]
    build(src, D({b"sub": D(tree)}))
    snap = take(store, "s", src)
    key = hashlib.sha256(b"7 5\n").digest()
    for table in store.index.tables():
        store.index.db.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
    out = tmp_path / "out"
    with pytest.raises(restorer.Damaged) as caught:
        restore(store, snap, out)
    report = caught.value.report
    assert report is not None
    assert [p for p, _ in report.damaged] == [b"sub/d07/f05"]
    assert not (out / "sub" / "d07" / "f05").exists()
    assert (out / "sub" / "d07" / "f06").read_bytes() == b"7 6\n"
    assert report.setid == [b"sub/d03/run.sh"]
    assert os.stat(out / "sub" / "d03" / "run.sh").st_mode & 0o7777 == 0o755
    made = sorted(p for p in report.created if b"/f" in p)
    assert made == [
        b"sub/d%02d/f%02d" % (d, i) for d in range(30) for i in range(20) if (d, i) != (7, 5)
    ]


_loc = st.one_of(
    st.tuples(
        st.sampled_from(["", "a", "b", "\u00e9", "ab"]),
        st.integers(0, 5),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(-1, 2),
    ),
    st.just(("p", 2**70, 0, 0, -1)),  # (beyond a C long long: the caller sorts)
)


@needs_c
@settings(max_examples=400)
@given(locs=st.lists(_loc, max_size=40))
def test_in_storage_order_c_sorts_as_the_twin(locs: list[Any]) -> None:
    """The same order as sorted(key=location), equal locations (one content twice) kept in
    their order; None only for a location C cannot hold."""
    items = [(loc, i, object(), b"") for i, loc in enumerate(locs)]
    got = _ctree.in_storage_order(items)
    if any(loc[1] >= 2**63 for loc in locs):
        assert got is None
        return
    assert got is not None
    want = restorer._in_storage_order_py(items)  # type: ignore[arg-type]
    assert [x[1] for x in got] == [x[1] for x in want]
    assert all(a is b for a, b in zip(got, want))


@needs_c
def test_in_storage_order_c_keeps_nothing() -> None:
    items = [(("p", 3, 1, 1, -1), 0, object(), b""), (("p", 1, 1, 1, -1), 1, object(), b"")]
    keeps_nothing(_ctree.in_storage_order, [(items,)], items)
    assert _ctree.in_storage_order([("not a location",)]) is None
    with pytest.raises(TypeError):
        _ctree.in_storage_order(())  # type: ignore[arg-type]


_share_loc = st.one_of(
    st.just(restore_write._NOWHERE),
    st.tuples(
        st.sampled_from(["p", "q"]),
        st.integers(0, 4),
        st.integers(1, 9),
        st.integers(0, 9000),
        st.integers(-1, 3),
    ),
)


@needs_c
@settings(max_examples=400)
@given(
    locs=st.lists(_share_loc, max_size=40),
    load=st.lists(st.integers(0, 50_000), min_size=1, max_size=4),
    owned=st.dictionaries(
        st.tuples(st.sampled_from(["p", "q"]), st.integers(0, 4)), st.integers(0, 3)
    ),
)
def test_share_out_c_splits_as_the_twin(
    locs: list[Any], load: list[int], owned: dict[tuple[str, int], int]
) -> None:
    """_ctree.share_out: the same parts, loads and group owners as restore_write's Python
    loop, for jobs in storage order and not (a group's members apart), any writers."""
    owned = {key: k % len(load) for key, k in owned.items()}
    items = [(loc, i, object(), b"") for i, loc in enumerate(locs)]
    want_load, want_owner = list(load), dict(owned)
    want = restore_write._share_out_py(items, want_load, want_owner)  # type: ignore[arg-type]
    got_load, got_owner = list(load), dict(owned)
    got = _ctree.share_out(
        items, got_load, got_owner, restore_write._NOWHERE, restore_write.FILE_COST
    )
    assert got is not None  # (None: locations C does not hold, the twin runs)
    assert [[x[1] for x in part] for part in got] == [[x[1] for x in part] for part in want]
    assert (got_load, got_owner) == (want_load, want_owner)


@needs_c
def test_share_out_c_keeps_nothing() -> None:
    items = [(("p", 3, 1, 100, 0), 0, object(), b""), (("p", 1, 1, 7, -1), 1, object(), b"")]
    calls: list[tuple[Any, ...]] = [(items, [0, 0], {}, restore_write._NOWHERE, 10)]
    keeps_nothing(_ctree.share_out, calls, [*items, restore_write._NOWHERE])


# gather: each item's path is rel + its name (the twin's +), joined in C for two exact bytes,
# by the + of what they are otherwise (a subclass's own, an error)
class _Rel(bytes):
    def __add__(self, other: Any) -> Any:
        return b"sub:" + bytes(self) + other


class _Name(bytes):
    def __radd__(self, other: Any) -> Any:  # (b"x/" + it: this, not bytes' join)
        return bytes(other) + b"+" + bytes(self)


@needs_c
@pytest.mark.parametrize("rel", [b"x/", b"", _Rel(b"y/"), "s/", None], ids=repr)
def test_gather_c_makes_each_items_path_as_the_twin(rel: Any) -> None:
    from ctreehelp import outcome

    key, t = b"k" * 32, 1_600_000_000_123_456_789
    entries = [
        Entry(b"a", FILE, 0o644, t, 3, key),
        Entry(b"d", DIR, 0o755, t, 0, b"d" * 32),
        Entry(_Name(b"f"), FILE, 0o644, t, 3, key),
    ]
    locs = {key: ("p", 0, 5, 3, -1)}
    want = outcome(restorer._gather_py, (entries, None, rel, locs, 1 << 20))
    got = outcome(_ctree.gather, (entries, None, rel, locs, 1 << 20))
    assert got == want
    if isinstance(want, tuple):
        assert [type(i[3]) for i in got[0]] == [type(i[3]) for i in want[0]]
