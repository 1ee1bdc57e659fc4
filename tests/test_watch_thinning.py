"""Thinning of watch snapshots (fixed clocks), next to the hook policy, and applied after a
watch snapshot in a real store."""

from __future__ import annotations

import time
from pathlib import Path

from git_snapshot import gitrepo
from git_snapshot import worktree
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import select_auto
from git_snapshot.store.retention import thin

H, D = 3600.0, 86400.0
NOW = 1_800_000_000.0  # a fixed clock


def _snap(n: int, created: float, trigger: str = "watch") -> Snapshot:
    return Snapshot(n, "src", n, created, trigger, "", "/w", b"", 0, 0, 0, 0)


def _every_minute(span: float, end: float = NOW, trigger: str = "watch") -> list[Snapshot]:
    count = int(span // 60)
    return [_snap(i + 1, end - (count - 1 - i) * 60.0, trigger) for i in range(count)]


def test_thinning_keeps_the_hour_then_10_min_hourly_daily() -> None:
    snaps = _every_minute(20 * D)  # a snapshot every minute for 20 days
    gone = {s.rowid for s in thin(snaps, 14 * D, NOW)}
    kept = [s for s in snaps if s.rowid not in gone]
    age = [NOW - s.created for s in kept]
    assert all(s.rowid not in gone for s in snaps if NOW - s.created <= H)  # the last hour
    assert sum(1 for a in age if H < a <= D) <= 24 * 6  # <= one per 10 min for a day
    assert sum(1 for a in age if D < a <= 7 * D) <= 6 * 24 + 1  # <= hourly for a week
    assert sum(1 for a in age if a > 7 * D) <= 8  # daily up to the window...
    assert max(age) <= 14 * D  # ...and nothing past it
    # every 10-minute bucket of the day and every hour of the week still has its snapshot
    tens = {int(s.created // 600) for s in kept if NOW - s.created <= D}
    assert len(tens) >= 24 * 6
    hours = {int(s.created // 3600) for s in kept if NOW - s.created <= 7 * D}
    assert len(hours) >= 7 * 24
    assert 60 + 138 + 144 <= len(kept) <= 60 + 144 + 145 + 9  # bounded: ~350, not 28,800
    assert snaps[-1].rowid not in gone


def test_thinning_as_it_goes_keeps_what_thinning_at_once_keeps() -> None:
    """Applied after every snapshot (as the daemon does) the result is the same as once."""
    snaps = _every_minute(26 * H)[::2]  # every 2 minutes, past the day's boundary
    live: list[Snapshot] = []
    for s in snaps:
        live.append(s)
        gone = {g.rowid for g in select_auto(Policy(100, 14 * D), live, now=s.created)}
        live = [x for x in live if x.rowid not in gone]
    once = {g.rowid for g in select_auto(Policy(100, 14 * D), snaps, now=NOW)}
    assert {s.rowid for s in live} == {s.rowid for s in snaps} - once


def test_hook_snapshots_keep_their_own_policy() -> None:
    watch = _every_minute(3 * H)
    hooks = [_snap(10_000 + i, NOW - 10 * D + i * 60, "post-checkout") for i in range(5)]
    gone = {s.rowid for s in select_auto(Policy(keep_last=3, keep_within=None), watch + hooks, NOW)}
    assert {h.rowid for h in hooks if h.rowid in gone} == {10_000, 10_001}  # keep_last 3
    # thousands of watch snapshots never push a hook snapshot out of its keep_last
    assert not any(h.rowid in gone for h in hooks[2:])


def test_never_the_one_just_taken_nor_the_newest() -> None:
    old = [_snap(1, NOW - 30 * D), _snap(2, NOW - 29 * D)]  # all past the window
    assert [s.rowid for s in select_auto(Policy(keep_within=14 * D), old, NOW)] == [1]
    assert select_auto(Policy(keep_within=14 * D), old, NOW, keep=[1]) == []


def test_applied_after_a_watch_snapshot(repo: Path) -> None:
    r = gitrepo.find_repo(str(repo))
    with Store() as store:
        cfg = worktree.settings(r)
        for i in range(4):
            (repo / "out.txt").write_text(f"build {i}\n")
            worktree.take(store, r, trigger="watch")
        manual = worktree.take(store, r, trigger="manual").snapshot
        # the first three watch snapshots aged into one 10-minute bucket two hours ago
        start = (time.time() - 2 * H) // 600 * 600
        for k, s in enumerate(store.snapshots(manual.source)[:3]):
            store.index.db.execute(
                "UPDATE snapshots SET created = ? WHERE rowid = ?", (start + k, s.rowid)
            )
        assert worktree.apply_retention(store, r, cfg, taken=manual) == 2
        left = store.snapshots(manual.source)
    assert [s.trigger for s in left] == ["watch", "watch", "manual"]
