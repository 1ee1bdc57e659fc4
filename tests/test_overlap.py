"""Two snapshots of one watched worktree that overlap: both read the dirty set against base X,
one (A) commits first, the other (B) after it. B is then the store's newest snapshot of the
worktree: it must never hold, for a file A saw written, the version before (a later loss
report against B would name that older version). B is rebuilt from X with its marks widened
by what differs between X and A (store/overlap.py); a full walk keeps no folder as clean since
X. Real git, real files, the real daemon lock; the daemon's marking is played by the test
(test_watch_dirtyset.Daemon)."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clihelpers import git
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import Seen
from storehelpers import snapshot_contents
from test_watch_dirtyset import OPS
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _apply
from test_watch_dirtyset import _full
from test_watch_dirtyset import _make_tree
from test_watch_dirtyset import _on_disk
from test_watch_dirtyset import _same
from test_watch_dirtyset import watched  # noqa: F401  (the fixture)

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Store
from git_snapshot.store import archiver
from git_snapshot.store import walker
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.watch import dirtyset


@pytest.fixture(autouse=True)
def no_racy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders written a moment ago may be kept from the files cache, as on a real machine a
    second later (the overlap needs no more than that)."""
    monkeypatch.setattr(walker, "RACY_NS", 0)


def _take(store: Store, top: Path) -> Any:
    return worktree.take(store, gitrepo.find_repo(str(top)), trigger="watch")


def _meanwhile(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> None:
    """The next create_snapshot (its snapshot has read the dirty set) first runs *then*:
    another snapshot of the worktree commits before it takes the store's lock."""
    real = archiver.create_snapshot
    pending = [then]

    def create_snapshot(*args: Any, **kwargs: Any) -> Any:
        if pending:
            pending.pop()()
        return real(*args, **kwargs)

    monkeypatch.setattr(archiver, "create_snapshot", create_snapshot)


def test_a_snapshot_committed_after_an_overlapping_one_is_not_older(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B read the marks (one file of a/b/c written), then e/f1.txt was written in place
    (its folder's own times do not move) and A, a watch snapshot, committed it; B, committed
    after A, held e/f1.txt as base X had it: the newest snapshot older than A there (B's full
    walk kept e whole from the files cache, saved with X, as 'clean since X')."""
    store, top, daemon = watched
    x = _take(store, top).snapshot  # the epoch's first, a full walk (the files cache is X's)
    (top / "a/b/c/f0.txt").write_text("B's change\n")
    daemon.entries(top / "a/b/c/f0.txt")
    first: list[Any] = []

    def a_commits() -> None:
        (top / "e/f1.txt").write_text("written after B read the marks\n")
        daemon.entries(top / "e/f1.txt")
        first.append(_take(store, top).snapshot)

    _meanwhile(monkeypatch, a_commits)
    res = _take(store, top)
    b = res.snapshot
    (a,) = first
    assert a.id < b.id
    assert res.base == x.root  # rebuilt from X, not walked (store/overlap.py)
    held = snapshot_contents(store, b)
    assert held[b"e/f1.txt"].data == b"written after B read the marks\n"
    assert held == snapshot_contents(store, a)  # nothing else changed
    assert _same(b) == _same(_full(top, tmp_path / "x"))
    c = _take(store, top).snapshot  # the next one, from the dirty set's base
    assert _same(c) == _same(_full(top, tmp_path / "y"))
    assert snapshot_contents(store, c) == _on_disk(top)


def _counts(store: Store, snap: Any) -> tuple[int, int]:
    """Files (all but folders) and bytes of files in *snap*'s tree, counted from it."""
    files = nbytes = 0
    for _, e in store.walk(snap.root):
        if e.kind != DIR:
            files += 1
            nbytes += e.size if e.kind == FILE else 0
    return files, nbytes


def _values(contents: dict[bytes, Seen], left_out: list[bytes]) -> dict[bytes, Seen]:
    """Files, links and the rest (not folders: their times move with any change), but what
    a snapshot left out (fifos, cache folders)."""
    return {
        k: v
        for k, v in contents.items()
        if v.kind != "dir" and not any(k == p or k.startswith(p + b"/") for p in left_out)
    }


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(before=OPS, between=OPS, after=OPS, a_first=st.booleans())
@example(  # a fifo made while B rebuilt: the skipped path of the snapshot after both
    before=[("create", 0, 0, "y", False)],
    between=[("create", 0, 0, "y", False), ("special", 0, 0, "x", False)],
    after=[("create", 0, 0, "x", False)],
    a_first=True,
)
@example(
    before=[("modify", 0, 3, "x", False)],
    between=[("modify", 3, 7, "x", False)],
    after=[("create", 2, 5, "y", False)],
    a_first=True,
)
def test_random_overlapping_pairs(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    before: list[tuple[str, int, int, str, bool]],
    between: list[tuple[str, int, int, str, bool]],
    after: list[tuple[str, int, int, str, bool]],
    a_first: bool,
) -> None:
    """B reads the marks of *before*; *between* is made and A reads its marks; one of them
    commits, *after* is made, the other commits. A committed first holds the whole tree it
    saw (the full walk's); the one committed last holds, for every file, what the first
    one held or what the disk holds; the next snapshot is the full walk's."""
    store, _, _ = watched
    top = Path(tempfile.mkdtemp(prefix="ex", dir=tmp_path))
    git(top, "init", "-q")
    _make_tree(top)
    dirtyset.watching(store.path, str(top))
    daemon = Daemon(store, top)
    _take(store, top)  # X, the base both read the marks against

    def edits(ops: list[tuple[str, int, int, str, bool]]) -> None:
        for op, i, j, name, by_folder in ops:
            _apply(top, daemon, op, i, j, name, by_folder)

    edits(before)
    real = archiver.create_snapshot
    calls: list[int] = []
    got: dict[str, Any] = {}

    def create_snapshot(*args: Any, **kwargs: Any) -> Any:
        if args[0] is not store:  # (a full walk into the other store)
            return real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:  # B's: it has read the marks of *before*
            edits(between)
            if a_first:
                got["a"] = _take(store, top).snapshot  # A reads the marks and commits
                assert _same(got["a"]) == _same(_full(top, tmp_path / "a"))
                edits(after)
                return real(*args, **kwargs)
            got["b_args"] = (args, kwargs)
            got["a"] = _take(store, top).snapshot  # A reads the marks, B commits, then A
            return got["b"]
        if len(calls) == 2 and not a_first:  # A's, B not yet committed
            args_b, kwargs_b = got["b_args"]
            got["b"] = real(*args_b, **kwargs_b)
            edits(after)
        return real(*args, **kwargs)

    archiver.create_snapshot = create_snapshot
    try:
        b = _take(store, top).snapshot
    finally:
        archiver.create_snapshot = real
    a = got["a"]
    first, last = (a, b) if a_first else (b, a)
    assert first.id < last.id
    for snap in (first, last):
        assert (snap.files, snap.bytes) == _counts(store, snap)
    left_out = [os.fsencode(p) for p, _ in last.meta["skipped_paths"]]
    held = _values(snapshot_contents(store, last), left_out)
    earlier = _values(snapshot_contents(store, first), left_out)
    disk = _values(_on_disk(top), left_out)
    for p in held.keys() | earlier.keys() | disk.keys():
        assert held.get(p) in (earlier.get(p), disk.get(p)), p
    c = _take(store, top).snapshot
    assert _same(c) == _same(_full(top, tmp_path / "c"))
    left_out = [os.fsencode(p) for p, _ in c.meta["skipped_paths"]]
    assert _values(snapshot_contents(store, c), left_out) == _values(_on_disk(top), left_out)


def test_a_snapshot_committing_while_another_rebuilds_takes_its_turn(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B found the last snapshot to be its base X and rebuilds from it (the store's lock is
    shared); e/f1.txt is written and A, a watch snapshot with that mark, runs meanwhile.
    Before, A committed during B's rebuild and B after it: the newest snapshot held X's
    e/f1.txt. Snapshots of one worktree now take turns (archiver._turn): A waits for B,
    then is rebuilt from X widened by what B holds."""
    store, top, daemon = watched
    _take(store, top)  # X
    (top / "a/b/c/f0.txt").write_text("B's change\n")
    daemon.entries(top / "a/b/c/f0.txt")
    real_base = archiver._rebuild_base
    real_turn = getattr(archiver, "_turn", None)
    waiting = threading.Event()  # A waits for its turn, or has committed (no turns)
    got: list[Any] = []

    def a_snapshot() -> None:
        try:
            with Store(store.path) as other:
                got.append(_take(other, top).snapshot)
        finally:
            waiting.set()

    def rebuild_base(*args: Any, **kwargs: Any) -> Any:
        base = real_base(*args, **kwargs)
        if not got and not waiting.is_set() and threading.current_thread() is main:
            (top / "e/f1.txt").write_text("written while B rebuilt\n")
            daemon.entries(top / "e/f1.txt")
            thread.start()
            waiting.wait()
        return base

    def turn(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is not main:
            waiting.set()
        assert real_turn is not None
        return real_turn(*args, **kwargs)

    main = threading.current_thread()
    monkeypatch.setattr(archiver, "_rebuild_base", rebuild_base)
    monkeypatch.setattr(archiver, "_turn", turn, raising=False)
    thread = threading.Thread(target=a_snapshot, daemon=True)
    b = _take(store, top).snapshot
    thread.join(120)  # A commits once B has (with turns)
    (a,) = got
    newest = max((a, b), key=lambda s: s.id)
    assert snapshot_contents(store, newest)[b"e/f1.txt"].data == b"written while B rebuilt\n"
    assert _same(newest) == _same(_full(top, tmp_path / "x"))
    c = _take(store, top).snapshot
    assert _same(c) == _same(_full(top, tmp_path / "y"))
