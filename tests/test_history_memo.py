"""find, log and diff, which memoize by tree key and keep deltas in the store's cache, against
plain walks of every snapshot: they must give exactly what a walk gives, across snapshots
that share subtrees, paths that change type, vanish and come back, and a damaged cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import Crafter

from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import deltas
from git_snapshot.store import history
from git_snapshot.store import validate
from git_snapshot.store.diff import Change
from git_snapshot.store.diff import diff_trees
from git_snapshot.store.history import APPEARED
from git_snapshot.store.history import CHANGED
from git_snapshot.store.history import VANISHED
from git_snapshot.store.history import Match
from git_snapshot.store.history import Trees
from git_snapshot.store.history import _plainly_safe
from git_snapshot.store.history import find
from git_snapshot.store.history import root_entry
from git_snapshot.store.history import versions
from git_snapshot.store.index import Location
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry

# A tree spec: name -> ("f", content, mode, mtime) | ("l", target) | ("d", spec)
Spec = dict[bytes, tuple]  # type: ignore[type-arg]

NAMES = [b"a", b"b", b"lib", b"x.js"]
_leaf = st.one_of(
    st.tuples(
        st.just("f"),
        st.sampled_from([b"", b"one", b"two"]),
        st.sampled_from([0o644, 0o755]),
        st.sampled_from([10**18, 2 * 10**18]),  # a new mtime alone is no new content
    ),
    st.tuples(st.just("l"), st.sampled_from([b"a", b"../x"])),
)
_spec = st.recursive(
    st.dictionaries(st.sampled_from(NAMES), _leaf, max_size=3),
    lambda kids: st.dictionaries(
        st.sampled_from(NAMES), st.one_of(_leaf, st.tuples(st.just("d"), kids)), max_size=4
    ),
    max_leaves=12,
)


def _entries(c: Crafter, spec: Spec) -> list[Entry]:
    out = []
    for name in sorted(spec):
        kind, *rest = spec[name]
        if kind == "f":
            out.append(c.file(name, rest[0], mode=rest[1], mtime_ns=rest[2]))
        elif kind == "l":
            out.append(c.link(name, rest[0]))
        else:
            out.append(c.dir(name, _entries(c, rest[0])))
    return out


def _commit(store: Store, specs: list[Spec]) -> list[Snapshot]:
    c = Crafter(store)
    return [c.commit("src", _entries(c, spec)) for spec in specs]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store") as s:
        yield s


def _state(e: Entry | None) -> tuple[int, int, bytes] | None:
    return None if e is None else (e.kind, e.mode, e.ref)


def _walked_find(store: Store, snaps: list[Snapshot], match: Match) -> list[tuple]:  # type: ignore[type-arg]
    """find as a plain walk of every snapshot gives it (no memo, no cache)."""
    runs: dict[bytes, list[tuple[Entry, list[int]]]] = {}
    previous: set[bytes] = set()
    for s in snaps:
        here = set()
        for path, e in store.walk(s.root):
            if not match(path, e):
                continue
            here.add(path)
            mine = runs.setdefault(path, [])
            if mine and path in previous and _state(mine[-1][0]) == _state(e):
                mine[-1][1].append(s.id)
            else:
                mine.append((e, [s.id]))
        previous = here
    return [(p, e, ids) for p in sorted(runs) for e, ids in runs[p]]


def _found(store: Store, snaps: list[Snapshot], match: Match, by_path: bool = False) -> list[tuple]:  # type: ignore[type-arg]
    runs = find(store, snaps, match, by_path=by_path)
    return [(r.path, r.entry, [s.id for s in r.snapshots]) for r in runs]


def _walked_versions(store: Store, snaps: list[Snapshot], path: bytes) -> list[tuple]:  # type: ignore[type-arg]
    out: list[tuple[Any, ...]] = []
    last: object = None
    for s in snaps:
        flat = dict(store.walk(s.root))
        e = flat.get(path) if path else root_entry(s.root)
        state = _held(flat, path, e)
        if state == last:
            continue
        if e is None:
            out.append((s.id, VANISHED, None, 0, 0))
        else:
            below = [x for p, x in flat.items() if not path or p.startswith(path + b"/")]
            files = [x for x in below if x.kind == FILE]
            # a link's size: its target's length (RED34 C4); a folder's: its files'
            size = sum(x.size for x in files) if e.kind == DIR else e.size
            count = len(files) if e.kind == DIR else int(e.kind == FILE)
            out.append((s.id, CHANGED if last is not None else APPEARED, e, count, size))
        last = state
    return out


def _held(flat: dict[bytes, Entry], path: bytes, e: Entry | None) -> object:
    """What makes two versions of *path* differ, as diff sees them: a file's kind, mode and
    content; a folder's, its mode and every path below it with its kind, mode (a folder's
    too: RED34 C2) and a file's content (never an mtime: its tree key changes with one,
    RED32 B7)."""
    if e is None or e.kind != DIR:
        return _state(e)
    pre = path + b"/" if path else b""
    return e.mode, sorted(
        (p, x.kind, x.mode, b"") if x.kind == DIR else (p, x.kind, x.mode, x.ref)
        for p, x in flat.items()
        if p.startswith(pre)
    )


def _walked_diff(store: Store, a: bytes, b: bytes) -> list[tuple]:  # type: ignore[type-arg]
    old, new = dict(store.walk(a)), dict(store.walk(b))
    out: list[tuple[Any, ...]] = []
    for p in old.keys() | new.keys():
        o, n = old.get(p), new.get(p)
        if o is not None and n is not None and o.kind != n.kind and DIR not in (o.kind, n.kind):
            out.append((p, "type", o, n))  # a file and a symlink: git's T
            continue
        if o is not None and (n is None or o.kind != n.kind):
            out.append((p, "deleted", o, None))
        if n is not None and (o is None or o.kind != n.kind):
            out.append((p, "added", None, n))
        if o is None or n is None or o.kind != n.kind:
            continue
        if o.kind == DIR:
            if o.mode != n.mode:  # a folder's mode (RED34 C2)
                out.append((p, "mode", o, n))
            continue
        if o.ref != n.ref:
            out.append((p, "modified", o, n))
        elif o.mode != n.mode:
            out.append((p, "mode", o, n))
    return sorted(out)


def _changes(changes: list[Change]) -> list[tuple]:  # type: ignore[type-arg]
    return sorted((c.path, c.status, c.old, c.new) for c in changes)


MATCHERS: list[Match] = [
    lambda path, e: True,
    lambda path, e: e.name == b"a",
    lambda path, e: path.endswith(b"/x.js"),
    lambda path, e: e.kind == DIR,
]


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=st.lists(_spec, min_size=1, max_size=6), again=st.booleans())
@example(  # a file's mtime alone changed: the top folder's key did, what it holds not
    specs=[
        {b"a": ("f", b"", 0o644, 10**18), b"lib": ("l", b"../x")},
        {b"a": ("f", b"", 0o644, 2 * 10**18), b"lib": ("l", b"../x")},
    ],
    again=False,
)
@example(  # two identical pairs of folders in one level of a delta (a CI run found it)
    specs=[
        {b"a": ("d", {}), b"x.js": ("d", {})},
        {
            b"b": ("l", b"a"),
            b"x.js": ("d", {b"a": ("l", b"a")}),
            b"a": ("d", {b"a": ("l", b"a")}),
        },
    ],
    again=False,
)
def test_find_log_and_diff_give_what_a_walk_of_every_snapshot_gives(
    specs: list[Spec], again: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp, Store(os.path.join(tmp, "store")) as store:
        if again:  # the first history once more: roots and subtrees already seen come back
            specs = specs + specs[:2]
        snaps = _commit(store, specs)
        for _ in range(2):  # deltas computed, then read back from the cache
            for n, match in enumerate(MATCHERS):
                want = _walked_find(store, snaps, match)
                assert _found(store, snaps, match) == want
                if n < 3:  # these look at the path alone
                    assert _found(store, snaps, match, by_path=True) == want
        paths = {b""} | {p for s in snaps for p, _ in store.walk(s.root)}
        for path in sorted(paths):
            got = [
                (v.snapshot.id, v.status, v.entry, v.files, v.size)
                for v in versions(store, snaps, path)
            ]
            assert got == _walked_versions(store, snaps, path), path
        for old, new in zip(snaps, snaps[1:] + snaps[:1]):
            assert _changes(diff_trees(store, old.root, new.root)) == _walked_diff(
                store, old.root, new.root
            )


def _shared_history(store: Store) -> list[Snapshot]:
    """lib/ is the same tree in snapshots 1, 3 and 5 and differs in 2 and 4; x.js turns from
    a file into a folder and back; b vanishes and comes back with other content."""
    c = Crafter(store)
    lib = [c.file(b"a", b"lib a"), c.dir(b"deep", [c.file(b"a", b"deep a")])]
    lib2 = [c.file(b"a", b"lib a, edited"), c.dir(b"deep", [c.file(b"a", b"deep a")])]
    js_dir = c.dir(b"x.js", [c.file(b"a", b"inside")])
    roots = [
        [c.file(b"b", b"1"), c.dir(b"lib", lib), c.file(b"x.js", b"js")],
        [c.dir(b"lib", lib2), js_dir],
        [c.file(b"b", b"2"), c.dir(b"lib", lib), c.file(b"x.js", b"js")],
        [c.file(b"b", b"2"), c.dir(b"lib", lib2), js_dir],
        [c.file(b"b", b"2"), c.dir(b"lib", lib), c.file(b"x.js", b"js")],
    ]
    return [c.commit("src", r) for r in roots]


def test_find_across_snapshots_sharing_subtrees(store: Store) -> None:
    snaps = _shared_history(store)
    ids = [s.id for s in snaps]
    got = [
        (r.path, [s.id for s in r.snapshots])
        for r in find(store, snaps, lambda p, e: e.name == b"a")
    ]
    assert got == [
        (b"lib/a", [ids[0]]),
        (b"lib/a", [ids[1]]),
        (b"lib/a", [ids[2]]),
        (b"lib/a", [ids[3]]),
        (b"lib/a", [ids[4]]),
        (b"lib/deep/a", ids),  # one tree key all along: one run
        (b"x.js/a", [ids[1]]),
        (b"x.js/a", [ids[3]]),
    ]
    assert _found(store, snaps, lambda p, e: True) == _walked_find(store, snaps, lambda p, e: True)


def test_log_of_a_path_that_changes_type_vanishes_and_comes_back(store: Store) -> None:
    snaps = _shared_history(store)
    ids = [s.id for s in snaps]
    kinds = [
        (v.snapshot.id, v.status, v.entry.kind if v.entry else None)
        for v in versions(store, snaps, b"x.js")
    ]
    assert kinds == [(ids[i], CHANGED if i else APPEARED, DIR if i % 2 else FILE) for i in range(5)]
    got = [(v.snapshot.id, v.status) for v in versions(store, snaps, b"b")]
    assert got == [(ids[0], APPEARED), (ids[1], VANISHED), (ids[2], APPEARED)]
    assert [v.status for v in versions(store, snaps, b"x.js/a")] == [
        APPEARED,
        VANISHED,
        APPEARED,
        VANISHED,
    ]


def test_find_reads_each_tree_once_then_none_from_the_cache(store: Store) -> None:
    snaps = _shared_history(store)
    reads: list[bytes] = []
    original = store.read_object

    def counting(key: bytes, loc: Location | None = None) -> bytes:
        reads.append(key)
        return original(key, loc)

    store.read_object = counting  # type: ignore[method-assign]
    first = _found(store, snaps, lambda p, e: True)
    assert reads and len(reads) == len(set(reads))
    reads.clear()
    assert _found(store, snaps, lambda p, e: True) == first
    assert reads == []  # every delta came from the cache


def _cache_files(store: Store) -> list[str]:
    top = os.path.join(store.cache_dir, "deltas")
    return [os.path.join(d, f) for d, _, files in os.walk(top) for f in files]


def _crafted(store: Store, a: bytes, b: bytes) -> bytes:
    """A delta file whose checksum holds but whose entries are not a list of the paths'."""
    import marshal

    import zstandard

    d = deltas.load(store, a, b)
    assert d is not None
    inner = marshal.dumps((a, b, d.paths, marshal.dumps([None])))
    payload = zstandard.ZstdCompressor().compress(inner)
    return deltas.MAGIC + hashlib.sha256(payload).digest() + payload


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap", "empty", "entries"])
def test_a_damaged_cache_is_computed_again(store: Store, damage: str) -> None:
    snaps = _shared_history(store)
    want = _walked_find(store, snaps, lambda p, e: True)
    assert _found(store, snaps, lambda p, e: True) == want
    files = sorted(_cache_files(store))
    assert len(files) == len(snaps)
    for i, path in enumerate(files):
        data = Path(path).read_bytes()
        if damage == "flip":
            data = data[:-1] + bytes([data[-1] ^ 1])
        elif damage == "truncate":
            data = data[: len(data) // 2]
        elif damage == "swap":  # a whole, valid delta of other snapshots, under this name
            data = Path(files[(i + 1) % len(files)]).read_bytes()
        elif damage == "empty":
            data = b""
        Path(path).write_bytes(data)
    if damage == "entries":
        a = b""
        for s in snaps:
            if a != s.root:
                Path(deltas._path(store, a, s.root)).write_bytes(_crafted(store, a, s.root))
            a = s.root
        named_a = [w for w in want if w[0].rpartition(b"/")[2] == b"a"]
        assert _found(store, snaps, lambda p, e: e.name == b"a", True) == named_a
    assert _found(store, snaps, lambda p, e: True) == want
    # and the damaged files were replaced by good ones
    a = b""
    for s in snaps:
        if a != s.root:
            assert deltas.load(store, a, s.root) is not None
        a = s.root


def test_the_cache_is_optional(store: Store) -> None:
    """A store whose cache cannot be written (a file where its folder goes) still finds."""
    snaps = _shared_history(store)
    os.makedirs(store.cache_dir, exist_ok=True)
    Path(store.cache_dir, "deltas").write_bytes(b"not a folder")
    want = _walked_find(store, snaps, lambda p, e: True)
    assert _found(store, snaps, lambda p, e: True) == want
    got = Trees(store).cached_delta(b"", snaps[0].root)
    want = Trees(store).delta(b"", snaps[0].root)
    assert (got.paths, got.fields()) == ([p for p, _ in want], [f for _, f in want])


_names = st.one_of(
    st.sampled_from([b"a", b"b", b"c", b"", b".", b"..", b"a/b", b"a\0", b"x" * 256, b"x" * 255]),
    st.binary(min_size=0, max_size=4),
)
_raw_entry = st.builds(
    Entry,
    name=_names,
    kind=st.sampled_from([FILE, DIR, SYMLINK, 0, 9]),
    mode=st.sampled_from([0o644, 0o755, 0o7777, 0o10000, -1]),
    mtime_ns=st.just(0),
    size=st.integers(0, 40),
    ref=st.one_of(st.binary(min_size=32, max_size=32), st.binary(max_size=40)),
)


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(_raw_entry, max_size=5), sort=st.booleans())
def test_the_fast_tree_check_agrees_with_validate(entries: list[Entry], sort: bool) -> None:
    """history reads trees with a quick whole-list check; a tree it passes must be one that
    validate finds nothing wrong with, and the other way round."""
    if sort:
        entries = sorted(entries)
    assert _plainly_safe(entries) == (not validate.tree_problems(entries))


def test_sweep_keeps_the_deltas_find_uses(store: Store) -> None:
    snaps = _shared_history(store)
    want = _found(store, snaps, lambda p, e: True)
    assert deltas.sweep(store) == 0  # all in use
    store.forget(snaps[1:2])  # 1 -> 3 is new; 1 -> 2 and 2 -> 3 are of no use now
    left = [s for s in store.snapshots() if s.source == "src"]
    _found(store, left, lambda p, e: True)
    assert deltas.sweep(store) == 2
    assert len(_cache_files(store)) == len(left)
    assert _found(store, snaps, lambda p, e: True) == want  # a sweep never changes an answer


def test_gc_sweeps_the_deltas_of_forgotten_snapshots(store: Store) -> None:
    from git_snapshot.store.gc import gc

    snaps = _shared_history(store)
    _found(store, snaps, lambda p, e: True)
    gone = [deltas._path(store, snaps[0].root, snaps[1].root)]
    gone.append(deltas._path(store, snaps[1].root, snaps[2].root))
    assert all(os.path.exists(p) for p in gone)
    store.forget(snaps[1:2])
    gc(store)
    assert not any(os.path.exists(p) for p in gone)
    assert len(_cache_files(store)) == len(snaps) - 2  # the others are still find's


def test_find_reports_progress_only_while_it_computes_deltas(store: Store) -> None:
    snaps = _shared_history(store)
    calls: list[tuple[int, int]] = []
    first = find(store, snaps, lambda p, e: True, progress=lambda *a: calls.append(a))
    assert calls == [(i, len(snaps)) for i in range(1, len(snaps) + 1)]
    calls.clear()
    assert find(store, snaps, lambda p, e: True, progress=lambda *a: calls.append(a)) == first
    assert calls == []  # every delta from the cache: nothing to wait for


def test_warm_deltas_leaves_a_first_find_nothing_to_compute(store: Store) -> None:
    snaps = _shared_history(store)
    source = snaps[0].source
    assert history.warm_deltas(store, source, most=2) == 2  # bounded: the newest first
    assert deltas.cached(store, snaps[-2].root, snaps[-1].root)
    assert not deltas.cached(store, b"", snaps[0].root)
    left = len(snaps) - 2
    assert history.warm_deltas(store, source) == left
    assert history.warm_deltas(store, source) == 0  # nothing left to do
    calls: list[tuple[int, int]] = []
    warmed = find(store, snaps, lambda p, e: True, progress=lambda *a: calls.append(a))
    assert calls == []  # every delta read, none computed
    shutil.rmtree(os.path.join(store.cache_dir, "deltas"))
    assert find(store, snaps, lambda p, e: True) == warmed  # the same answer computed afresh
