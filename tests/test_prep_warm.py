"""The worker's warmer (watch/warm.py): between jobs it reads the base's trees, checked
against their keys, so that a preparation only splits them; it never runs beside a job,
and a tree that does not read back is left out without being called damaged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_prep_tree import _take
from test_prep_tree import watched  # noqa: F401  (a fixture)
from test_watch_dirtyset import Daemon
from test_watch_dirtyset import _full
from test_watch_dirtyset import _same

from git_snapshot.store import Store
from git_snapshot.store import rebuild
from git_snapshot.store import treebytes
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.packs import PackReader
from git_snapshot.watch import take
from git_snapshot.watch.warm import Warmer


@pytest.fixture
def kept() -> Iterator[None]:
    rebuild.keep_trees()  # as the worker does
    rebuild._WARM.clear()  # (what another test in this process warmed)
    rebuild._warm_bytes = 0
    try:
        yield
    finally:
        rebuild.keep_trees(False)


@pytest.fixture
def based(
    watched: tuple[Store, Path, Daemon],  # noqa: F811
    kept: None,
) -> tuple[Store, Path, Daemon, Snapshot]:
    """The watched worktree, trees kept as the worker keeps them, and its first snapshot
    (the epoch's: the base)."""
    store, top, daemon = watched
    return store, top, daemon, _take(store, top).snapshot


def _trees(store: Store, root: bytes) -> set[bytes]:
    """Every tree key below *root*, root included."""
    out: set[bytes] = set()
    level = [root]
    while level:
        nxt = []
        for key in level:
            if key in out:
                continue
            out.add(key)
            entries = rebuild.split(store.read_object(key))
            assert entries is not None
            nxt += [rebuild._ref(raw) for raw in entries.values() if raw[0] == DIR]
        level = nxt
    return out


def _warmed(w: Warmer, top: Path, timeout: float = 30.0) -> None:
    """Resume *w* on *top* and wait until it has read everything."""
    w.resume(str(top))
    deadline = time.monotonic() + timeout
    while w.worktree is not None or w.working:
        assert time.monotonic() < deadline, "the warmer did not finish"
        time.sleep(0.01)
    w.pause()


def test_a_preparation_after_the_warmer_reads_no_tree_and_is_the_full_walk(
    based: tuple[Store, Path, Daemon, Snapshot],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, top, daemon, base = based
    w = Warmer()
    _warmed(w, top)
    held = set(rebuild._WARM)
    assert held == _trees(store, base.root)  # every tree of the base, nothing else
    (top / "a" / "b" / "c" / "f0.txt").write_text("edited\n")
    (top / "e" / "new.txt").write_text("new\n")
    daemon.entries(top / "a" / "b" / "c" / "f0.txt", top / "e" / "new.txt")
    loaded: list[bytes] = []
    real = treebytes.load

    def spy(store: Any, keys: Any) -> Any:
        keys = list(keys)
        loaded.extend(keys)
        return real(store, keys)

    monkeypatch.setattr(treebytes, "load", spy)
    out = take.prepare(str(top))
    assert out["prepared"] is not None, out
    assert loaded == []  # the base's trees came from the warmer, split there
    assert held - set(rebuild._WARM)  # (taken: kept split from now on)
    daemon.ack_syncs()
    res = _take(store, top, trigger="post-checkout")
    assert res.new
    assert _same(res.snapshot) == _same(_full(top, tmp_path / "x"))


def test_a_tree_that_does_not_read_back_is_left_out_and_not_called_damaged(
    based: tuple[Store, Path, Daemon, Snapshot], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, top, _, _ = based
    real = PackReader.read

    def flipped(self: Any, *args: Any, **kwargs: Any) -> bytes:
        data: bytes = real(self, *args, **kwargs)
        return b"X" + data[1:] if data.startswith(b"GSTREE1\n") else data  # every tree

    monkeypatch.setattr(PackReader, "read", flipped)
    w = Warmer()
    _warmed(w, top)
    assert not rebuild._WARM
    assert store.index.damaged() == {}  # (read_object would have recorded it)


def test_the_warmer_stops_at_its_budget_and_waits_while_a_job_runs(
    based: tuple[Store, Path, Daemon, Snapshot], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, top, _, base = based
    monkeypatch.setattr(rebuild, "WARM_BYTES", 1)  # one tree, then full
    w = Warmer()
    w.resume(None)  # no worktree served yet: nothing to read
    time.sleep(0.05)
    assert not rebuild._WARM
    w.pause()
    w.resume(str(top))
    w.pause()  # returns between steps, and none starts until resume
    n = len(rebuild._WARM)
    time.sleep(0.05)
    assert len(rebuild._WARM) == n and not w.working
    _warmed(w, top)
    assert list(rebuild._WARM) == [base.root]  # the root first, then the budget was spent
