"""Check the store: structure, and with read_data every object's content against its key.

The trees are checked by store.validate, the code that restore, export and diff use, so verify
names exactly what they refuse. It holds the store's shared lock, as a snapshot does, so a
concurrent gc never shows it an object in the middle of a move.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from git_snapshot.errors import UserError
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.gc import unknown_record
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree
from git_snapshot.store.packread import not_a_file
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import scan_pack

_LOOK = object()  # blob(): the caller has not looked the object up


@dataclass
class Problem:
    source: str
    snapshot: int
    path: str  # '' for the root
    message: str


@dataclass
class VerifyReport:
    snapshots: int = 0
    objects: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphan_packs: list[str] = field(default_factory=list)  # reclaimed by prune; not damage
    # packs a gc dropped from the index and was killed before it unlinked (Index.gc_doomed):
    # the next gc deletes them whatever they hold (a forgotten snapshot's record, tombstones
    # copied into a merged pack), so they are not snapshots the index lacks (RED40 B F1)
    gc_leftovers: list[str] = field(default_factory=list)
    # orphans holding snapshots the index lacks (a snapshot killed before its index row, or
    # a lost index): repair recovers them, gc keeps them
    unindexed_packs: list[str] = field(default_factory=list)
    # orphans holding a stopped restore's note of what it wrote (records.restate) whose index
    # transaction never came (killed): repair completes it, gc keeps it (RED36 B3: named as
    # snapshots the index lacks)
    unfinished_notes: list[str] = field(default_factory=list)
    # damaged packs the index does not name whose every object it has elsewhere (a repair
    # killed after pointing the index at a damaged pack's rewritten copy, before deleting
    # it): no snapshot the index lacks; repair removes them, prune keeps them (unreadable)
    leftover_packs: list[str] = field(default_factory=list)
    # (pack, why): packs the index lacks that cannot be read (an I/O error, a damaged header
    # before any snapshot record): they MAY hold snapshots; repair reads what it can, gc
    # keeps them
    unreadable_packs: list[tuple[str, str]] = field(default_factory=list)
    # (pack, why): headers or group tables unreadable (read_data): the data may read back
    # intact through the index, but a repair from the packs alone stops there
    bad_packs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.problems or self.bad_packs)


class _Checker:
    def __init__(self, store: Store, read_data: bool, progress: Callable[[int], None] | None):
        self.store = store
        self.read_data = read_data
        self.progress = progress
        self.pack_sizes: dict[str, int] = {}
        self.not_files: dict[str, str] = {}  # pack -> what its name holds instead ("a FIFO")
        for name in store.index.packs():
            self._size(name)
        self.bad: dict[bytes, str] = {}  # object key -> what is wrong
        self.gone: set[str] = set()  # packs found missing
        self.clean_trees: set[bytes] = set()  # trees with nothing wrong below them
        self.checked: set[bytes] = set()
        # each file content's size as the index gives it (None: the index lacks it), looked
        # up once: every snapshot's listings name mostly the same contents, and a lookup per
        # entry was most of a verify (test_store_faults' 30 rounds of random kills: 1.2M
        # lookups, 56 s of its 93 s in verify)
        self.sizes: dict[bytes, int | None] = {}

    def _size(self, pack: str) -> bool:
        """Note the size of *pack*; False when it is missing. (A snapshot running beside
        verify may add packs after verify started: they are looked up when first met.)"""
        with contextlib.suppress(OSError):
            st = os.stat(self.store.pack_path(pack))
            self.pack_sizes[pack] = st.st_size
            kind = not_a_file(st.st_mode)
            if kind is not None:  # named as such, not as "truncated" (RED34 D9)
                self.not_files[pack] = kind
            return True
        return False

    def blob(self, key: bytes, read: bool = True, loc: Any = _LOOK) -> str | None:
        """What is wrong with the object *key* (None: nothing); its content is read only with
        read_data and *read*. *loc*: where the index has it, if the caller looked already."""
        if key in self.checked:
            return self.bad.get(key)
        self.checked.add(key)
        if self.progress and len(self.checked) % 64 == 0:
            self.progress(len(self.checked))
        if loc is _LOOK:
            loc = self.store.index.locate(key)
        if loc is None:
            msg = "content missing from the index"
        elif loc.pack not in self.pack_sizes and not self._size(loc.pack):
            msg = f"pack {loc.pack} is missing"
            if loc.pack not in self.gone:  # every object in it is: the next snapshot
                self.gone.add(loc.pack)  # stores each afresh, not only those met here
                with contextlib.suppress(sqlite3.Error, UserError):
                    self.store.index.mark_pack_damaged(loc.pack, msg)
        elif loc.pack in self.not_files:
            msg = f"pack {loc.pack} is {self.not_files[loc.pack]}, not a file"
        elif loc.offset + loc.length > self.pack_sizes[loc.pack]:
            msg = f"pack {loc.pack} is truncated"
        elif self.read_data and read:
            msg = self._read(key)
        else:
            return None
        if msg:
            self.bad[key] = msg
            with contextlib.suppress(sqlite3.Error, UserError):  # a full disk: still report it
                self.store.index.mark_damaged(key, msg)  # the next snapshot stores it afresh
        return msg or None

    def file(self, e: Entry) -> str | None:
        """What is wrong with a file entry's content: validate.blob_problem (its size against
        the index's), then blob()."""
        if e.ref in self.sizes:
            return validate.size_problem(e, self.sizes[e.ref]) or self.blob(e.ref)
        loc = self.store.index.locate(e.ref)  # (blob() takes it: one lookup a content)
        size = self.sizes[e.ref] = None if loc is None else loc.size
        return validate.size_problem(e, size) or self.blob(e.ref, loc=loc)

    def _read(self, key: bytes) -> str:
        try:
            for _ in self.store.stream_blob(key):
                pass
        except CorruptObject as exc:
            return "damaged: " + str(exc)
        return ""

    def tree(self, snap: Snapshot, key: bytes, path: bytes, out: list[Problem]) -> bool:
        """Check a tree; returns True when nothing is wrong below it."""
        if key in self.clean_trees:
            return True
        loc = self.store.index.locate(key)  # (one lookup: blob() and the read take it)
        msg = self.blob(key, read=False, loc=loc)  # the read below hash-checks it
        entries: list[Entry] = []
        if not msg:
            try:
                entries = decode_tree(self.store.read_object(key, loc))
            except CorruptObject as exc:
                msg = f"directory listing unreadable: {exc}"
        if msg:
            self.bad[key] = msg
            out.append(Problem(snap.source, snap.id, _show(path) or ".", msg + " (and all below)"))
            return False
        clean = True
        for e, refused in zip(entries, validate.problems(entries)):
            sub = path + b"/" + e.name if path else e.name
            if refused:  # restore and export refuse the snapshot for it
                problem: str | None = f"refused: {refused}"
            elif e.kind == DIR:
                clean = self.tree(snap, e.ref, sub, out) and clean
                continue
            elif e.kind == FILE:
                problem = self.file(e)
            else:
                continue
            if problem:
                out.append(Problem(snap.source, snap.id, _show(sub), problem))
                clean = False
        if clean:
            self.clean_trees.add(key)
        return clean


def _show(path: bytes) -> str:
    return validate.show(path)


def _check_index(store: Store) -> None:
    """SQLite's own check of the index file: damaged pages that reads may pass over (a
    unique index out of step lets a repository's row go unseen: its next snapshot would
    take numbers already given) are named here, with the command that rebuilds it."""
    try:
        rows = store.index.db.execute("PRAGMA quick_check(1)").fetchall()
        why = str(rows[0][0]) if rows else "no answer"
    except sqlite3.DatabaseError as exc:
        why = str(exc)
    if why != "ok":
        why = " ".join(why.replace("*** in database main ***", "").split())
        raise UserError(
            f"the snapshot index {store.index_path} is damaged ({why}); rebuild it from the "
            "packs with: git snapshot repair"
        )


def object_count(store: Store) -> int:
    """How many objects the index lists: what verifying every snapshot checks, at most."""
    return store.index.object_count()


def verify(
    store: Store,
    snapshots: list[Snapshot] | None = None,
    read_data: bool = False,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    with store.lock():  # no gc moves or deletes an object while we look at it
        _check_index(store)
        snaps = store.snapshots() if snapshots is None else snapshots
        checker = _Checker(store, read_data, progress)
        report = VerifyReport(snapshots=len(snaps))
        for snap in snaps:
            checker.tree(snap, snap.root, b"", report.problems)
            problem = checker.blob(snap.record) if snap.record is not None else None
            if problem:  # what repair would rebuild this snapshot from
                report.problems.append(
                    Problem(
                        snap.source,
                        snap.id,
                        "(snapshot record)",
                        f"{problem}; git snapshot repair writes it again",
                    )
                )
        if read_data and snapshots is None:
            # what lies below a damaged directory listing was not reached: read it too, so
            # that damage there is recorded and the next snapshot stores it afresh
            for key in store.index.object_keys():
                checker.blob(key)
            # what repair rebuilds an index from: every record header and group table (a
            # read through the index never looks at a group's keys)
            for name in sorted(set(store.index.packs()) - checker.gone):
                found: set[bytes] = set()
                try:
                    for o in scan_pack(store.pack_path(name)):
                        found.add(o.key)
                except FileNotFoundError:
                    continue  # named by the reads above
                except (OSError, ValueError) as exc:
                    # named when a rebuild from the packs would lose an object the index
                    # places there: not for a cut-off tail whose objects (found damaged by
                    # the reads above) the next snapshot has stored afresh elsewhere; and
                    # when the index places none there (a repair entered it so, unable to
                    # read it): what it holds, if anything, is unknown
                    placed = store.index.keys_in_pack(name)
                    if placed - found or not placed:
                        report.bad_packs.append((name, str(exc)))
        report.objects = len(checker.checked)
        from git_snapshot.store.repair import unfinished_note  # (as _repair_leftover's)

        on_disk = set(store.pack_names())
        doomed = store.index.gc_doomed()
        for name in sorted(on_disk - set(store.index.packs())):
            holds = unknown_record(store, store.pack_path(name))  # (one scan of it)
            if name in doomed and not isinstance(holds, str):  # (what it holds is dead or
                report.gc_leftovers.append(name)  # copied; a damaged one: a repair's, below)
            elif holds is False:
                report.orphan_packs.append(name)
            elif _repair_leftover(store, name):
                report.leftover_packs.append(name)
            elif holds is True and unfinished_note(store, name):
                report.unfinished_notes.append(name)
            elif holds is True:
                report.unindexed_packs.append(name)
            else:  # cannot be read up to a record the index lacks: why
                report.unreadable_packs.append((name, holds))
    return report


def _repair_leftover(store: Store, name: str) -> bool:
    """Whether pack *name*, not in the index and unreadable to a plain scan, is a damaged
    pack that a repair rewrote and was killed before deleting: read as repair reads it (a
    damaged group table's members re-derived from their content), whole, with every object
    in the index (read from another pack) and so no snapshot record the index lacks."""
    from git_snapshot.store.repair import rederive

    whole = True

    def damaged(why: str, offset: int, length: int) -> list[PackedObject]:
        nonlocal whole
        members, lost = rederive(store, name, offset, length)
        whole = whole and bool(members) and not lost
        return members

    try:
        keys = [o.key for o in scan_pack(store.pack_path(name), damaged)]
    except (OSError, ValueError):
        return False
    return whole and all(store.index.has(key) for key in keys)
