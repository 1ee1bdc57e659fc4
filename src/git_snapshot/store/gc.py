"""Garbage collection: a plan, then its execution, both under the store's exclusive lock (so no
snapshot is half written meanwhile).

``plan`` marks what is live: every object reachable from a snapshot's root tree, every
snapshot's record, and every tombstone (FORGET objects must outlive the records they name, so
that ``repair`` never brings a forgotten snapshot back). It finds the dead objects, the packs
holding nothing live, the packs mostly dead or holding nothing live but a few tombstones (to
repack: the small packs of forgets merged), and the orphans: pack files that no
index row names. An orphan is reclaimed only when it holds no snapshot record the index does
not know (one left by a snapshot killed before its index commit is ``repair``'s to bring
back) and no object such a record reaches that the index lacks, or when an earlier gc doomed
it. What those records reach is live too (``_orphan_records``: repair would reference it);
while one of them (or a tree below it) does not read back, every object the index lists is.

``execute`` runs the plan in the order a full disk needs: first one transaction drops the dead
rows and the rows of wholly dead packs, then those packs and the reclaimable orphans are
unlinked (space comes back before any is needed), then the store's reserve is made again, and
only then are sparse packs repacked. Rows always go before files, and a file whose rows went
is noted as doomed in the same transaction, so a kill anywhere leaves every snapshot readable
and at most files that the next gc deletes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import zstandard

from git_snapshot.errors import UserError
from git_snapshot.store import filescache
from git_snapshot.store import leftovers
from git_snapshot.store.core import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import FORGET
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree
from git_snapshot.store.packs import MAX_PACK
from git_snapshot.store.packs import REC
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.reserve import RESERVE_BYTES
from git_snapshot.store.reserve import ensure_reserve
from git_snapshot.store.reserve import no_room
from git_snapshot.store.reserve import with_room
from git_snapshot.store.safewrite import fsync_dir
from git_snapshot.store.safewrite import has_room

REPACK_BELOW = 0.5  # rewrite a pack when less than this share of its bytes is still in use
REPACK_BATCH = MAX_PACK  # live bytes copied per transaction: bounds the space a repack needs
# packs holding nothing live but tombstones (each forget writes one: ~200 bytes in a 4 KiB
# block) merged into one when two or more are smaller than this: the pack count no longer
# grows by one per forgotten snapshot (RED39 A5), and a merged pack is rewritten only while
# it is small (one per ~300 tombstones stays)
MERGE_TOMBSTONES_BELOW = 64 << 10


@dataclass(frozen=True)
class PackUse:
    id: int
    name: str
    size: int
    live: int  # bytes of its live objects, headers included


@dataclass
class GcPlan:
    dead: list[bytes] = field(default_factory=list)  # objects no snapshot needs
    empty: list[PackUse] = field(default_factory=list)  # packs holding nothing live
    sparse: list[PackUse] = field(default_factory=list)  # less than REPACK_BELOW in use
    orphans: dict[str, int] = field(default_factory=dict)  # reclaimable orphans: name -> size
    kept_orphans: list[str] = field(default_factory=list)  # orphans holding records: repair's
    # of those, a stopped restore's note killed before its index transaction (repair completes
    # it: repair.unfinished_note), named as such
    kept_notes: list[str] = field(default_factory=list)
    # kept orphans holding a record the index lacks that does not read back (or a tree it
    # reaches), or that cannot be scanned: what it names is unknown, so no orphan is reclaimed
    # and no object the index lists is dead (plan)
    unread_records: list[str] = field(default_factory=list)
    # every object a snapshot needs (what execute may not delete): the files caches naming
    # only these are carried over to the new generation
    live: set[bytes] = field(default_factory=set, repr=False)
    # file contents a kept snapshot names that the index lacks (_missing): execute records
    # them as damaged, as verify does
    missing: list[bytes] = field(default_factory=list)
    # marks of damage that no snapshot needs any more (_stale_marks): dropped
    unmarked: list[bytes] = field(default_factory=list)

    @property
    def doomed(self) -> list[str]:
        """The pack files deleted first."""
        return [p.name for p in self.empty] + list(self.orphans)

    @property
    def bytes_to_free(self) -> int:
        return (
            sum(p.size for p in self.empty)
            + sum(self.orphans.values())
            + sum(p.size - p.live for p in self.sparse)
        )


@dataclass
class GcReport:
    ran: bool  # False when another process held the store and wait was False
    objects_removed: int = 0
    packs_removed: int = 0  # wholly dead packs and reclaimed orphans
    packs_rewritten: int = 0
    bytes_freed: int = 0
    orphans_kept: int = 0  # orphan packs holding snapshot records, left for repair
    notes_kept: int = 0  # of them, a stopped restore's note (GcPlan.kept_notes)
    records_unread: int = 0  # of them, holding a record that does not read back (GcPlan)
    caches_kept: int = 0  # files caches carried over to the new generation (_carry_caches)
    missing: int = 0  # file contents kept snapshots name that the index lacks (GcPlan)
    # whether they were recorded as damaged (False: the disk was still full; the next gc)
    marked: bool = True


# -- the entry points --------------------------------------------------------------------------


def gc(store: Store, wait: bool = True) -> GcReport:
    """Delete what no snapshot needs. With *wait* False, skip when a snapshot is running."""
    with store.lock(exclusive=True, wait=wait) as locked:
        if not locked:
            return GcReport(ran=False)
        with disk_errors(store, "garbage collection"):
            sweep_tmp(store)
            leftovers.clean_runs(store.path)  # killed restores' and exports' records
            report = execute(store, plan(store))
            from git_snapshot.store import deltas

            deltas.sweep(store)  # find's cached deltas of forgotten snapshots
            return report


def preview(store: Store, forgetting: Iterable[int] = ()) -> GcPlan:
    """What gc would do if the snapshots with row ids *forgetting* were forgotten; changes
    nothing."""
    with store.lock(exclusive=True):
        return plan(store, forgetting)


# -- the plan ----------------------------------------------------------------------------------


def plan(store: Store, forgetting: Iterable[int] = ()) -> GcPlan:
    """What to delete and repack; the caller holds the exclusive lock."""
    # every object in one table (no writer adds one meanwhile); on a full disk with the
    # reserve given up, as gc_drop's commit below
    with_room(store, store.index.merge_recent)
    packs = store.index.gc_packs()
    on_disk = store.pack_names()
    if on_disk and not packs:
        raise UserError(
            f"garbage collection refused: the index lists no packs but the store holds "
            f"{len(on_disk)}; rebuild the index with: git snapshot repair"
        )
    known = {name for name, _ in packs.values()}
    orphans = _orphan_records(store, [n for n in on_disk if n not in known])
    live, records = _live(store, forgetting)
    objects = store.index.gc_objects()
    # (before the orphans' records add what they name)
    missing = _missing(live, objects, records)
    orphans.reach(store, live)
    if orphans.unread:  # what such a record names is unknown (it may read again, and repair
        # reads a pack on past a damaged group table): nothing the index lists is dead
        live.update(key for key, _, _, _ in objects)
    used = dict.fromkeys(packs, 0)
    result = GcPlan(live=live, missing=missing)
    if not orphans.unread:  # (else what such a record names is unknown: every mark stays)
        result.unmarked = _stale_marks(store, live)
    # a group is shared by its members: each counts its share of the group's bytes
    raw: dict[tuple[int, int], int] = {}  # (pack id, offset) -> raw bytes of its members
    count: dict[tuple[int, int], int] = {}  # (pack id, offset) -> how many members
    member: dict[bytes, tuple[int, int, int]] = {}
    for key, pid, offset, size in store.index.gc_members():
        raw[pid, offset] = raw.get((pid, offset), 0) + size
        count[pid, offset] = count.get((pid, offset), 0) + 1
        member[key] = (pid, offset, size)
    held: set[int] = set()  # the packs the index places at least one object in
    others: set[int] = set()  # the packs holding a live object other than a tombstone
    # the packs holding an object that stays (live, or a tombstone): never deleted whole. Not
    # told by their live bytes: a member's share of its group is 0 for an empty file and
    # may round to 0 for a small one beside big compressible ones, and a pack whose only
    # live objects were such members was deleted with them (the CI at 51d7c63: a snapshot's
    # empty file, written by a snapshot forgotten since, was missing after a gc)
    kept: set[int] = set()
    for key, pid, length, type_ in objects:
        held.add(pid)
        if key in live and type_ != FORGET:
            others.add(pid)
        if key in live or type_ == FORGET:
            kept.add(pid)
            where = member.get(key)
            if where is None:
                used[pid] = used.get(pid, 0) + REC.size + length
            else:  # the index names only members alive at the last gc: see FORMAT.md
                group = where[:2]
                if raw[group]:
                    share = (REC.size + length) * where[2] / raw[group]
                else:  # only empty members (the empty file): theirs evenly, else such a
                    # group alone in its pack counted 1 byte and was rewritten by every gc
                    share = (REC.size + length) / count[group]
                used[pid] = used.get(pid, 0) + max(1, int(share))
        else:
            result.dead.append(key)
    tombstones: list[PackUse] = []
    for pid, (name, size) in sorted(packs.items()):
        use = PackUse(pid, name, size, used[pid])
        if pid not in kept:
            if pid not in held and holds_unknown_record(store, store.pack_path(name)):
                # entered with no object by a repair that could not read it (an I/O error,
                # a damaged header): it may hold snapshots, kept as an orphan would be
                result.kept_orphans.append(name)
                continue
            result.empty.append(use)
        elif use.live < REPACK_BELOW * size:
            result.sparse.append(use)
        elif pid not in others and size < MERGE_TOMBSTONES_BELOW:
            tombstones.append(use)
    if len(tombstones) > 1:  # copied into one pack, as a repack copies (the tombstones stay)
        result.sparse += tombstones
    _sort_orphans(store, orphans, result)
    return result


def _live(store: Store, forgetting: Iterable[int]) -> tuple[set[bytes], list[bytes]]:
    """Every object a snapshot needs, and of them the snapshots' records."""
    roots, records = store.index.gc_snapshot_keys(forgetting)
    live = set(records)
    stack = roots
    while stack:
        key = stack.pop()
        if key in live:
            continue
        live.add(key)
        try:
            entries = store.read_tree(key)
        except CorruptObject as exc:
            raise UserError(
                f"garbage collection stopped, nothing was deleted: {exc}; "
                "run git snapshot verify --read-data"
            ) from exc
        for e in entries:
            if e.kind == DIR:
                stack.append(e.ref)
            elif e.kind == FILE:
                live.add(e.ref)
    return live, records


def _missing(
    live: set[bytes], objects: list[tuple[bytes, int, int, int]], records: list[bytes]
) -> list[bytes]:
    """The file contents in *live* (what the kept snapshots name) that *objects* (the
    index's rows) lack: lost, as a gc before session 50 lost a pack whose only live objects
    were empty or tiny files' group members. Not the snapshots' *records*: no snapshot
    stores one again (repair writes it, as verify says), so a mark would never go and would
    keep every snapshot off its fast paths. (A tree the index lacks stopped _live.) Counted
    first: a set of the index's keys is made only when some are missing."""
    if sum(1 for key, _, _, _ in objects if key in live) == len(live):
        return []
    indexed = {key for key, _, _, _ in objects}
    indexed.update(records)
    return [key for key in live if key not in indexed]


def _stale_marks(store: Store, live: set[bytes]) -> list[bytes]:
    """The keys recorded as damaged that no snapshot needs (not in *live*) and the index
    lacks: such a mark is never cleared by a fresh copy nor dropped with its dead object
    (gc_drop), so it stayed for ever, and while any object is marked no snapshot of any
    worktree takes its fast paths (an unchanged snapshot reused, a folder's tree kept
    whole, the split walk, a prepared tree). Dropped by gc_drop, which makes the
    generation another: a files cache still naming one (carried only if it names nothing
    but live objects) is not trusted."""
    damaged = store.index.damaged()
    if not damaged:
        return []  # (the common case: one query of an empty table)
    gone = [key for key in damaged if key not in live]
    if not gone:
        return []
    indexed = store.index.known(gone)
    return [key for key in gone if key not in indexed]


def _sort_orphans(store: Store, orphans: _OrphanRecords, result: GcPlan) -> None:
    """Each orphan pack reclaimed or kept for repair: kept when it may hold a record the
    index lacks or an object such a record needs; every one kept when what a record names
    is unknown (rather than guess)."""
    keep_all = bool(orphans.unread)
    result.unread_records = sorted(orphans.unread)
    for name, size in orphans.sizes.items():
        if name in orphans.doomed or not (keep_all or name in orphans.needed):
            result.orphans[name] = size
            continue
        result.kept_orphans.append(name)
        from git_snapshot.store.repair import unfinished_note  # (rare: off gc's imports)

        if name in orphans.holding and unfinished_note(store, name):
            result.kept_notes.append(name)


@dataclass
class _OrphanRecords:
    """The orphan packs (no index row names them) and what the snapshot records among them
    that the index lacks need (a snapshot killed after its record pack, before its index
    row): ``repair`` brings such a snapshot back from the packs, so everything its root
    tree reaches is live, and each orphan holding a part of it the index lacks is kept."""

    sizes: dict[str, int] = field(default_factory=dict)  # every orphan on disk: name -> size
    doomed: set[str] = field(default_factory=set)  # dropped by an earlier gc: deletable
    places: dict[bytes, tuple[str, PackedObject]] = field(default_factory=dict)  # their objects
    roots: list[bytes] = field(default_factory=list)  # of the records the index lacks
    holding: set[str] = field(default_factory=set)  # orphans holding such a record
    needed: set[str] = field(default_factory=set)  # orphans to keep (holding included)
    unread: set[str] = field(default_factory=set)  # what they name is unknown: keep them all

    def reach(self, store: Store, live: set[bytes]) -> None:
        """Add to *live* what the records' roots reach (read as repair reads them: the
        index's copy, else an orphan's), and note the orphans holding what the index lacks.
        Trees in *live* already are skipped: the indexed snapshots' walk marked below them."""
        stack = list(self.roots)
        files: set[bytes] = set()
        while stack:
            key = stack.pop()
            if key in live:
                continue
            entries = self._tree(store, key)
            if entries is None:
                continue
            live.add(key)
            for e in entries:
                if e.kind == DIR:
                    stack.append(e.ref)
                elif e.kind == FILE:
                    files.add(e.ref)
        live.update(files)
        here = [k for k in files if k in self.places]
        lacking = set(here) - store.index.known(here)
        self.needed.update(self.places[k][0] for k in lacking)

    def _tree(self, store: Store, key: bytes) -> list[Entry] | None:
        """A tree's entries: from the index's copy, else an orphan's (that orphan needed);
        None when neither holds it (missing for repair too), or neither reads back (noted
        unread: what lies below it is unknown)."""
        loc = store.index.locate(key)
        if loc is not None:
            with contextlib.suppress(CorruptObject):
                return decode_tree(store.read_object(key, loc))
        where = self.places.get(key)
        if where is None:
            if loc is not None:
                self.unread.update(self.holding)
            return None
        data = _read_orphan(store, *where)
        try:
            entries = decode_tree(data) if data is not None else None
        except CorruptObject:
            entries = None
        if entries is None:
            self.unread.update(self.holding)
            return None
        self.needed.add(where[0])
        return entries


def _orphan_records(store: Store, names: list[str]) -> _OrphanRecords:
    """Orphan packs *names* scanned, and the roots of the records among them the index lacks
    (read back whole: one that does not, or a pack that cannot be scanned, is noted unread).
    Costs nothing more than one scan of each orphan (as before) when none holds a record."""
    out = _OrphanRecords(doomed=store.index.gc_doomed() if names else set())
    for name in names:
        path = store.pack_path(name)
        try:
            out.sizes[name] = os.path.getsize(path)
        except FileNotFoundError:
            continue
        if name in out.doomed:
            continue
        try:
            objects = list(scan_pack(path))
        except (OSError, ValueError):  # it may hold a record: what that names is unknown
            out.holding.add(name)
            out.unread.add(name)
            continue
        for o in objects:
            out.places.setdefault(o.key, (name, o))
        records = [o for o in objects if o.type == RECORD and not store.index.has(o.key)]
        if records:
            out.holding.add(name)
        for o in records:
            root = _record_root(store, name, o)
            if root is None:
                out.unread.add(name)
            else:
                out.roots.append(root)
    out.needed.update(out.holding)
    return out


def _record_root(store: Store, name: str, o: PackedObject) -> bytes | None:
    """The root tree of the snapshot record *o* of orphan pack *name*; None when it does not
    read back or parse (repair cannot bring that snapshot back either)."""
    from git_snapshot.store.records import decode_record  # (rare: off gc's imports)

    data = _read_orphan(store, name, o)
    if data is None:
        return None
    try:
        return decode_record(data)[0].root
    except CorruptObject:
        return None


def _read_orphan(store: Store, name: str, o: PackedObject) -> bytes | None:
    """Object *o* of orphan pack *name*, checked against its key; None when it does not
    read back (not recorded as damaged: the index places no object there)."""
    try:
        data = store.reader.read(name, o.offset, o.length, o.size, o.inner)
    except (OSError, ValueError, zstandard.ZstdError):
        return None
    return data if hashlib.sha256(data).digest() == o.key else None


def holds_unknown_record(store: Store, path: str) -> bool:
    """Whether a pack holds a snapshot record the index does not know (a copy made by a
    repack that was killed does not count). A pack we cannot read might: keep it."""
    return unknown_record(store, path) is not False


def unknown_record(store: Store, path: str) -> bool | str:
    """holds_unknown_record, telling a pack that cannot be read up to such a record (it may
    hold one) by why it cannot: True, False, or that reason."""
    try:
        return any(o.type == RECORD and not store.index.has(o.key) for o in scan_pack(path))
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        return why.removeprefix(f"{path}: ")  # (ValueError names the path)


# -- its execution -----------------------------------------------------------------------------


def execute(store: Store, todo: GcPlan) -> GcReport:
    """Carry out *todo*, made under the same exclusive lock."""
    report = GcReport(
        ran=True,
        objects_removed=len(todo.dead),
        orphans_kept=len(todo.kept_orphans),
        notes_kept=len(todo.kept_notes),
        records_unread=len(todo.unread_records),
    )
    empty = [p.id for p in todo.empty]
    generation = store.index.meta_get("generation", "0")
    drop = functools.partial(store.index.gc_drop, todo.dead, empty, todo.doomed, todo.unmarked)
    with_room(store, drop)
    report.bytes_freed += _unlink(store, todo.doomed)
    report.packs_removed = len(todo.doomed)
    report.caches_kept = _carry_caches(store, generation, todo.live)
    ensure_reserve(store)  # before the repack takes the space
    for batch in _batches(todo.sparse):
        report.bytes_freed += with_room(store, functools.partial(_repack, store, batch))
        report.packs_rewritten += len(batch)
    ensure_reserve(store)
    if todo.missing:
        report.missing = len(todo.missing)
        report.marked = _mark_missing(store, todo.missing)
    return report


def _mark_missing(store: Store, keys: list[bytes]) -> bool:
    """Record *keys* (GcPlan.missing) as damaged, as verify records them: the next snapshot
    reads each file of such a content still on disk again and stores it, which heals every
    snapshot naming it (its files cache would have kept the lost key). Last, in the room
    left once gc freed what it could, repacked and made its reserve again, never taking
    that reserve: on a disk still full, False, and the next gc marks them (30k marks are
    3-4 MB of log; marked first, with the reserve given up for them, prune freed nothing
    on a full disk and said to free some space and run it again)."""
    why = "content missing from the index (found by gc)"
    try:
        store.index.mark_damaged_many(keys, why)
    except (OSError, sqlite3.OperationalError) as exc:
        if not (no_room(exc) and _nearly_full(store)):
            raise
        return False
    return True


def _carry_caches(store: Store, old: str, live: set[bytes]) -> int:
    """The files caches of generation *old* whose every key (root, folders' trees, files'
    contents) is in *live* given a trailer with the index's new generation (made by gc_drop
    when objects went); returns how many. The new generation stands for "objects may be
    gone": it still drops the watcher's prepared trees and the trees a worker keeps, which
    name objects no snapshot holds, but a cache naming only live objects stays as valid as
    it was (session 16: L's next hook and watch snapshot read all 270k files again, 92-95 s).
    A cache naming anything else (an older snapshot's record kept by a retarget, a damaged
    record) stays with the old generation: discarded at its next load. Under gc's exclusive
    lock, no snapshot writes a cache meanwhile; a kill or a full disk leaves a cache of
    either generation, whole or failing its check: at worst a re-read."""
    new = store.index.meta_get("generation", "0")
    if new == old:
        return 0  # nothing deleted: every cache is valid as it is
    try:
        names = sorted(n for n in os.listdir(store.cache_dir) if n.endswith(".cache"))
    except OSError:
        return 0
    kept = 0
    for name in names:
        path = os.path.join(store.cache_dir, name)
        cache = filescache.load(path, old, store.index.has_root)
        if not cache.root or not _names_only(cache, live):
            continue
        if cache.tail is not None:
            cache.tail.generation = new  # (update appends only to a file of its generation)
        try:
            out = filescache.update(path, new, cache, cache.tail, [], {}, store.tmp_dir)
        except OSError:
            continue
        try:
            out.publish()
        except OSError:
            out.discard()
            continue
        kept += 1
    return kept


def _names_only(cache: filescache.FilesCache, live: set[bytes]) -> bool:
    """Whether every key *cache* holds is in *live* (a record that does not parse: no)."""
    if cache.root not in live:
        return False
    head_size, stat_size, key_size = filescache.HEAD.size, filescache.STAT.size, filescache.KEY
    zero = filescache.NO_KEY
    for rec in cache.dirs.values():
        head = filescache.parse(rec)
        if head is None:
            return False
        assert isinstance(rec, bytes)  # (parse says so)
        if head[0] != zero and head[0] not in live:
            return False
        at = head_size + stat_size * head[8]
        for i in range(at, at + key_size * head[8], key_size):
            key = rec[i : i + key_size]
            if key != zero and key not in live:
                return False
    return True


def _batches(packs: list[PackUse]) -> Iterator[list[PackUse]]:
    batch: list[PackUse] = []
    size = 0
    for p in packs:
        if batch and size + p.live > REPACK_BATCH:
            yield batch
            batch, size = [], 0
        batch.append(p)
        size += p.live
    if batch:
        yield batch


def _repack(store: Store, batch: list[PackUse]) -> int:
    """Copy the live objects of *batch* into new packs, point the index at them, delete the
    old packs; returns the bytes this freed."""
    writer = PackWriter(store.path, dictionary=True)
    try:
        for p in batch:
            plain = _dictionary(store, p.name) is None
            rows = store.index.objects_in_pack(p.id)
            groups: dict[int, list[tuple[bytes, int, int, int, int, int]]] = {}
            for row in rows:
                if row[5] >= 0:
                    groups.setdefault(row[1], []).append(row)
            for key, offset, length, size, type_, inner in rows:
                if inner >= 0:
                    if offset in groups:
                        _regroup(store, writer, p.name, groups.pop(offset), plain)
                    continue
                data = None if plain else _read(store, p.name, offset, length, size)
                if data is None:  # a frame that needs no dictionary (or a damaged one) as it is
                    writer.add_frame(type_, key, size, _frame(store, p.name, offset, length))
                else:  # compressed again, with the new pack's dictionary
                    writer.add(type_, key, data)
        new = writer.finish()
    except BaseException:
        writer.abort()
        raise
    old = [p.name for p in batch]
    store.index.gc_move(new, [p.id for p in batch], old)
    return _unlink(store, old) - _size(new)


def _regroup(
    store: Store,
    writer: PackWriter,
    pack: str,
    rows: list[tuple[bytes, int, int, int, int, int]],
    plain: bool,
) -> None:
    """Copy the live members (*rows*) of one group: the group whole when they are all of it
    and its pack has no dictionary, else each member into the writer's groups; a group that
    cannot be read is copied whole (its damage stays where the index records it)."""
    _, offset, length, _, _, _ = rows[0]
    try:
        members, body = store.reader.group_members(pack, offset, length)
    except zstandard.ZstdError as exc:
        raise CorruptObject(f"pack {pack}: {exc}; nothing of it was deleted") from exc
    if plain and len(members) == len(rows):
        writer.add_group(body)
        return
    try:
        datas = [store.reader.read(pack, offset, length, s, i) for _, _, _, s, _, i in rows]
    except zstandard.ZstdError:
        writer.add_group(body)
        return
    for (key, _, _, _, type_, _), data in zip(rows, datas, strict=True):
        writer.add(type_, key, data)


def _frame(store: Store, pack: str, offset: int, length: int) -> bytes:
    try:
        return store.reader.frame(pack, offset, length)
    except zstandard.ZstdError as exc:
        raise CorruptObject(f"pack {pack}: {exc}; nothing of it was deleted") from exc


def _dictionary(store: Store, pack: str) -> bytes | None:
    try:
        return store.reader.dictionary(pack)
    except (OSError, zstandard.ZstdError) as exc:
        raise CorruptObject(f"pack {pack}: {exc}; nothing of it was deleted") from exc


def _read(store: Store, pack: str, offset: int, length: int, size: int) -> bytes | None:
    """An object's content; None when it is damaged (its frame is copied as it is: the
    damage stays where the index records it, and the next snapshot stores it afresh)."""
    try:
        return store.reader.read(pack, offset, length, size)
    except zstandard.ZstdError:
        return None


def _size(packs: list[FinishedPack]) -> int:
    return sum(p.size for p in packs)


def _unlink(store: Store, names: list[str]) -> int:
    """Delete pack files (whose index rows are gone); returns the bytes freed."""
    store.reader.close()  # an open file keeps its blocks after the unlink
    freed = 0
    for name in names:
        path = store.pack_path(name)
        with contextlib.suppress(FileNotFoundError):
            size = os.path.getsize(path)
            os.unlink(path)
            freed += size
    if names:
        fsync_dir(store.packs_dir)
    return freed


# -- leftovers ---------------------------------------------------------------------------------


def sweep_tmp(store: Store) -> int:
    """Empty tmp/ of what killed runs left: files, directories (whatever their modes),
    anything; what cannot be removed stays for a later run and never stops the caller, who
    holds the exclusive lock (every writer holds it shared). Returns the entries removed."""
    try:
        with os.scandir(store.tmp_dir) as it:
            entries = list(it)
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, onerror=_writable_and_retry)
            else:
                os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:  # gone meanwhile: what we wanted
            removed += 1
        except OSError:
            pass
    return removed


def _writable_and_retry(func: Any, path: str, exc_info: Any) -> None:
    """rmtree's error handler: ignore what vanished; open up a read-only or unreadable
    directory a hook left (never following a symlink out of tmp/) and go again."""
    exc = exc_info[1]
    if isinstance(exc, FileNotFoundError):
        return
    if not isinstance(exc, PermissionError):
        raise exc
    os.chmod(os.path.dirname(path), 0o700)
    if stat.S_ISDIR(os.lstat(path).st_mode):
        os.chmod(path, 0o700)
        shutil.rmtree(path, onerror=_writable_and_retry)
    else:
        os.unlink(path)


def sweep_leftovers(store: Store) -> int:
    """What killed runs left in tmp/ goes, unless someone works in the store right now (they
    hold its lock shared): then a later run cleans it. Costs one directory read when tmp/ is
    empty; never fails. Returns the entries removed."""
    try:
        with os.scandir(store.tmp_dir) as it:
            if next(it, None) is None:
                return 0
        with store.lock(exclusive=True, wait=False) as locked:
            return sweep_tmp(store) if locked else 0
    except (OSError, UserError):
        return 0


# -- errors of the disk ------------------------------------------------------------------------

_IO_ERRNOS = (errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM)
_SQLITE_IO = ("disk I/O error", "readonly database", "unable to open database")


@contextmanager
def disk_errors(store: Store, doing: str) -> Iterator[None]:
    """A write to the store that the disk refuses becomes one line naming that disk and what
    to do. Every step leaves the store consistent, so stopping is always safe."""
    try:
        yield
    except (OSError, sqlite3.OperationalError) as exc:
        disk = mount_point(store.path)
        if no_room(exc) and _nearly_full(store):
            raise UserError(
                f"{doing} stopped: the disk holding the snapshot store ({disk}) is full; "
                f"the store is intact; free some space on {disk} and run git snapshot prune "
                "again"
            ) from exc
        if isinstance(exc, PermissionError) or "readonly database" in str(exc):
            raise store.not_writable("files", exc) from exc  # the user's own, made read-only
        if no_room(exc) or _io_failure(exc):
            what = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise UserError(
                f"{doing} stopped: the disk holding the snapshot store ({disk}) refused a "
                f"write ({what}); the store is intact; check that disk and its permissions, "
                "then run git snapshot verify"
            ) from exc
        raise


def _io_failure(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _IO_ERRNOS
    return any(m in str(exc) for m in _SQLITE_IO)


def _nearly_full(store: Store) -> bool:
    """SQLite says "disk I/O error" for a full disk too: the free space tells them apart."""
    try:
        return not has_room(store.tmp_dir, 2 * RESERVE_BYTES)  # what this process may write
    except OSError:
        return True


def mount_point(path: str) -> str:
    """The mount point of the file system holding *path*: how people know a disk."""
    try:
        path = os.path.realpath(path)
        dev = os.stat(path).st_dev
        while path != "/":
            parent = os.path.dirname(path)
            if os.stat(parent).st_dev != dev:
                break
            path = parent
    except OSError:
        pass
    return path
