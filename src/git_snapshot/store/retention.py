"""Retention: which snapshots to forget. Reclaiming their space is garbage collection's job
(store/gc.py)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from git_snapshot.errors import UserError
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.reserve import with_room


@dataclass(frozen=True)
class Policy:
    keep_last: int | None = None
    keep_within: float | None = None  # seconds

    def select(self, snaps: list[Snapshot], now: float | None = None) -> list[Snapshot]:
        """The snapshots of one source to forget. The newest one is always kept."""
        if not snaps or (self.keep_last is None and self.keep_within is None):
            return []
        now = time.time() if now is None else now
        newest_first = sorted(snaps, key=lambda s: s.id, reverse=True)
        keep = {newest_first[0].rowid}
        if self.keep_last is not None:
            keep.update(s.rowid for s in newest_first[: self.keep_last])
        if self.keep_within is not None:
            keep.update(s.rowid for s in snaps if s.created >= now - self.keep_within)
        return [s for s in snaps if s.rowid not in keep]


def forget_by_policy(
    store: Store, policy: Policy, sources: Iterable[str], dry_run: bool = False
) -> list[Snapshot]:
    """Forget what *policy* selects in each source (a tombstone pack, then the index rows);
    on a full disk the store's reserve makes room for that."""
    gone: list[Snapshot] = []
    for source in sources:
        gone.extend(policy.select(store.snapshots(source)))
    if gone and not dry_run:
        # shared, as a snapshot: the tombstone pack is in packs/ before its index rows, and a
        # gc in between would take it for an orphan and delete it
        with store.lock():
            with_room(store, lambda: store.forget(gone))
    return gone


def parse_duration(text: str) -> float:
    """'30d', '12h', '90m', '2w', '1y', or a combination such as '1d12h', in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
    total, num = 0.0, ""
    for ch in text.strip():
        if ch.isdigit():
            num += ch
        elif ch in units and num:
            total += int(num) * units[ch]
            num = ""
        else:
            raise UserError(f"bad duration {text!r}: use a number and a unit, e.g. 7d, 12h, 2w")
    if num or total <= 0:
        raise UserError(f"bad duration {text!r}: use a number and a unit, e.g. 7d, 12h, 2w")
    return total
