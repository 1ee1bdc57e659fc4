"""A first find (no deltas cached) keeps about one snapshot's trees in memory, however many
snapshots it goes through: trees a later snapshot replaced are kept up to a byte limit, and
the listings of added or vanished folders are dropped after each delta."""

from __future__ import annotations

import os
import shutil
import tracemalloc
from pathlib import Path

import pytest
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import history
from git_snapshot.store.index import Snapshot


def _history(store: Store, wt: Path, count: int) -> list[Snapshot]:
    """*count* snapshots of the same paths, every file's content new each time (every
    folder's tree replaced), and a folder that vanishes and comes back in turns."""
    snaps = []
    for i in range(count):
        shutil.rmtree(wt, ignore_errors=True)
        for top in ("kept", f"turn{i % 2}"):
            for d in range(30):
                f = wt / top / f"d{d:02}" / "f"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(b"%d" % i)
        snaps.append(take(store, "s", wt))
    return snaps


def _peak(store: Store, snaps: list[Snapshot]) -> int:
    """Peak bytes Python allocated during a first find over *snaps*."""
    shutil.rmtree(os.path.join(store.cache_dir, "deltas"), ignore_errors=True)
    tracemalloc.start()
    try:
        runs = history.find(store, snaps, lambda p, e: p.endswith(b"d07/f"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(runs) == 2 * len(snaps)  # kept/d07/f once per snapshot, turn*/d07/f too
    return peak


def test_a_first_find_does_not_grow_with_the_snapshots(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "REPLACED_BYTES", 4 << 10)  # a small tree's scale
    monkeypatch.setattr(history, "REPLACED_ENTRIES", 100)
    snaps = _history(store, tmp_path / "wt", 24)
    few, many = _peak(store, snaps[:6]), _peak(store, snaps)
    assert many < few * 1.25, (few, many)  # four times the snapshots
