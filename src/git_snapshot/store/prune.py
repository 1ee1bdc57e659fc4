"""Retention (which snapshots to forget) and garbage collection (reclaiming their space)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from git_snapshot.errors import UserError
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.packs import fsync_dir

REPACK_BELOW = 0.5  # rewrite a pack when less than this share of its bytes is still in use


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
    gone: list[Snapshot] = []
    for source in sources:
        gone.extend(policy.select(store.snapshots(source)))
    if gone and not dry_run:
        store.index.forget(s.rowid for s in gone)
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


@dataclass
class GcReport:
    ran: bool  # False when another process held the store and wait was False
    objects_removed: int = 0
    packs_removed: int = 0
    packs_rewritten: int = 0
    bytes_freed: int = 0


def _reachable(store: Store) -> set[bytes]:
    live: set[bytes] = set()
    stack = [s.root for s in store.snapshots()]
    while stack:
        key = stack.pop()
        if key in live:
            continue
        live.add(key)
        try:
            entries = store.read_tree(key)
        except CorruptObject as exc:
            raise UserError(
                f"garbage collection stopped, nothing was deleted: {exc}; run git snapshot verify"
            ) from exc
        for e in entries:
            if e.kind == DIR:
                stack.append(e.ref)
            elif e.kind == FILE:
                live.add(e.ref)
    return live


def gc(store: Store, wait: bool = True) -> GcReport:
    """Delete objects no snapshot needs. Exclusive: no snapshot is being written meanwhile."""
    with store.lock(exclusive=True, wait=wait) as locked:
        if not locked:
            return GcReport(ran=False)
        return _gc_locked(store)


def _gc_locked(store: Store) -> GcReport:
    report = GcReport(ran=True)
    packdir = os.path.join(store.path, "packs")
    for name in os.listdir(os.path.join(store.path, "tmp")):  # writers hold the shared lock
        os.unlink(os.path.join(store.path, "tmp", name))
    live = _reachable(store)
    db = store.index.db
    packs = {
        pid: (name, size) for pid, name, size in db.execute("SELECT id, name, size FROM packs")
    }
    rows = db.execute("SELECT key, pack, length FROM objects").fetchall()
    used: dict[int, int] = {pid: 0 for pid in packs}
    dead = []
    for key, pid, length in rows:
        if key in live:
            used[pid] += length
        else:
            dead.append(key)
    empty = [pid for pid, n in used.items() if n == 0]
    sparse = [pid for pid, n in used.items() if 0 < n < REPACK_BELOW * packs[pid][1]]
    writer = PackWriter(store.path)
    moved = []
    try:
        for pid in sparse:
            name = packs[pid][0]
            for key, offset, length, size, type_ in db.execute(
                "SELECT key, offset, length, size, type FROM objects WHERE pack=?", (pid,)
            ).fetchall():
                if key in live:
                    writer.add_frame(type_, key, size, store.reader.frame(name, offset, length))
                    moved.append(key)
        new_packs = writer.finish()
    except BaseException:
        writer.abort()
        raise
    gone = empty + sparse
    with store.index.write() as w:
        # invalidate every files cache: their keys may name objects deleted here
        w.execute(
            "INSERT INTO meta(key, value) VALUES ('generation', ?) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value",
            (uuid.uuid4().hex,),
        )
        w.executemany("DELETE FROM objects WHERE key=?", [(k,) for k in dead])
        for p in new_packs:
            npid = w.execute(
                "INSERT INTO packs(name, size) VALUES (?, ?)", (p.name, p.size)
            ).lastrowid
            w.executemany(
                "UPDATE objects SET pack=?, offset=? WHERE key=?",
                [(npid, o.offset, o.key) for o in p.objects],
            )
        w.executemany("DELETE FROM packs WHERE id=?", [(pid,) for pid in gone])
    store.reader.close()
    known = {name for name, _ in packs.values()} | {p.name for p in new_packs}
    for pid in gone:
        _unlink(os.path.join(packdir, packs[pid][0]), report)
    for name in os.listdir(packdir):  # packs of snapshots killed before their index commit
        if name not in known:
            _unlink(os.path.join(packdir, name), report)
    fsync_dir(packdir)
    report.objects_removed = len(dead)
    report.packs_removed = len(empty)
    report.packs_rewritten = len(sparse)
    report.bytes_freed -= sum(p.size for p in new_packs)
    return report


def _unlink(path: str, report: GcReport) -> None:
    try:
        report.bytes_freed += os.path.getsize(path)
        os.unlink(path)
    except FileNotFoundError:
        pass
