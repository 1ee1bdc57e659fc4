"""store/history.py against real stores: versions of a path, find, and that both read each
distinct tree once (an unchanged folder is one key compared, never a walk); retention's
hourly/daily/weekly buckets; snapshot ID forms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from storehelpers import take

from git_snapshot import snapids
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.history import APPEARED
from git_snapshot.store.history import CHANGED
from git_snapshot.store.history import VANISHED
from git_snapshot.store.history import Trees
from git_snapshot.store.history import find
from git_snapshot.store.history import under
from git_snapshot.store.history import versions
from git_snapshot.store.retention import Policy


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store") as s:
        yield s


def _history(store: Store, tmp_path: Path) -> list[Snapshot]:
    """Five snapshots: a.txt appears, changes, stays, vanishes, comes back."""
    d = tmp_path / "wt"
    _write(d / "big" / "deep" / "x.txt", "deep\n")
    snaps = []
    for content in ("one\n", "two\n", "two\n", None, "three\n"):
        a = d / "src" / "a.txt"
        if content is None:
            a.unlink()
        else:
            _write(a, content)
        snaps.append(take(store, "src1", d))
    return snaps


def test_versions_only_where_the_path_changed(store: Store, tmp_path: Path) -> None:
    snaps = _history(store, tmp_path)
    got = versions(store, snaps, b"src/a.txt")
    assert [(v.snapshot.id, v.status, v.size) for v in got] == [
        (snaps[0].id, APPEARED, 4),
        (snaps[1].id, CHANGED, 4),
        (snaps[3].id, VANISHED, 0),
        (snaps[4].id, APPEARED, 6),
    ]
    assert [v.entry.ref for v in got if v.entry] == [
        Trees(store).at(snaps[i].root, b"src/a.txt").ref  # type: ignore[union-attr]
        for i in (0, 1, 4)
    ]
    folder = versions(store, snaps, b"big")
    assert [(v.status, v.files, v.size) for v in folder] == [(APPEARED, 1, 5)]
    assert versions(store, snaps, b"nothere") == []
    assert [v.files for v in versions(store, snaps, b"")][:1] == [2]  # the top, '.'


def test_unchanged_folders_are_read_once(store: Store, tmp_path: Path) -> None:
    snaps = _history(store, tmp_path)
    reads: list[bytes] = []
    original = store.read_tree

    def counting(key: bytes) -> list:  # type: ignore[type-arg]
        reads.append(key)
        return original(key)

    store.read_tree = counting  # type: ignore[method-assign]
    versions(store, snaps, b"big/deep/x.txt")
    # roots differ in each snapshot (src changes); 'big' and 'big/deep' are one key each
    assert len(reads) == len({s.root for s in snaps}) + 2
    assert len(reads) == len(set(reads))


def test_find_groups_consecutive_snapshots_with_the_same_content(
    store: Store, tmp_path: Path
) -> None:
    snaps = _history(store, tmp_path)
    runs = find(store, snaps, lambda path, e: e.name.endswith(b".txt"))
    got = [(r.path, [s.id for s in r.snapshots]) for r in runs]
    ids = [s.id for s in snaps]
    assert got == [
        (b"big/deep/x.txt", ids),
        (b"src/a.txt", [ids[0]]),
        (b"src/a.txt", [ids[1], ids[2]]),
        (b"src/a.txt", [ids[4]]),
    ]


def test_under_gives_paths_and_everything_below(store: Store, tmp_path: Path) -> None:
    snaps = _history(store, tmp_path)
    found, missing = under(store, snaps[0].root, [b"big", b"src/a.txt", b"gone"])
    assert [p for p, _ in found] == [b"big", b"big/deep", b"big/deep/x.txt", b"src/a.txt"]
    assert missing == [b"gone"]


def _snap(i: int, created: float) -> Snapshot:
    return Snapshot(i, "s", i, created, "manual", "", "/w", b"\0" * 32, 0, 0, 0, 0)


def test_keep_hourly_daily_weekly_keep_the_newest_of_each_bucket() -> None:
    base = time.mktime((2026, 12, 7, 12, 0, 0, 0, 0, -1))  # a Monday, local time
    times = sorted(base - h * 3600 + m * 60 for h in range(5) for m in (0, 10))  # 2 an hour
    snaps = [_snap(i + 1, t) for i, t in enumerate(times)]

    def kept(policy: Policy, of: list[Snapshot]) -> set[int]:
        return {s.id for s in of} - {s.id for s in policy.select(of, now=base)}

    # the newest (10 past) of each of the last three hours
    assert kept(Policy(keep_hourly=3), snaps) == {10, 8, 6}
    days = [_snap(i + 1, base - (9 - i) * 86400) for i in range(10)]  # Nov 28 .. Dec 7
    assert kept(Policy(keep_daily=2), days) == {10, 9}
    # ISO weeks: Dec 7 alone, Nov 30 - Dec 6 (newest: Dec 6), Nov 23 - 29 (newest: Nov 29)
    assert kept(Policy(keep_weekly=3), days) == {10, 9, 2}
    assert kept(Policy(keep_last=1, keep_daily=1, keep_weekly=1), days) == {10}
    assert Policy().select(days) == []


def test_id_forms() -> None:
    snaps = [
        _snap(1, 1000.0).replace(worktree="/w"),
        _snap(2, 2000.0).replace(worktree="/other"),
        _snap(3, 3000.0).replace(worktree="/w"),
        _snap(4, 4000.0).replace(worktree="/w", trigger="pre-restore"),
    ]

    def pick(text: str) -> int:
        when = {"a": 2500.0, "b": 999.0, "c": 4000.0}.__getitem__
        return snapids.select(snapids.parse(text), snaps, "/w", when=when).id

    assert pick("2") == 2  # numbers span the repository's worktrees
    assert pick("latest") == 3  # not restore's own snapshot
    assert pick("latest~1") == 1
    assert pick("latest~") == 1
    assert pick("@{a}") == 1  # the newest of this worktree at or before that time
    assert pick("@{c}") == 4
    with pytest.raises(UserError, match="back further"):
        pick("latest~2")
    with pytest.raises(UserError, match="at or before"):
        pick("@{b}")
    for bad in ("seven", "latest~x", "@{", "1.5", "-1"):
        with pytest.raises(UserError, match="bad snapshot id"):
            snapids.parse(bad)
    assert snapids.looks_like_id("repo:12") and not snapids.looks_like_id("src/a.txt")


def test_dates_and_durations_are_read_by_git() -> None:
    # git reads 'ago' from its own clock (whole seconds) while it runs: bracketed by this
    # process's clock before and after the call, not bounded by a time it may take
    before = time.time()
    hour_ago = snapids.timestamp("1.hour.ago")
    after = time.time()
    assert int(before) - 3600 <= hour_ago <= after - 3600
    assert snapids.timestamp("2026-12-01 10:00") == time.mktime((2026, 12, 1, 10, 0, 0, 0, 0, -1))
    with pytest.raises(UserError, match="cannot read the date"):
        snapids.timestamp("not a date at all")
    assert snapids.duration("14d") == 14 * 86400
    before = time.time()
    two_weeks = snapids.duration("2.weeks.ago")  # (its own clock, after git's, minus git's)
    after = time.time()
    assert 14 * 86400 <= two_weeks <= 14 * 86400 + (after - int(before))
    with pytest.raises(UserError, match="bad duration"):
        snapids.duration("soon")
