"""Rebuild the index from the packs alone (``git snapshot repair``).

Every pack header names its objects; every snapshot left a RECORD object in a pack before its
index row, and every forget a FORGET tombstone. So a new index can be built from the packs:
every object location, every snapshot (minus the forgotten ones). Snapshots of an old index
that is still readable are kept too (those written before records existed get one now).

Crash-safe: the new index is built in ``tmp/`` and put in place only when complete, in one
step (``_swap_in``: readers see the old index or the new one, never none); the old one is
kept (``index.sqlite.before-repair``), so a kill at any point leaves a store that ``repair``
(run again) rebuilds.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.errors import UserError
from git_snapshot.store.core import Store
from git_snapshot.store.index import LOW_SPACE
from git_snapshot.store.index import Index
from git_snapshot.store.index import Snapshot
from git_snapshot.store.index import uri_path
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import FORGET
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packread import open_pack
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.packs import parse_table
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.records import decode_record
from git_snapshot.store.records import decode_tombstone
from git_snapshot.store.records import encode_forget
from git_snapshot.store.records import encode_record
from git_snapshot.store.records import lineage
from git_snapshot.store.records import tombstone_highest
from git_snapshot.store.reserve import no_room
from git_snapshot.store.reserve import release_reserve
from git_snapshot.store.safewrite import fsync_dir
from git_snapshot.store.safewrite import has_room

INDEX_FILES = ("", "-wal", "-shm")
BEFORE_REPAIR = ".before-repair"


@dataclass
class RepairReport:
    packs: int = 0
    objects: int = 0
    snapshots: int = 0
    old_index: str = "usable"  # usable, missing or damaged
    recovered: list[tuple[str, int]] = field(default_factory=list)  # not in the old index
    forgotten: int = 0  # records in packs whose snapshots were forgotten on purpose
    # (source, number) of each of them: named when the old index could not say which forgets
    # had taken effect (a forget killed before its index transaction is finished then)
    forgotten_ids: list[tuple[str, int]] = field(default_factory=list)
    # packs holding nothing but the tombstones of forgets that never reached the index (killed
    # or failed before their index transaction): removed, their snapshots kept, as the index
    # (still readable) lists them; (source, number) of each snapshot they named that it lists
    undone_packs: list[str] = field(default_factory=list)
    undone: list[tuple[str, int]] = field(default_factory=list)
    # packs of a snapshot's record given anew (records.restate: a stopped restore's note)
    # whose index transaction never came (killed): removed, the snapshot kept as listed
    unrestated: list[str] = field(default_factory=list)
    # such packs whose snapshot the old index lists under the record replaced: entered, the
    # row given the new record (RED36 B1: the note completed, not lost)
    restated: list[str] = field(default_factory=list)
    dropped: list[tuple[str, int, str]] = field(default_factory=list)  # root gone: unusable
    incomplete: list[tuple[str, int, int]] = field(default_factory=list)  # missing paths
    bad_packs: list[tuple[str, str]] = field(default_factory=list)  # read up to the damage
    # (pack, why): a pack the disk would not read now (an I/O error, a permission): what it
    # holds past what was read is not entered; a repair once it reads again enters it
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # pack -> objects past its damage kept from the old index (each read back intact)
    salvaged: dict[str, int] = field(default_factory=dict)
    # bad_packs entries of a group whose table alone is damaged and whose every member was
    # re-derived from its content: nothing of it is lost
    whole: list[tuple[str, str]] = field(default_factory=list)
    # damaged pack -> the new pack its objects were copied into (each read back against its
    # key first): only a pack whose every damage is a group table re-derived whole
    rewritten: dict[str, str] = field(default_factory=dict)
    # (source, old number, new number): a number a damaged index had handed out twice
    renumbered: list[tuple[str, int, int]] = field(default_factory=list)
    stale_records: list[bytes] = field(default_factory=list)  # forgotten by the renumbering

    @property
    def ok(self) -> bool:
        left = [bad for bad in self.bad_packs if bad[0] not in self.rewritten]
        return not (self.dropped or self.incomplete or left or self.unreadable)


@dataclass
class _Old:
    """What a still-readable old index knows that the packs may not."""

    snapshots: list[tuple[Snapshot, str]] = field(default_factory=list)
    next_seq: dict[str, int] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)  # source -> its path
    damaged: dict[bytes, str] = field(default_factory=dict)
    # the packs it lists (None: no old index could be read, so which tombstones took effect
    # is not known)
    packs: set[str] | None = None
    # the pack files its last gc dropped and may have been killed before unlinking
    # (Index.gc_doomed): dead data, copies a repack made (a merge of tombstone packs), or an
    # orphan it reclaimed (a forget killed before its index transaction: still undone)
    doomed: set[str] = field(default_factory=set)


def repair(store: Store, dry_run: bool = False) -> RepairReport:
    """Rebuild *store*'s index (opened with ``Store(repairing=True)``). On a full disk the
    store's reserve is given up for the new index (as gc does for its commit), and if that
    is not enough, one line says so: the old index stays where it was."""
    with store.lock(exclusive=True):
        for attempt in range(2):
            try:
                return _repair_locked(store, dry_run)
            except (OSError, sqlite3.Error) as exc:
                _remove_index_files(_new_path(store))
                if isinstance(exc, PermissionError):  # the user's own store (check_yours)
                    part = os.path.relpath(exc.filename or store.path, store.path)
                    raise store.not_writable(part.split(os.sep)[0], exc) from None
                if not (no_room(exc) or _low_space(store.tmp_dir)):
                    raise
                if attempt or not release_reserve(store):
                    raise UserError(
                        f"the disk holding the store {store.path} is full: repair needs room "
                        "for a new index beside the packs; free some space there, then run "
                        "git snapshot repair again (nothing was changed)"
                    ) from None
    raise AssertionError("unreachable")


def _new_path(store: Store) -> str:
    return os.path.join(store.tmp_dir, "index-rebuild.sqlite")


def _low_space(path: str) -> bool:
    """Whether the disk at *path* is (nearly) full: an Index then opens read-only, which
    for a new file fails as a missing table rather than as a full disk."""
    try:
        return not has_room(path, LOW_SPACE)
    except OSError:
        return False


def _repair_locked(store: Store, dry_run: bool) -> RepairReport:
    report = RepairReport()
    old = _read_old(store.index_path, report)
    new_path = _new_path(store)
    _remove_index_files(new_path)
    index = Index(new_path)
    if index.readonly:  # no room to write it
        index.close()
        raise OSError(errno.ENOSPC, "no room for a new index", new_path)
    try:
        store.index = index  # reads below go through the new index
        records, tombstones = _scan_packs(store, index, report, old)
        for key, why in old.damaged.items():
            index.mark_damaged(key, why)
        snaps = _merge(store, records, tombstones, old, report)
        seen = list(records.values())
        _enter(store, index, snaps, old, report, seen, dry_run, tombstones.highest)
        index.close()
        if not dry_run:
            _swap_in(store, new_path, report.old_index == "usable")
            _remove_packs(store, [*report.undone_packs, *report.unrestated])
    finally:
        index.close()
        with contextlib.suppress(AttributeError):
            del store.index
        if dry_run:
            _remove_index_files(new_path)
    if not dry_run:
        store.index = Index(store.index_path)
        _rewrite_whole(store, report)
    return report


def _rewrite_whole(store: Store, report: RepairReport) -> None:
    """Copy into a new pack the objects of each pack whose only damage is a group table whose
    members were all re-derived (report.whole), and drop it: else it stays damaged on disk,
    verify --read-data names it for ever, and every later rebuild depends on re-deriving it
    again. Each object is read back against its key before the copy; a pack holding one
    that does not read back, or no room for the copy, is left as it is (and still named)."""
    whole = {name for name, _ in report.whole}
    names = whole - {name for name, why in report.bad_packs if (name, why) not in report.whole}
    if not names:
        return
    store.index.merge_recent()
    ids = {name: pid for pid, (name, _) in store.index.gc_packs().items()}
    for name in sorted(names):
        pid = ids.get(name)
        if pid is None:
            continue
        writer = PackWriter(store.path, dictionary=True)
        try:
            for key, _, _, _, type_, _ in store.index.objects_in_pack(pid):
                writer.add(type_, key, store.read_object(key))
            new = writer.finish()
        except (CorruptObject, OSError):
            writer.abort()
            continue
        except BaseException:
            writer.abort()
            raise
        try:
            store.index.gc_move(new, [pid], [name])
        except (sqlite3.Error, OSError):  # a full disk: the copy goes, the pack stays named
            for p in new:
                with contextlib.suppress(OSError):
                    os.unlink(store.pack_path(p.name))
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(store.pack_path(name))
        fsync_dir(os.path.dirname(store.pack_path(name)))
        # none copied: the index reads none of its objects from it (each is in another pack
        # as well: a repair killed before it deleted a pack it had rewritten), not "empty"
        report.rewritten[name] = (
            ", ".join(p.name for p in new) or "(none: no object is read from it)"
        )


def _read_old(path: str, report: RepairReport) -> _Old:
    if not os.path.exists(path):
        report.old_index = "missing"
        return _Old()
    old = _Old()
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for key, path, seq in db.execute("SELECT key, path, next_seq FROM sources"):
                old.next_seq[key], old.paths[key] = seq, path
            rows = db.execute(
                "SELECT src.key, src.path, s.seq, s.created, s.trigger, s.message, s.worktree, "
                "s.root, s.files, s.bytes, s.added_bytes, s.skipped, s.meta, s.record "
                "FROM snapshots s JOIN sources src ON src.id = s.source"
            ).fetchall()
            for r in rows:
                snap = Snapshot(0, r[0], r[2], r[3], r[4], r[5], r[6], bytes(r[7]), *r[8:12])
                snap.meta = json.loads(r[12])
                snap.record = bytes(r[13]) if r[13] is not None else None
                old.snapshots.append((snap, r[1]))
            with contextlib.suppress(sqlite3.Error):  # no such table in version 1
                old.damaged = {bytes(k): w for k, w in db.execute("SELECT key, why FROM damaged")}
            old.packs = {name for (name,) in db.execute("SELECT name FROM packs")}
            old.doomed = _doomed(db)
        finally:
            db.close()
    except (sqlite3.Error, ValueError, TypeError):
        report.old_index = "damaged"
        return _Old()
    return old


def _doomed(db: sqlite3.Connection) -> set[str]:
    """The old index's gc_doomed list (Index.gc_doomed); none when it cannot be read."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key='gc_doomed'").fetchone()
        names = json.loads(row[0]) if row else []
    except (sqlite3.Error, ValueError):
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


@dataclass
class Tombstones:
    """What the packs' tombstones say: the records forgotten (forget, retention), and the
    records given anew (records.restate: old -> new)."""

    forgotten: set[bytes] = field(default_factory=set)
    superseded: dict[bytes, bytes] = field(default_factory=dict)
    # source -> (the highest number a forget's tombstone names, the source's path): numbers
    # whose records a gc dropped since (RED44 F6b)
    highest: dict[str, tuple[int, str]] = field(default_factory=dict)


def _scan_packs(
    store: Store, index: Index, report: RepairReport, old: _Old
) -> tuple[dict[bytes, tuple[Snapshot, str]], Tombstones]:
    """Enter every object the pack headers name (an object in several packs at the place of
    an intact copy); return the records and tombstones read. The packs of forgets that never
    reached a readable old index are left out (:func:`_undone_forgets`)."""
    headers = {name: list(_headers(store, name, report)) for name in store.pack_names()}
    for name in _undone_forgets(store, headers, old, report):
        del headers[name]
    # a pack read up to its damage: the objects the old index placed in it past the damage
    # (a damaged group table, say: data intact, headers not) stay, where they read back intact
    for name in sorted(
        {name for name, _ in report.bad_packs + report.unreadable if name in headers}
    ):
        kept = _salvage(store, name, {o.key for o in headers[name]})
        if kept:
            headers[name] += kept
            report.salvaged[name] = len(kept)
    places: dict[bytes, list[tuple[str, PackedObject]]] = {}
    # an object a killed gc copied is entered at its copy, not in a pack that gc doomed: the
    # doomed pack then holds nothing and the next gc deletes it whole, whatever order the
    # file system lists the packs in
    for name in sorted(headers, key=lambda name: name in old.doomed):
        for o in headers[name]:
            places.setdefault(o.key, []).append((name, o))
    chosen = {key: _intact_copy(store, key, where) for key, where in places.items()}
    for name, objects in headers.items():
        mine = [o for o in objects if chosen[o.key] == name]
        index.add_packs([FinishedPack(name, os.path.getsize(store.pack_path(name)), mine)])
        report.packs += 1
    report.objects = len(places)
    records: dict[bytes, tuple[Snapshot, str]] = {}
    tombstones = Tombstones()
    for key, where in places.items():
        type_ = where[0][1].type
        if type_ not in (RECORD, FORGET):
            continue
        try:
            data = store.read_object(key)
            if type_ == RECORD:
                records[key] = decode_record(data)
                continue
            named, by = decode_tombstone(data)
            if by is None:
                tombstones.forgotten.update(named)
                for src, (seq, path) in tombstone_highest(data).items():
                    if seq > tombstones.highest.get(src, (0, ""))[0]:
                        tombstones.highest[src] = (seq, path)
            else:
                tombstones.superseded.update((k, by) for k in named if k != by)
        except CorruptObject as exc:
            report.bad_packs.append((chosen[key], str(exc)))
    return records, tombstones


def _undone_forgets(
    store: Store, headers: dict[str, list[PackedObject]], old: _Old, report: RepairReport
) -> list[str]:
    """The packs of forgets that never took effect: a forget writes its tombstone pack, then
    enters it and drops the snapshots' rows in one index transaction (Index.forget), and
    takes effect there, as everything does (data first, index rows last). A pack the old
    index (readable) does not list, holding nothing but tombstones, is the leftover of a
    forget killed or failed before that transaction: the snapshots it names are still
    listed, and the user was never told they were forgotten. Such a pack is what gc
    reclaims as an orphan; repair removes it too (report.undone_packs), for else an index
    rebuilt later from the packs alone would drop snapshots this one keeps (a gc killed
    before it unlinked such an orphan leaves it doomed: still removed). A doomed pack naming
    no listed snapshot is a killed gc's copy (a merge of tombstone packs): entered, the next
    gc's to delete, and no forget. A pack of a snapshot's record given anew with its
    tombstone of the old one (records.restate: the tombstone names the new record) whose
    transaction never came is completed when the index lists that snapshot under the old
    record (_complete: report.restated), else removed (no longer listed so: forgotten since;
    report.unrestated; entered, its record was a forgotten one back, or a second snapshot of
    the same number).
    Nothing is left out when no old index could be read: each tombstone then counts (the
    user asked), and a record given anew replaces the one it names (_merge)."""
    if old.packs is None:
        return []
    hurt = {name for name, _ in report.bad_packs + report.unreadable}
    listed = {s.record: s for s, _ in old.snapshots if s.record is not None}
    out: list[str] = []
    for name, objects in sorted(headers.items()):
        if name in old.packs or name in hurt:
            continue
        read = tombstone_pack(store, name, objects)
        if read is None:
            continue  # a snapshot of its own (a commit killed before its row): entered
        if name in old.doomed and listed.keys().isdisjoint([*read.forgotten, *read.anew]):
            continue  # a killed gc's copy (a merge of tombstone packs) or dead: entered
        if read.anew and _complete(read, listed):
            report.restated.append(name)  # entered: the row takes its record (_merge)
            continue
        out.append(name)
        if read.anew:
            report.unrestated.append(name)
            continue
        for record in read.forgotten:
            snap = listed.get(record)
            if snap is not None and (snap.source, snap.id) not in report.undone:
                report.undone.append((snap.source, snap.id))
    report.undone_packs = [name for name in out if name not in report.unrestated]
    return out


def _complete(read: TombstonePack, listed: dict[bytes, Snapshot]) -> bool:
    """Whether the restatement *read* (a pack the old index does not list) is completed: the
    snapshot it gives anew is listed under the very record its tombstone replaces (killed
    between the pack and its index transaction; the row may hold the note already: restored.
    wrote writes it first), and that row takes the new record and its meta, as the transaction
    would have (RED36 B1: removed, its note was lost to an index rebuilt later from the packs
    alone). Not when the snapshot is no longer listed so (forgotten since, or given anew
    again by a later note), nor when the pack lacks the new record (no note writes one so):
    the pack is removed then."""
    if not all(old in listed and new in read.records for old, new in read.anew.items()):
        return False
    for old, new in read.anew.items():
        snap = listed.pop(old)  # (another pack giving it anew too is removed)
        snap.record, snap.meta = new, read.records[new].meta
    return True


@dataclass
class TombstonePack:
    """What a pack of snapshot records and tombstones alone holds (a forget's, or a record
    given anew: records.restate): the records forgotten, the records given anew (old -> new)
    and the records it holds."""

    forgotten: list[bytes] = field(default_factory=list)
    anew: dict[bytes, bytes] = field(default_factory=dict)
    records: dict[bytes, Snapshot] = field(default_factory=dict)


def tombstone_pack(store: Store, name: str, objects: list[PackedObject]) -> TombstonePack | None:
    """Pack *name* (its *objects*, from its headers) read as a forget's or a restatement's:
    None when it holds anything else (other objects, a record no tombstone of it gives anew:
    a snapshot of its own), nothing, or does not read back whole."""
    if not objects or any(o.type not in (FORGET, RECORD) for o in objects):
        return None
    out = TombstonePack()
    try:
        for o in objects:
            data = store.reader.read(name, o.offset, o.length, o.size, o.inner)
            if hashlib.sha256(data).digest() != o.key:
                raise ValueError("does not match its hash")
            if o.type == RECORD:
                out.records[o.key] = decode_record(data)[0]
                continue
            names, by = decode_tombstone(data)
            if by is None:
                out.forgotten += names
            else:
                out.anew.update((k, by) for k in names if k != by)
    except (OSError, ValueError, CorruptObject, _zstd_errors()):
        return None  # entered as before: verify and the scan name what is wrong
    if set(out.records) - set(out.anew.values()):
        return None
    return out


def unfinished_note(store: Store, name: str) -> bool:
    """Whether pack *name*, not in the index, holds nothing but a snapshot's record given anew
    and its tombstone of the one replaced (records.restate: a stopped restore's note of what
    it wrote, killed before its index transaction), read as _undone_forgets reads it: verify
    and prune name it so (RED36 B3), not as snapshots the index lacks."""
    try:
        objects = list(scan_pack(store.pack_path(name)))
    except (OSError, ValueError):
        return False
    read = tombstone_pack(store, name, objects)
    return read is not None and bool(read.anew)


def _remove_packs(store: Store, names: list[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(store.pack_path(name))
    if names:
        fsync_dir(os.path.dirname(store.pack_path(names[0])))


def _salvage(store: Store, name: str, have: set[bytes]) -> list[PackedObject]:
    """The objects the old index (still at its place) locates in pack *name*, besides *have*,
    that read back there matching their key: a scan stopped at a damaged header or group
    table did not reach them, and dropping them would lose data no read ever found damaged."""
    path = store.index_path
    if not os.path.exists(path):
        return []
    rows: list[tuple[bytes, int, int, int, int, int]] = []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for table in ("objects", "recent"):
                with contextlib.suppress(sqlite3.Error):  # no recent table before schema 5
                    rows += db.execute(
                        f"SELECT o.key, o.type, o.offset, o.length, o.size, o.member FROM {table} "
                        "o JOIN packs p ON p.id = o.pack WHERE p.name = ?",
                        (name,),
                    ).fetchall()
        finally:
            db.close()
    except sqlite3.Error:
        return []
    out: list[PackedObject] = []
    for key, type_, offset, length, size, inner in rows:
        key = bytes(key)
        if key in have:
            continue
        o = PackedObject(key, type_, offset, length, size, inner)
        if store.reader.intact(name, o):
            have.add(key)
            out.append(o)
    return out


def _intact_copy(store: Store, key: bytes, where: list[tuple[str, PackedObject]]) -> str:
    """The pack of the first copy of *key* that reads back intact (copies in several packs:
    a damaged object stored afresh, or a repack that was interrupted); the first if none."""
    if len(where) == 1:
        return where[0][0]
    for name, o in where:
        if store.reader.intact(name, o):
            return name
    return where[0][0]


def _headers(store: Store, name: str, report: RepairReport) -> Iterator[PackedObject]:
    """The records of a pack up to the first damage that breaks its framing (what lies before
    it is still good); a group whose table alone is damaged is named, and what of it can be
    re-derived from its content is kept (``rederive``)."""
    path = store.pack_path(name)

    def damaged(why: str, offset: int, length: int) -> list[PackedObject]:
        members, lost = rederive(store, name, offset, length)
        if members and not lost:
            said = f"all {len(members)} of its members re-derived from their content"
        elif members:
            said = f"{len(members)} of its members re-derived from their content, {lost} not"
        else:
            said = "its members passed over"
        report.bad_packs.append((name, f"{why}: {said}, the rest read"))
        if members and not lost:
            report.whole.append(report.bad_packs[-1])
        return members

    try:
        yield from scan_pack(path, damaged)
    except OSError as exc:  # the disk, not the pack: it may read whole later
        report.unreadable.append((name, exc.strerror or str(exc)))
    except ValueError as exc:
        report.bad_packs.append((name, f"read up to the damage ({exc})"))


def rederive(store: Store, name: str, offset: int, length: int) -> tuple[list[PackedObject], int]:
    """The members of a group whose table failed its check (its own hash, or its sizes against
    the header's), taken from the content: the frame decompressed (zstd's checks hold) and cut
    by the table's sizes, each piece keyed by its own SHA-256, whatever key the table gives.
    A key is the hash of the content it names, so this never puts wrong data under a key: a
    cut in the wrong place (a size damaged) yields pieces no tree names, and the files they
    held are found missing, as before. A piece the table types as a tree must read as one.
    Returns (the members, how many could not be kept); ([], 0) when the content does not
    come out whole."""
    try:
        with open_pack(store.pack_path(name)) as f:
            f.seek(offset)
            body = f.read(length)
        members, _ = parse_table(body, name)
        content = store.reader.group(name, offset, length)
    except (OSError, ValueError, _zstd_errors()):
        return [], 0
    out: list[PackedObject] = []
    lost = 0
    inner = 0
    for type_, _, size in members:
        piece = content[inner : inner + size]
        if type_ in (BLOB, TREE, RECORD, FORGET) and (
            type_ != TREE or piece.startswith(TREE_MAGIC)
        ):
            out.append(
                PackedObject(hashlib.sha256(piece).digest(), type_, offset, length, size, inner)
            )
        else:
            lost += 1
        inner += size
    return out, lost


def _zstd_errors() -> type[Exception]:
    from git_snapshot.store import zstd  # as store.core does: zstandard's error type

    error: type[Exception] = zstd.load().ZstdError
    return error


def _merge(
    store: Store,
    records: dict[bytes, tuple[Snapshot, str]],
    tombstones: Tombstones,
    old: _Old,
    report: RepairReport,
) -> list[tuple[Snapshot, str]]:
    """Snapshots of the packs (minus the forgotten) and of the old index, one per number."""
    chosen: dict[tuple[str, int], tuple[Snapshot, str]] = {}
    known = {(s.source, s.id) for s, _ in old.snapshots}
    twice: list[tuple[Snapshot, str, bytes]] = []  # a number another record holds already
    top = {src: n - 1 for src, n in old.next_seq.items()}  # the highest number given
    for src, (seq, _) in tombstones.highest.items():  # (forgotten, their records pruned)
        top[src] = max(top.get(src, 0), seq)
    # a record the old index holds keeps that row's number and meta: a pull that found its
    # number taken gave it the next free one (and marked it pulled) in the row only, so its
    # record still says the number it had where it was taken
    rows = {s.record: (s, p) for s, p in old.snapshots if s.record is not None}
    # a snapshot's record given anew (records.restate) replaces the one its tombstone names:
    # that one is superseded, not forgotten; the new one goes with a forget of the old (the
    # restatement killed before its index transaction, the snapshot forgotten since)
    earlier = {new: was for was, new in tombstones.superseded.items()}
    for key, (snap, path) in sorted(records.items(), key=lambda kv: (kv[1][0].created, kv[0])):
        snap, path = rows.get(key, (snap, path))
        top[snap.source] = max(top.get(snap.source, 0), snap.id)
        # a readable old index that still lists a tombstoned record is the truth: that forget
        # never took effect (its rows and its tombstone pack are one transaction), and the
        # row is kept below; so it is not counted as forgotten either
        replaced = tombstones.superseded.get(key) in records
        forgot = not tombstones.forgotten.isdisjoint(lineage(key, earlier))
        if key not in rows and (replaced or forgot):
            if not replaced:
                report.forgotten += 1
                report.forgotten_ids.append((snap.source, snap.id))
            continue
        snap.record = key
        if (snap.source, snap.id) in chosen:
            twice.append((snap, path, key))
            continue
        chosen[(snap.source, snap.id)] = (snap, path)
        if old.snapshots and (snap.source, snap.id) not in known:
            report.recovered.append((snap.source, snap.id))
    for snap, path in old.snapshots:
        chosen.setdefault((snap.source, snap.id), (snap, path))
    # a damaged index (a source's row lost) handed a number out twice: the earlier snapshot
    # keeps it (what a loss report names), the later one takes a new number, its record is
    # written again under it and the old one forgotten, so that no repair drops either
    for snap, path, key in twice:
        number = top[snap.source] = top[snap.source] + 1
        report.renumbered.append((snap.source, snap.id, number))
        report.stale_records.append(key)
        snap.id, snap.record = number, None
        chosen[(snap.source, number)] = (snap, path)
    return [chosen[k] for k in sorted(chosen)]


def _enter(
    store: Store,
    index: Index,
    snaps: list[tuple[Snapshot, str]],
    old: _Old,
    report: RepairReport,
    seen: list[tuple[Snapshot, str]],
    dry_run: bool = False,
    highest: dict[str, tuple[int, str]] | None = None,
) -> None:
    """Enter the sources and every snapshot whose root tree is readable. A number the packs
    show was given (*seen*: every record read, the forgotten ones too; *highest*: source ->
    (the highest number its forgets' tombstones name, its path), whose records a gc may
    have dropped) is never handed out again: a loss report may name it (RED44 F6b: after a
    forget of the newest snapshots, a prune and a lost index, their numbers were given
    again). Records written again go into a new pack, which a *dry_run* throws away (it
    leaves the store as it was)."""
    next_seq = dict(old.next_seq)
    # a source of the old index with no snapshot left (every one forgotten, their records
    # pruned) keeps its next number too: it was dropped, and its numbers given again
    paths: dict[str, str] = dict(old.paths)
    for src, (seq, path) in (highest or {}).items():
        next_seq[src] = max(next_seq.get(src, 1), seq + 1)
        paths.setdefault(src, path)  # (the old index's is newer: the forget's at that time)
    for snap, path in [*seen, *snaps]:
        next_seq[snap.source] = max(next_seq.get(snap.source, 1), snap.id + 1)
        paths[snap.source] = path
    for source, path in paths.items():
        index.set_source(source, path, next_seq[source])
    backfill = PackWriter(store.path)
    try:
        for snap, path in snaps:
            try:
                missing = _missing(store, snap.root)
            except CorruptObject as exc:
                report.dropped.append((snap.source, snap.id, str(exc)))
                continue
            if missing:
                report.incomplete.append((snap.source, snap.id, missing))
            if not _readable(store, snap.record):  # none yet (version 1), or damaged
                data = encode_record(snap, path)
                snap.record = hashlib.sha256(data).digest()
                backfill.add(RECORD, snap.record, data)
            index.add_snapshot([], snap)
            report.snapshots += 1
        if report.stale_records:
            data = encode_forget(report.stale_records)
            backfill.add(FORGET, hashlib.sha256(data).digest(), data)
        _keep_dropped_numbers(index, backfill, report.dropped, paths)
        if dry_run:
            backfill.abort()
        else:
            index.add_packs(backfill.finish())
    except BaseException:
        backfill.abort()
        raise


def _keep_dropped_numbers(
    index: Index,
    backfill: PackWriter,
    dropped: list[tuple[str, int, str]],
    paths: dict[str, str],
) -> None:
    """A tombstone naming no record, only the highest number of each repository's snapshots
    *dropped* (their root tree unreadable): their records are no snapshot's now, a gc
    reclaims them, and a repair after a later lost index gave those numbers again (review
    RS45). A record they name stays unforgotten: the packs given back, a repair brings the
    snapshot back under its number."""
    highest: dict[str, tuple[int, str]] = {}
    for source, seq, _ in dropped:
        if seq > highest.get(source, (0, ""))[0]:
            highest[source] = (seq, paths.get(source, ""))
    if highest:
        data = encode_forget([], highest=highest)
        key = hashlib.sha256(data).digest()
        if not index.has(key):  # (a repair run again: written once)
            backfill.add(FORGET, key, data)


def _readable(store: Store, key: bytes | None) -> bool:
    if key is None:
        return False
    try:
        store.read_object(key)
    except CorruptObject:
        return False
    return True


def _missing(store: Store, root: bytes) -> int:
    """How many files below *root* have no readable copy (each is recorded as damaged);
    CorruptObject when the root tree itself is gone."""
    store.read_tree(root)
    missing = 0
    stack = [root]
    seen: set[bytes] = set()
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        try:
            entries = store.read_tree(key)
        except CorruptObject:
            missing += 1
            continue
        for e in entries:
            if e.kind == DIR:
                stack.append(e.ref)
            elif e.kind == FILE and store.index.locate(e.ref) is None:
                store.index.mark_damaged(e.ref, "missing: no pack holds it")
                missing += 1
    return missing


def _swap_in(store: Store, new_path: str, old_usable: bool) -> None:
    """Put the new index in place of the live one, keeping the old as BEFORE_REPAIR. Readers
    see the old index or the new one, never none: a usable old index gets the new content by
    SQLite's backup API, one transaction into the live file (a reader mid-read keeps its
    view, the next read sees the new index, a process holding it open included); else (no
    room for that, or the old one is unusable) one rename over it."""
    if os.path.exists(new_path + "-wal"):
        raise UserError("repair: the rebuilt index was not closed cleanly; run repair again")
    aside = store.index_path + BEFORE_REPAIR
    _remove_index_files(aside)
    if old_usable and os.path.exists(store.index_path):
        try:
            _copy_into(store.index_path, aside)  # the old one, kept
            _copy_into(new_path, store.index_path)
        except (sqlite3.Error, OSError, UnicodeDecodeError):  # (a garbled schema's error text)
            _remove_index_files(aside)
        else:
            _remove_index_files(new_path)
            fsync_dir(store.path)
            return
    _rename_over(store.index_path, new_path, aside)


def _copy_into(source: str, target: str) -> None:
    """The content of the database *source* as that of *target* (made, or live: one write
    transaction there), its WAL checkpointed. A *target* made here is made 0600 first, as
    Index makes the index (SQLite would make it 0644 less the umask; its -wal, -shm and
    -journal take the file's mode): the old index kept aside holds every snapshot's paths,
    branches and messages (RED34 D10)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
    src = sqlite3.connect(source)
    try:
        dst = sqlite3.connect(target, timeout=60.0)
        try:
            src.backup(dst)
            with contextlib.suppress(sqlite3.Error):  # a reader's view: folded in later
                dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
    finally:
        src.close()


def _rename_over(live: str, new_path: str, aside: str) -> None:
    """The old index kept by a hard link, its -wal and -shm (which SQLite would read as the
    new file's) moved aside, then the new one renamed over it: the name is never free (on a
    file system without hard links, vfat, some FUSE: free for the moment between two
    renames)."""
    if os.path.exists(live):
        _checkpoint(live)  # a reader opening it meanwhile, without its WAL, sees it whole
        try:
            os.link(live, aside)
        except FileExistsError:
            raise
        except OSError:  # no hard links here (as safewrite._link_new): moved aside
            os.replace(live, aside)
    for suffix in INDEX_FILES[1:]:
        with contextlib.suppress(FileNotFoundError):  # (the last reader's close removes them)
            os.replace(live + suffix, aside + suffix)
    os.replace(new_path, live)
    fsync_dir(os.path.dirname(live))


def _checkpoint(path: str) -> None:
    """The WAL of the database at *path* folded into it, as far as it can be (best effort: a
    full disk, a damaged file: sqlite3 cannot even decode some garbled schemas' messages)."""
    with contextlib.suppress(sqlite3.Error, UnicodeDecodeError):
        db = sqlite3.connect(f"file:{uri_path(path)}?mode=rw", uri=True, timeout=10.0)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()


def _remove_index_files(path: str) -> None:
    for suffix in (*INDEX_FILES, "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + suffix)
