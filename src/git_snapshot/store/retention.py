"""Retention: which snapshots to forget. Reclaiming their space is garbage collection's job
(store/gc.py)."""

from __future__ import annotations

import time

from git_snapshot.ctx import record
from git_snapshot.errors import UserError
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.index import in_time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

# Calendar buckets in local time, as restic and borg count them: the newest snapshot of each
# of the last N hours (days, ISO weeks) that hold a snapshot is kept.
BUCKETS = {"hourly": "%Y-%m-%d %H", "daily": "%Y-%m-%d", "weekly": "%G-W%V"}


if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Container
    from collections.abc import Iterable
    from typing import NamedTuple

    class _Policy(NamedTuple):
        keep_last: int | None = None
        keep_within: float | None = None  # seconds
        keep_hourly: int | None = None
        keep_daily: int | None = None
        keep_weekly: int | None = None

else:  # no typing import at run time (the hook path)
    _Policy = record(
        "Policy",
        "keep_last keep_within keep_hourly keep_daily keep_weekly",
        defaults=(None, None, None, None, None),
    )


class Policy(_Policy):
    __slots__ = ()

    def _periodic(self) -> dict[str, int]:
        counts = {"hourly": self.keep_hourly, "daily": self.keep_daily, "weekly": self.keep_weekly}
        return {k: n for k, n in counts.items() if n is not None}

    def empty(self) -> bool:
        return self.keep_last is None and self.keep_within is None and not self._periodic()

    def select(self, snaps: list[Snapshot], now: float | None = None) -> list[Snapshot]:
        """The snapshots of one source to forget. The newest one is always kept."""
        if not snaps or self.empty():
            return []
        now = time.time() if now is None else now
        newest_first = _newest_first(snaps)
        keep = {newest_first[0].rowid}
        if self.keep_last is not None:
            keep.update(s.rowid for s in newest_first[: self.keep_last])
        if self.keep_within is not None:
            keep.update(s.rowid for s in snaps if s.created >= now - self.keep_within)
        for period, count in self._periodic().items():
            chosen = newest_per_bucket(newest_first, BUCKETS[period], count, now)
            keep.update(s.rowid for s in chosen)
        return [s for s in snaps if s.rowid not in keep]


# Watch snapshots (trigger "watch", one a few seconds after changes settle) are thinned:
# every one of the last hour, the newest per 10 minutes for a day, per hour for a week, per
# local day up to the retention window. Other snapshots keep their own policy.
WATCH = "watch"
DEFAULT_WINDOW = 14 * 86400.0
THIN = ((3600.0, 0.0), (86400.0, 600.0), (7 * 86400.0, 3600.0))  # (up to age, bucket width)


def _newest_first(snaps: list[Snapshot]) -> list[Snapshot]:
    """One source's *snaps*, newest first: by number, a pulled one by when it was taken
    (index.in_time: a pull can give an older snapshot a higher number)."""
    return in_time(sorted(snaps, key=lambda s: s.id))[::-1]


def thin(snaps: list[Snapshot], window: float, now: float) -> list[Snapshot]:
    """The watch snapshots among *snaps* to forget (the newest is always kept)."""
    if not snaps:
        return []
    newest_first = _newest_first(snaps)
    keep = {newest_first[0].rowid}
    # Each tier looks at every snapshot its age selects, the newest by number of each bucket
    # kept: not at the run of them until the first one too old, which one stamped by a clock
    # that was behind (then corrected) ended early, and the last hour's went (RED36 B2).
    for limit, width in THIN:
        seen: set[int] = set()
        for s in newest_first:
            if now - s.created > min(limit, window):
                continue
            bucket = s.rowid if width == 0 else int(s.created // width)
            if bucket not in seen:
                seen.add(bucket)
                keep.add(s.rowid)
    days: set[str] = set()
    for s in newest_first:
        if now - s.created > window:
            continue
        day = time.strftime(BUCKETS["daily"], time.localtime(s.created))
        if day not in days:
            days.add(day)
            keep.add(s.rowid)
    return [s for s in snaps if s.rowid not in keep]


def select_auto(
    policy: Policy, snaps: list[Snapshot], now: float | None = None, keep: Iterable[int] = ()
) -> list[Snapshot]:
    """The automatic retention of one source: *policy* for hook, manual and other snapshots,
    :func:`thin` for watch snapshots; never the snapshots whose rowid is in *keep* (the one
    just taken) nor the newest of all."""
    if not snaps:
        return []
    now = time.time() if now is None else now
    window = policy.keep_within or DEFAULT_WINDOW
    watch = [s for s in snaps if s.trigger == WATCH]
    others = [s for s in snaps if s.trigger != WATCH]
    gone = policy.select(others, now) + thin(watch, window, now)
    never = {*keep, _newest_first(snaps)[0].rowid}
    return [s for s in gone if s.rowid not in never]


def forget_auto(
    store: Store,
    policy: Policy,
    sources: Iterable[str],
    keep: Iterable[int] = (),
    now: float | None = None,
) -> list[Snapshot]:
    """Apply :func:`select_auto` to each source (after a hook or watch snapshot)."""
    keep = set(keep)
    gone: list[Snapshot] = []
    for source in sources:
        for group in by_worktree(store.snapshots(source)):
            gone.extend(select_auto(policy, group, now, keep))
    if not gone:  # (a hook usually forgets nothing: no lock, no log read)
        return []
    now = time.time() if now is None else now
    since = now - report_window(policy)
    # not now when the store is busy (a hook's loss check, a restore): the next hook thins
    done = forget_unnamed(store, gone, lambda: named_by_losses(store, since), wait=False)
    return done[0] if done is not None else []


def report_window(policy: Policy) -> float:
    """How far back (seconds) the loss reports go whose snapshots retention keeps: the
    default window, or the policy's keep_within when longer. A keep option only ever keeps
    more: a short one (--keep-within 1h, snapshot.keepWithin 12h) forgot the snapshot of a
    day-old report, the only copy of what was lost (RED39 A2)."""
    return max(policy.keep_within or 0.0, DEFAULT_WINDOW)


def by_worktree(snaps: list[Snapshot]) -> list[list[Snapshot]]:
    """One source's *snaps* grouped by the worktree each was taken in: a policy counts each
    worktree's apart, as ``list`` shows them (restic groups by host and paths), so that one
    worktree's many snapshots never push another's newest out (RED36 B-prune). A removed
    worktree keeps its newest too: what its removal destroyed may be in them."""
    groups: dict[str, list[Snapshot]] = {}
    for s in snaps:
        groups.setdefault(s.worktree, []).append(s)
    return list(groups.values())


def forget_unnamed(
    store: Store,
    snaps: list[Snapshot],
    named: Callable[[], Container[tuple[str, int]]],
    wait: bool = True,
) -> tuple[list[Snapshot], list[Snapshot]] | None:
    """Forget those of *snaps* that no loss report names (*named*: the (worktree, snapshot
    id) the loss logs name, read here), under the store's exclusive lock: a hook holds the
    shared one from its choice of the snapshot it compares with until its report is in the
    log, so the reports read here include every one about to name a snapshot. (They were
    read before the forget, unlocked: a report written in between named a snapshot the
    prune then forgot, the only copy of what was lost; and the hook's check, reading it,
    met its objects gone: RED34 D3.) (forgotten, kept for a report); None when *wait* is
    False and the store is busy."""
    from git_snapshot.store.reserve import with_room

    with store.lock(exclusive=True, wait=wait) as locked:
        if not locked:
            return None
        names = named()
        gone = [s for s in snaps if (s.worktree, s.id) not in names]
        kept = [s for s in snaps if (s.worktree, s.id) in names]
        if gone:
            with_room(store, lambda: _forget_locked(store, gone))
    return gone, kept


def named_by_losses(store: Store, since: float) -> set[tuple[str, int]]:
    """(worktree, snapshot id) of every snapshot a loss entry since *since* names: the
    restore command it printed must keep working within the retention window (a watch
    snapshot before an rm -rf is often the only copy of what went, and the daemon's next
    snapshot, seconds later, would otherwise thin it away). losslog.naming's: it follows a
    snapshot `repair` renumbered to its new number (RED34 D8)."""
    from git_snapshot.store import losslog

    return set(losslog.naming(store, since))


def newest_per_bucket(
    newest_first: list[Snapshot], fmt: str, count: int, now: float
) -> list[Snapshot]:
    """The newest snapshot (the first in *newest_first*) of each of the *count* most recent
    buckets (strftime *fmt* of the local time) that hold one, and of each bucket after
    *now*'s (stamped by a clock that was ahead), kept beside them, not counted.

    The buckets are counted back by time, as restic and borg count them: in the order of the
    numbers, one snapshot stamped by a clock days behind took a slot, and the only snapshot
    of a day within the last N was forgotten (RED36 B3)."""
    newest: dict[str, Snapshot] = {}
    for s in newest_first:
        newest.setdefault(time.strftime(fmt, time.localtime(s.created)), s)
    current = time.strftime(fmt, time.localtime(now))
    # (the formats sort as the times: zero-padded, the largest unit first)
    past = set(sorted((b for b in newest if b <= current), reverse=True)[:count])
    return [newest[b] for b in newest if b > current or b in past]


def forget_by_policy(
    store: Store, policy: Policy, sources: Iterable[str], dry_run: bool = False
) -> list[Snapshot]:
    """Forget what *policy* selects in each source."""
    gone: list[Snapshot] = []
    for source in sources:
        gone.extend(policy.select(store.snapshots(source)))
    return forget(store, gone, dry_run)


def forget(store: Store, snaps: list[Snapshot], dry_run: bool = False) -> list[Snapshot]:
    """Forget *snaps* (a tombstone pack, then the index rows); on a full disk the store's
    reserve makes room for that. Their space is reclaimed by the next gc."""
    if snaps and not dry_run:
        # (imported here: a hook that forgets nothing, the usual one, does not need it)
        from git_snapshot.store.reserve import with_room

        # shared, as a snapshot: the tombstone pack is in packs/ before its index rows, and a
        # gc in between would take it for an orphan and delete it
        with store.lock():
            with_room(store, lambda: _forget_locked(store, snaps))
    return snaps


def _forget_locked(store: Store, snaps: list[Snapshot]) -> None:
    """A tombstone pack, then one index transaction entering it and dropping the rows; a
    failure of that transaction (a full disk) deletes the tombstone pack again: the forget
    did not take effect, and a tombstone left in packs/ would be acted on by a repair that
    has no readable index to tell (RED31 A2: "the store is intact" was said over an orphan
    tombstone; with_room's second try wrote another)."""
    import contextlib
    import hashlib
    import os

    from git_snapshot.store.objects import FORGET
    from git_snapshot.store.packs import PackWriter
    from git_snapshot.store.records import encode_forget
    from git_snapshot.store.safewrite import fsync_dir

    records = [s.record for s in snaps if s.record is not None]
    tombstones = []
    if records:
        # the highest number forgotten of each repository: gc drops the records, the
        # tombstone stays, and a repair never gives those numbers again (RED44 F6b)
        paths = dict(store.index.sources())
        highest: dict[str, tuple[int, str]] = {}
        for s in snaps:
            if s.id > highest.get(s.source, (0, ""))[0]:
                highest[s.source] = (s.id, paths.get(s.source, ""))
        data = encode_forget(records, highest=highest)
        writer = PackWriter(store.path)
        try:
            writer.add(FORGET, hashlib.sha256(data).digest(), data)
            tombstones = writer.finish()
        except BaseException:
            writer.abort()
            raise
    try:
        store.index.forget(snaps, tombstones)
    except Exception:  # a kill leaves it for repair and gc, which know it for an orphan
        for p in tombstones:
            with contextlib.suppress(OSError):
                os.unlink(store.pack_path(p.name))
        if tombstones:
            with contextlib.suppress(OSError):
                fsync_dir(store.packs_dir)
        raise


def parse_duration(text: str) -> float:
    """'30d', '12h', '90m', '2w', '1y', or a combination such as '1d12h', in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
    total, num = 0.0, ""
    for ch in text.strip():
        if ch in "0123456789":  # not isdigit(): int() refuses a superscript 2
            num += ch
        elif ch in units and num:
            total += int(num) * units[ch]
            num = ""
        else:
            raise UserError(_BAD_DURATION.format(text))
    if num or total <= 0:
        raise UserError(_BAD_DURATION.format(text))
    return total


_BAD_DURATION = "bad duration {!r}: use a number above 0 and a unit, e.g. 7d, 12h, 2w"
