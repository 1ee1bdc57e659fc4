"""RED36 B2: watch-snapshot thinning walked the snapshots newest-first by number and stopped
each tier at the first one older than the tier's limit, so one snapshot stamped by a clock
that was behind (a VM resumed with a stale clock, corrected by NTP) made it forget snapshots
of the last hour that "all of the last hour" keeps. Each tier must keep what its own test
selects, whatever the order of the stamps. (Thinning is pure: fixed clocks, as
tests/test_watch_thinning.py; a watch snapshot comes only from the daemon.)"""

from __future__ import annotations

from git_snapshot.store import Snapshot
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import select_auto
from git_snapshot.store.retention import thin

H, D = 3600.0, 86400.0
NOW = 1_800_000_000.0


def _snaps(ages: list[float]) -> list[Snapshot]:
    """Watch snapshots numbered 1.. in the order given, taken *ages* seconds before NOW."""
    return [
        Snapshot(i, "src", i, NOW - age, "watch", "", "/w", b"", 0, 0, 0, 0)
        for i, age in enumerate(ages, 1)
    ]


def _forgotten(snaps: list[Snapshot]) -> list[int]:
    return sorted(s.id for s in select_auto(Policy(), snaps, NOW, keep=[snaps[-1].rowid]))


def test_one_snapshot_stamped_days_back_keeps_the_last_hour() -> None:
    # 50, 40, 30, 20, 10 minutes ago; then one stamped 2 days back; then one now
    snaps = _snaps([3000, 2400, 1800, 1200, 600, 2 * D, 5])
    assert _forgotten(snaps) == []


def test_a_clock_set_back_90_minutes_once_keeps_every_snapshot_of_the_last_40() -> None:
    ages: list[float] = [2400.0 - 120 * i for i in range(1, 20)]  # one every 2 minutes
    ages.insert(10, ages[9] + 90 * 60)  # the 11th stamped 90 minutes back
    assert _forgotten(_snaps(ages)) == []


def test_each_tier_keeps_what_its_own_test_selects() -> None:
    """A snapshot every 5 minutes for 3 days, one in every 50 stamped 9 days back: each
    10-minute bucket of the day, each hour of the week and each day of the window still has
    its newest snapshot, as without the skewed ones."""
    ages = [3 * D - 300 * i for i in range(3 * 288)]
    skewed = [9 * D + i for i in range(0, len(ages), 50)]
    snaps = _snaps([a if i % 50 else skewed[i // 50] for i, a in enumerate(ages)])
    gone = {s.rowid for s in thin(snaps, 14 * D, NOW)}
    kept = [s for s in snaps if s.rowid not in gone]
    assert all(s.rowid in {k.rowid for k in kept} for s in snaps if NOW - s.created <= H)
    for width, span in ((600, D), (3600, 7 * D)):
        held = {int(s.created // width) for s in snaps if NOW - s.created <= span}
        assert held == {int(s.created // width) for s in kept if NOW - s.created <= span}
