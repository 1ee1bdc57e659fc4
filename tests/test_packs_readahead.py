"""A first snapshot reads and hashes its small files in threads ahead of the walk
(archiver._ReadAhead, with READ_AHEAD_CORES cores or more): the snapshot is the one the walk
alone takes, byte for byte."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import D
from storehelpers import F
from storehelpers import L
from storehelpers import Seen
from storehelpers import build
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents

from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import reading
from git_snapshot.store import walker
from git_snapshot.store.archiver import create_snapshot
from git_snapshot.store.objects import CHANGED_WHILE_READ

names = st.sampled_from([b"a", b"b.js", b"c", b"d.md", b"e", b"f.map", b"g", b"h"])
contents = st.one_of(
    st.binary(max_size=300),
    st.integers(min_value=0, max_value=200_000).map(lambda n: (b"x%d\n" % n) * (n // 7)),
)


def _trees(depth: int) -> st.SearchStrategy[D]:
    leaf = st.one_of(
        contents.map(lambda b: F(b)),
        contents.map(lambda b: F(b, mode=0o755)),
        st.sampled_from([b"a", b"../x", b"d.md"]).map(lambda t: L(t)),
    )
    child = leaf if depth == 0 else st.one_of(leaf, leaf, _trees(depth - 1))
    return st.dictionaries(names, child, max_size=8).map(lambda c: D(dict(c)))


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "git-snapshot-zstd"]


@pytest.fixture(autouse=True)
def _reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Read ahead whatever the machine's cores, and note what the threads read."""
    monkeypatch.setattr(walker, "READ_AHEAD_CORES", 1)
    seen: list[bytes] = []
    real = reading._read_ahead

    def read(path: bytes) -> object:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(reading, "_read_ahead", read)
    return seen


def _first(store_dir: str, tree: str) -> tuple[bytes, dict[bytes, Seen]]:
    with Store(store_dir) as s:
        r = create_snapshot(s, "t", tree)
        assert r.new
        return r.snapshot.root, snapshot_contents(s, r.snapshot)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spec=_trees(2),
    limits=st.sampled_from([(1, 1), (3, 50_000), (64, 8 << 20)]),
)
def test_first_snapshot_read_ahead_is_the_walk_s_own(
    spec: D, limits: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tempfile.mkdtemp(dir=tmp_path)
    tree = os.path.join(base, "tree")
    build(tree, spec)
    on_disk = scan(tree)
    monkeypatch.setattr(archiver._ReadAhead, "FILES", limits[0])
    monkeypatch.setattr(archiver._ReadAhead, "BYTES", limits[1])
    root, held = _first(os.path.join(base, "ahead"), tree)
    assert held == on_disk
    monkeypatch.setattr(archiver._ReadAhead, "FILES", 0)  # nothing read ahead
    root_alone, _ = _first(os.path.join(base, "alone"), tree)
    assert root == root_alone
    assert _threads() == []


def test_read_ahead_of_many_files_restores_and_leaves_no_thread(
    tmp_path: Path, _reads: list[bytes]
) -> None:
    """More files and bytes in one folder than the threads may hold, and nested folders."""
    spec = D(
        {
            b"big": D({b"f%03d" % i: F(os.urandom(100_000 + i)) for i in range(100)}),
            b"small": D({b"f%03d" % i: F(b"%d\n" % i * i) for i in range(300)}),
            b"nest": D({b"a": F(b"1"), b"b": D({b"c": F(b"2"), b"d": D({b"e": F(b"3")})})}),
        }
    )
    build(tmp_path / "tree", spec)
    with Store(tmp_path / "store") as s:
        snap = create_snapshot(s, "t", str(tmp_path / "tree")).snapshot
        assert _threads() == []
        restore(s, snap, tmp_path / "back")
    assert scan(tmp_path / "back") == scan(tmp_path / "tree")
    assert len(set(_reads)) > 300  # the threads did read (most of) them


def test_no_read_ahead_with_fewer_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _reads: list[bytes]
) -> None:
    monkeypatch.setattr(walker, "READ_AHEAD_CORES", 4096)
    build(tmp_path / "tree", D({b"f%d" % i: F(b"%d" % i) for i in range(50)}))
    with Store(tmp_path / "store") as s:
        create_snapshot(s, "t", str(tmp_path / "tree"))
    assert _reads == []


def test_read_ahead_gives_nothing_for_what_the_walk_must_read_itself(tmp_path: Path) -> None:
    """A fifo, a symlink, a vanished file or one too big to read whole: the thread gives
    nothing, so the walk reads it itself and decides as before."""
    (tmp_path / "file").write_bytes(b"content")
    os.mkfifo(tmp_path / "fifo")
    os.symlink("file", tmp_path / "link")
    (tmp_path / "big").write_bytes(b"x" * (archiver.SMALL_FILE + 1))
    got = reading._read_ahead(os.fsencode(tmp_path / "file"))
    assert got is not None and got[1] == b"content" and got[0].st_size == 7
    assert got[2] == hashlib.sha256(b"content").digest() and got[3]
    for name in ("fifo", "big", "link", "gone"):
        assert reading._read_ahead(os.fsencode(tmp_path / name)) is None, name
    ahead = archiver._ReadAhead(2)
    try:
        paths = [os.fsencode(tmp_path / n) for n in ("file", "fifo", "link", "gone")]
        ahead.push([(p, 7) for p in paths])
        assert ahead.take(paths[0]) is not None
        assert [ahead.take(p) for p in paths[1:]] == [None, None, None]
        assert ahead.take(paths[0]) is None  # taken once
        ahead.pop()
    finally:
        ahead.close()
    assert _threads() == []


def test_a_file_changing_while_read_ahead_is_tried_as_often_as_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The thread's read is the walk's first try: a file that grows at every read is opened
    READ_TRIES times in all, stored as last read and flagged, as without read-ahead."""
    build(tmp_path / "tree", D({b"log": F(b"x" * 500)}))
    target = os.fsencode(os.path.realpath(tmp_path / "tree" / "log"))
    real_open, real_read = os.open, os.read
    opens: list[bytes] = []

    def counting_open(path: Any, *args: Any, **kw: Any) -> int:
        if os.fsencode(path) == target:
            opens.append(target)
        return real_open(path, *args, **kw)

    def growing_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        if len(data) < n and os.readlink(b"/proc/self/fd/%d" % fd) == target:
            with open(target, "ab") as f:
                f.write(b"+")
        return data

    monkeypatch.setattr(os, "open", counting_open)
    monkeypatch.setattr(os, "read", growing_read)
    with Store(tmp_path / "store") as s:
        snap = create_snapshot(s, "t", str(tmp_path / "tree")).snapshot
        monkeypatch.undo()
        (e,) = [e for rel, e in s.walk(snap.root) if rel == b"log"]
        assert e.flags & CHANGED_WHILE_READ
        assert b"".join(s.stream_blob(e.ref)) == b"x" * 500 + b"++"
    assert len(opens) == walker.READ_TRIES


def _records(store_dir: str, tree: str) -> dict[bytes, bytes]:
    from git_snapshot.store import filescache

    with Store(store_dir) as s:
        path = filescache.cache_path(s.cache_dir, "t", os.path.abspath(tree))
        cache = filescache.load(path, s.index.meta_get("generation", "0"), s.index.has_root)
    return {k: bytes(v) for k, v in cache.dirs.items()}


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=_trees(2))
def test_a_file_read_inline_is_stored_and_cached_as_by_the_general_path(
    spec: D, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without read-ahead or exclusions, tree() reads a regular file itself (inline, no
    Entry); with an exclude function it goes through _entry: the same trees, contents and
    files-cache records (what each file's stat and key teach the next walk)."""
    monkeypatch.setattr(walker, "READ_AHEAD_CORES", 4096)
    monkeypatch.setattr(walker, "RACY_NS", 0)  # files made just now are cached too
    base = tempfile.mkdtemp(dir=tmp_path)
    tree = os.path.join(base, "tree")
    build(tree, spec)
    calls: list[bytes] = []
    real = archiver._Walker._entry

    def entry(self: Any, path: bytes, *args: Any, **kw: Any) -> Any:
        calls.append(path)
        return real(self, path, *args, **kw)

    monkeypatch.setattr(archiver._Walker, "_entry", entry)
    root, held = _first(os.path.join(base, "inline"), tree)
    assert held == scan(tree)
    inline_calls = len(calls)
    with Store(os.path.join(base, "general")) as s:
        opts = archiver.Options(exclude=lambda rel, is_dir: False)
        r = create_snapshot(s, "t", tree, options=opts)
    assert r.snapshot.root == root
    general = _records(os.path.join(base, "general"), tree)
    assert _records(os.path.join(base, "inline"), tree) == general
    kinds = [seen.kind for seen in held.values()]
    assert inline_calls == kinds.count("link")  # files read inline, links by _entry
    assert len(calls) - inline_calls == kinds.count("link") + kinds.count("file")
