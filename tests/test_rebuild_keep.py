"""The watcher's worker keeps split trees across rebuilds (store/rebuild.keep_trees): past
KEEP_ENTRIES the least recently used go, in one pass over the kept trees."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from git_snapshot.store import rebuild


class _Counted(dict):  # type: ignore[type-arg]
    """The kept trees, counting the walks over them (an iterator, items, keys, values)."""

    walks = 0

    def __iter__(self) -> Iterator[Any]:
        self.walks += 1
        return super().__iter__()

    def items(self) -> Any:
        self.walks += 1
        return super().items()

    def keys(self) -> Any:
        self.walks += 1
        return super().keys()

    def values(self) -> Any:
        self.walks += 1
        return super().values()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counted]:
    rebuild.keep_trees()
    kept = _Counted()
    monkeypatch.setattr(rebuild, "_KEPT", kept)
    monkeypatch.setattr(rebuild, "_WARM", {})
    monkeypatch.setattr(rebuild, "_warm_bytes", 0)
    try:
        yield kept
    finally:
        rebuild.keep_trees(False)


def _key(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_eviction_walks_the_kept_trees_once_and_keeps_the_recently_used(
    counted: _Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past KEEP_ENTRIES the least recently used trees go down to half, found in ONE walk
    (a pop(next(iter())) per tree walked again over the holes of the pops before it: on L,
    ~13,000 trees at once, 0.1-0.2 s of a preparation); the trees used last stay, and the
    count of kept entries stays exact."""
    monkeypatch.setattr(rebuild, "KEEP_ENTRIES", 4_000)
    tree = {b"a": b"x", b"b": b"y"}  # 2 entries each
    for n in range(2_000):  # 4,000 entries: none goes yet
        rebuild._keep(_key(n), dict(tree))
    assert len(counted) == 2_000 and counted.walks == 0
    used = [_key(n) for n in range(0, 2_000, 7)]
    assert rebuild._take_kept(counted, used).keys() == set(used)  # now the most recent
    rebuild._keep(_key(2_000), dict(tree))  # 4,002 entries: down to 2,000
    assert counted.walks <= 1
    assert rebuild._kept_entries == 2 * len(counted) == 2_000
    assert set(used) | {_key(2_000)} <= set(dict.keys(counted))
    assert _key(1) not in counted and _key(1_999) in counted


def _tree(n: int) -> tuple[bytes, bytes]:
    """(key, stored bytes) of a small tree of two files."""
    from git_snapshot.store.objects import FILE
    from git_snapshot.store.objects import Entry
    from git_snapshot.store.objects import encode_tree

    data = encode_tree(
        [
            Entry(name, FILE, 0o644, n, 1, hashlib.sha256(b"%d" % n).digest())
            for name in (b"a", b"b")
        ]
    )
    return hashlib.sha256(data).digest(), data


def test_evicted_trees_go_back_to_the_warm_trees_as_their_stored_bytes(
    counted: _Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tree evicted from the kept trees goes back to the warm ones as its stored bytes
    (its key's content, checked), so a later rebuild splits it again instead of reading it
    from the store; while the warm trees have room (WARM_BYTES), and never a tree whose
    entries do not give its key back."""
    from git_snapshot.store import treebytes

    monkeypatch.setattr(rebuild, "KEEP_ENTRIES", 200)
    trees = [_tree(n) for n in range(101)]
    bad = trees[3][0]
    for key, data in trees:
        entries = treebytes.split(data)
        assert entries is not None
        if key == bad:
            entries = {b"a": entries[b"a"], b"b": entries[b"a"]}  # (not what its key holds)
        rebuild._keep(key, entries)
    gone = [key for key, _ in trees if key not in counted]
    assert len(gone) == 51 and rebuild._kept_entries == 100
    assert rebuild._WARM.keys() == set(gone) - {bad}
    for key, data in trees:
        if key in rebuild._WARM:
            assert rebuild._WARM[key] == data
    assert rebuild._warm_bytes == sum(len(d) for d in rebuild._WARM.values())
    rebuild.keep_trees()
    monkeypatch.setattr(rebuild, "_KEPT", _Counted())
    monkeypatch.setattr(rebuild, "_WARM", {})
    monkeypatch.setattr(rebuild, "_warm_bytes", 0)
    monkeypatch.setattr(rebuild, "WARM_BYTES", 10 * len(trees[0][1]))
    for key, data in trees:
        rebuild._keep(key, treebytes.split(data) or {})
    assert len(rebuild._WARM) == 10  # then full: the rest of those evicted go


def test_the_worker_evicts_between_jobs_not_in_a_rebuild(
    counted: _Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keep_trees(later=True), as the worker keeps them: past KEEP_ENTRIES a rebuild's _keep
    evicts nothing (an eviction, ~25 ms of CPU on L every other preparation, was part of the
    preparation a hook waits for); evict_due() does, as _keep did, between jobs; past
    KEEP_LATER_MAX (chained jobs, no step between) _keep still does."""
    monkeypatch.setattr(rebuild, "KEEP_ENTRIES", 4_000)
    monkeypatch.setattr(rebuild, "KEEP_LATER_MAX", 6_000)
    rebuild.keep_trees(later=True)
    monkeypatch.setattr(rebuild, "_KEPT", counted)
    tree = {b"a": b"x", b"b": b"y"}
    for n in range(2_500):  # 5,000 entries
        rebuild._keep(_key(n), dict(tree))
    assert len(counted) == 2_500 and counted.walks == 0
    used = [_key(n) for n in range(0, 2_500, 7)]
    rebuild._take_kept(counted, used)
    assert rebuild.evict_due()
    assert rebuild._kept_entries == 2 * len(counted) == 2_000
    assert set(used) <= set(dict.keys(counted)) and _key(1) not in counted
    assert not rebuild.evict_due()  # under the limit: nothing
    for n in range(2_500, 4_501):  # 6,002 entries: past KEEP_LATER_MAX
        rebuild._keep(_key(n), dict(tree))
    assert rebuild._kept_entries == 2_000


def test_the_warmer_evicts_at_its_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's warmer evicts the kept trees past their limit at its next step (here an
    ahead step for a worktree that is not there: the step itself does nothing)."""
    import time

    from git_snapshot.watch.warm import Warmer

    monkeypatch.setattr(rebuild, "KEEP_ENTRIES", 4_000)
    rebuild.keep_trees(later=True)
    try:
        for n in range(2_500):
            rebuild._keep(_key(n), {b"a": b"x", b"b": b"y"})
        assert rebuild._kept_entries == 5_000
        warmer = Warmer()
        warmer.ahead("/nonexistent/worktree")
        deadline = time.monotonic() + 60  # (only bounds a test that fails)
        while rebuild._kept_entries > 4_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        warmer.pause()
        assert rebuild._kept_entries == 2_000
    finally:
        rebuild.keep_trees(False)
