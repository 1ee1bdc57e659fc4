"""The plan's share for its forked child (session 46: half of the folders of the frontier
level, every other one, left this process ~65 ms alone at the end of M's plan, scanning the
index besides; now CHILD_SHARE of them, spread evenly). Whatever the share, the plan is the
one a single process makes, and the restore writes the same tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from storehelpers import restore
from storehelpers import scan
from storehelpers import take
from test_restore_split import _plan
from test_restore_split import _same_plan
from test_restore_split import _tree

from git_snapshot.store import Store
from git_snapshot.store import restore_plan
from git_snapshot.store.restore_plan import _share_of


@pytest.mark.parametrize("share", [0.0, 0.5, 0.6, 2 / 3, 1.0])
def test_the_share_is_spread_evenly(share: float) -> None:
    for n in (0, 1, 2, 7, 64, 200):
        theirs = _share_of(n, share)
        assert len(theirs) == n
        assert sum(theirs) == int(n * share)
        for k in range(n):  # every prefix holds its share, give or take one
            assert abs(sum(theirs[:k]) - k * share) <= 1
    assert _share_of(8, 0.5) == [False, True] * 4  # as before: every other one


@pytest.mark.parametrize("share", [0.5, 0.6, 0.9, 1.0])
def test_a_plan_split_at_any_share_is_the_single_one(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    snap = take(store, "s", _tree(tmp_path))
    monkeypatch.setattr(restore_plan, "CHILD_SHARE", share)
    alone: list[bytes] = []
    here: list[bytes] = []
    single = _plan(store, snap, False, alone)
    split = _plan(store, snap, True, here)
    _same_plan(single, split)
    assert len(here) < len(alone)  # the child read its share
    monkeypatch.setattr(restore_plan, "SPLIT", True)
    report = restore(store, snap, tmp_path / "out", threads=2)
    assert scan(tmp_path / "out") == scan(tmp_path / "src")
    assert report.files == snap.files and not report.damaged
