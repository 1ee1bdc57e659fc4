"""Review of RED36 B2/B3 (thinning and --keep-hourly/daily/weekly by time): for any creation
times (stamped days ahead or behind, equal, in any order of the numbers, pulled or not) a
tier never forgets the snapshot its own rule keeps, and the newest is never forgotten. Both
failed before 6651c8e and dfe8749 (each tier stopped at the first snapshot, by number, out of
its range; the days were counted in number order). Run in a zone with summer time too: the
calendar buckets are local."""

from __future__ import annotations

import contextlib
import datetime
import os
import time
from collections.abc import Callable
from collections.abc import Iterator

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import Snapshot
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import _newest_first
from git_snapshot.store.retention import select_auto
from git_snapshot.store.retention import thin

H, D = 3600.0, 86400.0
NOW = 1_800_000_000.0
ZONES = ("UTC", "Europe/Berlin", "America/New_York")

AGES = st.one_of(
    st.floats(min_value=-3 * D, max_value=20 * D, allow_nan=False),
    st.sampled_from([0.0, 0.5, 1.0, -1.0, 600.0, H, D, 7 * D, 14 * D]),
    st.integers(-5, 25).map(lambda d: d * D),
)


@st.composite
def _snaps(draw: st.DrawFn) -> list[Snapshot]:
    """Snapshots of one worktree taken *AGES* before NOW, numbered in any order."""
    ages = draw(st.lists(AGES, min_size=1, max_size=30))
    ids = draw(st.permutations(range(1, len(ages) + 1)))
    return [_snap(100 + i, ids[i], NOW - age, draw(st.booleans())) for i, age in enumerate(ages)]


def _snap(rowid: int, n: int, created: float, pulled: bool = False) -> Snapshot:
    meta = {"pulled": True} if pulled else {}
    return Snapshot(rowid, "src", n, created, "watch", "", "/w", b"", 0, 0, 0, 0, meta=meta)


@contextlib.contextmanager
def _zone(name: str) -> Iterator[None]:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def _local(period: str, t: float) -> Bucket:
    """The calendar bucket of *t* as numbers (not the strftime text retention compares)."""
    lt = time.localtime(t)
    if period == "hourly":
        return (lt.tm_year, lt.tm_mon, lt.tm_mday, lt.tm_hour)
    if period == "daily":
        return (lt.tm_year, lt.tm_mon, lt.tm_mday)
    return tuple(datetime.date(lt.tm_year, lt.tm_mon, lt.tm_mday).isocalendar())[:2]


Bucket = tuple[float, ...]


def _first_per(snaps: list[Snapshot], key: Callable[[Snapshot], Bucket]) -> dict[Bucket, Snapshot]:
    """The first of *snaps* (newest first) in each bucket *key* gives, by bucket."""
    first: dict[Bucket, Snapshot] = {}
    for s in snaps:
        first.setdefault(key(s), s)
    return first


def _every(width: float) -> Callable[[Snapshot], Bucket]:
    return lambda s: (s.created // width,)


@settings(max_examples=150)
@given(_snaps(), st.sampled_from([H / 2, D, 3 * D, 14 * D]))
def test_thinning_keeps_what_each_tier_selects(snaps: list[Snapshot], window: float) -> None:
    newest_first = _newest_first(snaps)
    for zone in ZONES:
        with _zone(zone):
            gone = {s.rowid for s in thin(snaps, window, NOW)}
            keep = {newest_first[0].rowid}
            keep |= {s.rowid for s in snaps if NOW - s.created <= min(H, window)}
            for limit, width in ((D, 600.0), (7 * D, 3600.0)):
                within = [s for s in newest_first if NOW - s.created <= min(limit, window)]
                keep |= {s.rowid for s in _first_per(within, _every(width)).values()}
            days = [s for s in newest_first if NOW - s.created <= window]
            daily = _first_per(days, lambda s: _local("daily", s.created))
            keep |= {s.rowid for s in daily.values()}
            assert not keep & gone, (zone, sorted(s.id for s in snaps if s.rowid in keep & gone))


@settings(max_examples=150)
@given(_snaps(), st.integers(1, 5), st.sampled_from(["hourly", "daily", "weekly"]))
def test_keep_periodic_keeps_the_last_n_buckets_by_time(
    snaps: list[Snapshot], n: int, period: str
) -> None:
    newest_first = _newest_first(snaps)
    policy = Policy(**{f"keep_{period}": n})
    for zone in ZONES:
        with _zone(zone):
            gone = {s.rowid for s in policy.select(snaps, NOW)}
            auto = {s.rowid for s in select_auto(policy, snaps, NOW)}
            now = _local(period, NOW)
            first = _first_per(newest_first, lambda s: _local(period, s.created))
            past = sorted((b for b in first if b <= now), reverse=True)[:n]
            ahead = [b for b in first if b > now]  # (kept, not counted)
            keep = {first[b].rowid for b in [*past, *ahead]} | {newest_first[0].rowid}
            assert not keep & gone, (zone, period, n)
            assert newest_first[0].rowid not in auto


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.floats(0, 900), st.one_of(st.just(0.0), st.floats(-3 * D, 10 * D))),
        min_size=5,
        max_size=100,
    )
)
def test_thinning_after_every_snapshot_keeps_each_bucket(steps: list[tuple[float, float]]) -> None:
    """The daemon thins after each snapshot, some stamped by a clock behind or ahead: after
    each thinning, every snapshot of the last hour is held, and every 10-minute bucket of the
    day and hour of the week that held one still does."""
    now, snaps = NOW, []
    for n, (step, skew) in enumerate(steps, 1):
        now += step
        snaps.append(_snap(n, n, now - skew))
        gone = {s.rowid for s in select_auto(Policy(keep_last=100), snaps, now, keep=[n])}
        assert not any(now - s.created <= H for s in snaps if s.rowid in gone)
        left = [s for s in snaps if s.rowid not in gone]
        for width, span in ((600, D), (3600, 7 * D)):
            held = {s.created // width for s in snaps if now - s.created <= span}
            assert held == {s.created // width for s in left if now - s.created <= span}
        snaps = left
