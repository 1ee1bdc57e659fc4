"""What a restore in place wrote, as its pre-restore snapshot records it (store/safety.py's
restore record): a post-hook compares the paths it wrote with the snapshot it wrote them
from, and the rest of the worktree with the pre-restore snapshot (RED32 V2: `restore 4 .env`,
printed after a checkout, brought back the bytes the user's restore had just replaced).
Imported by findlosses.find_losses only when the snapshot before the git command is a
pre-restore one. Restore asks it too whether it runs a restore that stopped again, and which
pre-restore snapshot then holds what was there before (first_run, RED34 D5); a restore that
did not write all it names (stopped part way, damaged or unwritable paths) notes in the record
what it wrote (wrote): the paths it left hold what the pre-restore snapshot does.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import safety
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.safety import RESTORE
from git_snapshot.store.safety import Restored

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any

    from git_snapshot.store.restorer import Restorer

# (the snapshot a report names, the one compared, which paths: None for all)
Part = tuple[Snapshot, Snapshot, Callable[[bytes], bool] | None]


def parts(store: Store, before: Snapshot) -> list[Part]:
    """(the snapshot a report names, the one compared, which paths) for each part of the
    worktree before the operation: all of it *before*'s; or, *before* being the pre-restore
    snapshot of a restore in place, the paths it wrote its source's, compared as if taken
    when the restore wrote them (what came after is what counts: the reflog's moves, the
    blobs git wrote), and the rest *before*'s. A restore source forgotten since holds
    nothing to name: its paths are left out (*before* holds what they replaced)."""
    restore = _restore_of(store, before)
    if restore is None:
        return [(before, before, None)]
    source, covered = restore
    rest: list[Part] = [(before, before, lambda p: not covered(p))]
    if source is None:
        return rest
    return [*rest, (source, source.replace(created=before.created), covered)]


def _restore_of(
    store: Store, before: Snapshot
) -> tuple[Snapshot | None, Callable[[bytes], bool]] | None:
    """The restore in place *before* (the newest snapshot) was taken for, as its record says
    (safety.restore_record): its source snapshot (None: forgotten since) and which paths hold
    that one's bytes since; None when *before* is no pre-restore snapshot recording one
    (a snapshot taken after a restore holds what it wrote itself)."""
    rec = safety.restored(before)
    if rec is None or rec.source != before.source:  # (--repo: another repository's numbers)
        return None
    try:
        source: Snapshot | None = store.get(rec.source, rec.snapshot)
    except UserError:
        source = None
    if source is not None and abs(source.created - rec.created) >= 0.001:
        source = None  # its number reclaimed: never stand for another snapshot
    kept = safety.unsaved(before, rec.paths)  # the restore left these as they were
    holds = _holds(store, source.root) if source is not None else (lambda p: False)
    reached = _reached(before)

    def covered(path: bytes) -> bool:
        if not any(not r or path == r or path.startswith(r + b"/") for r in rec.paths):
            return False
        if any(path == k or path.startswith(k + b"/") for k in kept):
            return False
        if reached is not None and not reached(path):
            return False  # a run that stopped (or failed there) left it
        # the restore wrote what its source holds there; with --delete, removed the rest
        return rec.delete or holds(path)

    return source, covered


# the restore record's note of what a run that did not write all it names wrote (wrote):
# the files, links and folders it wrote, and the paths it removed (with all below them)
WROTE = "wrote"


def wrote(store: Store, safety: Snapshot, written: list[bytes], gone: list[bytes]) -> bool:
    """Note in the restore record of the pre-restore snapshot *safety* that its restore
    wrote *written* and removed *gone* only (stopped part way by a full disk or Ctrl-C;
    damaged or unwritable paths left): the paths it left hold what *safety* holds, and a
    git command destroying one is compared with it, not with the restore's source (RED34
    R1). Its index row first, so that a kill later on leaves it there for the reports and
    undo (RED36 B1: killed between the pack and the transaction below, it was lost); then
    where a repair reads it too: a new record of the snapshot in the packs, and the row
    given that record (records.restate; in the row only, a repair that rebuilt the index
    without the old one forgot it: RED35 R1). The store's disk full too (the usual case),
    its reserve is given up for it, as for gc's writes (RED36 B2: the row alone had it, and
    an index rebuilt from the packs alone forgot it); when the packs cannot take it even so,
    the row alone has it; False when neither could be written: the record then names all
    the paths, as before."""
    rec = safety.meta.get(RESTORE)
    if not isinstance(rec, dict):
        return False
    note = {
        "written": sorted({*map(os.fsdecode, written)}),
        "gone": sorted({*map(os.fsdecode, gone)}),
    }
    meta = {**safety.meta, RESTORE: {**rec, WROTE: note}}
    from git_snapshot.store import records
    from git_snapshot.store.reserve import with_room

    try:  # found as restate finds it (never another row that took its row id)
        noted = store.index.restate(safety, meta, safety.record, ())
    except (sqlite3.Error, OSError, UserError):
        noted = None  # (the transaction below may still go through)
    if noted is False:
        return False  # its row gone meanwhile: nothing to note
    try:
        if with_room(store, lambda: records.restate(store, safety, meta)):
            return True
    except (sqlite3.Error, OSError, UserError):
        pass
    if noted:
        safety.meta = meta
    return bool(noted)


@contextmanager
def noting(
    store: Store, safety: Snapshot | None, restorer: Restorer, before: Callable[[], str]
) -> Iterator[None]:
    """Around *restorer*'s restore in place, *safety* its pre-restore snapshot (None: none
    taken): one that began to write and did not write all it names (stopped part way by a
    full disk, Ctrl-C or SIGTERM; damaged or unwritable paths; a named path it cannot write
    below) notes what it wrote (wrote) before its exception goes on, and a Stopped's line
    then says where what was there before is (*before*(): "snapshot 2"). Shared by restore
    and the API's restore_backup (RED35 R2: the API's noted nothing and named no backup)."""
    from git_snapshot.store.restorer import Stopped

    try:
        yield
    except Stopped as exc:  # a full disk: what it wrote over is in a snapshot too
        if safety is None:
            raise
        _part_written(store, safety, restorer)
        raise Stopped(f"{exc}; what was there before is in {before()}") from exc
    except (Exception, KeyboardInterrupt):
        _part_written(store, safety, restorer)
        raise


def _part_written(store: Store, safety: Snapshot | None, restorer: Restorer) -> None:
    if safety is not None and restorer.began:
        report = restorer.report
        wrote(store, safety, [*report.created, *report.updated], report.deleted)


def before(
    name: Callable[[Snapshot], str],
    safety: Snapshot,
    runs: tuple[Snapshot, bool] | None,
    noun: str = "snapshot",
) -> str:
    """The snapshot(s) a restore's lines name as holding what was there before: its
    pre-restore snapshot *safety*; run again after a run that stopped (*runs*: first_run),
    the first run's, alone when *safety* holds nothing more (*noun*: the API's "backup")."""
    if runs is None:
        return name(safety)
    first, alone = runs
    if alone:
        return name(first)
    return f"{name(safety)}, and before the first run of this restore in {noun} {name(first)}"


def _reached(before: Snapshot) -> Callable[[bytes], bool] | None:
    """Whether the restore *before* was taken for wrote at a path (wrote's note): None when
    it ran to its end (or the note cannot be read: every named path, as before)."""
    rec = before.meta.get(RESTORE)
    note = rec.get(WROTE) if isinstance(rec, dict) else None
    if not isinstance(note, dict):
        return None
    try:
        written = {os.fsencode(p) for p in note["written"]}
        gone = {os.fsencode(p) for p in note["gone"]}
    except (KeyError, TypeError):
        return None

    def reached(path: bytes) -> bool:
        if path in written:
            return True
        parts = path.split(b"/")
        return any(b"/".join(parts[:i]) in gone for i in range(1, len(parts) + 1))

    return reached


def _holds(store: Store, root: bytes) -> Callable[[bytes], bool]:
    """Whether snapshot tree *root* holds an entry at a path, or a file or link on its way
    (a restore of it replaced the folder the path was in); each tree read once
    (history.Trees)."""
    trees = Trees(store)

    def holds(path: bytes) -> bool:
        key, parts = root, path.split(b"/")
        for i, name in enumerate(parts):
            e = trees.entries(key, b"/".join(parts[:i]) + b"/").get(name)
            if e is None:
                return False
            if i == len(parts) - 1 or e.kind != DIR:
                return True  # there, or a file or link on its way
            key = e.ref
        return False

    return holds


# runs of one restore looked back over (each took a pre-restore snapshot): a loop of a
# script's retries never walks the whole history
RUNS_MOST = 20


def again(store: Store, source: Snapshot, named: list[bytes], delete: bool) -> bool:
    """Whether a restore in place of *named* (none: all) of *source* into its own worktree,
    with *delete* or not, runs the restore the worktree's newest snapshot was taken before
    again (a run stopped by a full disk or Ctrl-C, then the same command)."""
    last = store.snapshots(source.source, source.worktree, last=1)
    was = safety.restored(last[0]) if last else None
    paths = list(named) if any(named) else [b""]
    now = Restored(source.id, source.created, source.source, paths, delete)
    return was is not None and _key(was) == _key(now)


def first_run(store: Store, taken: Snapshot) -> tuple[Snapshot, bool] | None:
    """When *taken* is the pre-restore snapshot of a restore in place run again (again()),
    the first run's pre-restore snapshot, which holds what was there before the restore, and
    whether *taken* holds nothing beyond it and what the runs before wrote (the restore's
    source's entries where it writes): then that one alone holds all that the restore wrote
    over; else (changes between the runs: space freed in the worktree) both do. None when
    this is the restore's first run (RED34 D5: the run after one that a full disk stopped
    named its own pre-restore snapshot, of the restored versions; the user's edits were in
    the first run's). After a run that ran to its end by what it left (_ran_to_end), never
    alone: *taken* holds what this run finds (RED39 G4: the first run's alone named what a
    finished run had replaced), and the first run's what was there before it (one killed
    after its last write, its line never printed, leaves the same: review39 RG)."""
    rec = safety.restored(taken)
    if rec is None:
        return None
    snaps = store.snapshots(taken.source, taken.worktree)  # (read once for all the runs)
    at = next((i for i, s in enumerate(snaps) if s.rowid == taken.rowid), 0)
    first, later, alone = None, taken, True
    for prev in reversed(snaps[max(0, at - RUNS_MOST) : at]):  # those just before it
        was = safety.restored(prev)
        if was is None or _key(was) != _key(rec):
            break
        first = prev
        if _ran_to_end(store, prev, later):
            alone = False
        elif not _adds_nothing(store, prev, later):
            return first, False
        later = prev
    return None if first is None else (first, alone)


def _ran_to_end(store: Store, prev: Snapshot, later: Snapshot) -> bool:
    """Whether the restore the pre-restore snapshot *prev* was taken for ran to its end: it
    noted no stop (wrote), and *later* (the worktree the next run found) holds at every path
    it writes its source's entry, and nothing where it deletes. Then *prev* holds what that
    finished restore (or one killed after its last write) replaced, not what a run after it
    finds. Not known (its source forgotten, damage): False, a stopped run's naming."""
    rec = safety.restored(prev)
    source, covered = _restore_of(store, prev) or (None, None)
    if rec is None or source is None or covered is None or _reached(prev) is not None:
        return False
    trees = Trees(store)
    try:
        return all(_left_done(trees, source.root, later.root, p, covered) for p in rec.paths)
    except CorruptObject:
        return False


def _left_done(
    trees: Trees, source: bytes, later: bytes, named: bytes, covered: Callable[[bytes], bool]
) -> bool:
    """Whether tree *later* holds at the named path *named*, and below it where *covered*,
    what a restore from tree *source* writes there (the folders' modes too; extras only
    where the restore keeps them)."""
    there, now = trees.at(source, named), trees.at(later, named)
    if there is None or not _same_entry(there, now):
        return False
    if there.kind != DIR or now is None:
        return True
    base = named + b"/" if named else b""
    for path, fields in trees.delta(now.ref, there.ref):  # each entry *source* holds otherwise
        full = base + path
        if covered(full) and (
            fields is None or not _same_entry(Entry(*fields), trees.at(later, full))
        ):
            return False
    return True


def _same_entry(there: Entry, now: Entry | None) -> bool:
    """Whether *now* is what a restore of the entry *there* leaves (a folder: its kind and
    mode; what it holds is compared path by path)."""
    if now is None or (now.kind, now.mode) != (there.kind, there.mode):
        return False
    return there.kind == DIR or now.ref == there.ref


def _key(rec: Restored) -> tuple[object, ...]:
    """What makes two restores the same restore (the order of the paths aside)."""
    return (rec.snapshot, rec.created, rec.source, sorted(rec.paths), rec.delete)


def _adds_nothing(store: Store, before: Snapshot, after: Snapshot) -> bool:
    """Whether each path where snapshot *after* differs from the pre-restore snapshot
    *before* holds what the restore *before* was taken for writes there (its source's entry;
    nothing, where it removes or replaces it): all else in *after* is in *before*."""
    restore = _restore_of(store, before)
    source, covered = restore or (None, None)
    if source is None or covered is None:
        return False  # (its source forgotten: what it wrote is no longer known)
    trees = Trees(store)
    try:
        changes = trees.delta(before.root, after.root)
        return all(
            _written(trees, source.root, before.root, path, covered, fields)
            for path, fields in changes
        )
    except CorruptObject:  # damage: not known to hold nothing more
        return False


def _written(
    trees: Trees,
    source: bytes,
    before: bytes,
    path: bytes,
    covered: Callable[[bytes], bool],
    fields: tuple[Any, ...] | None,
) -> bool:
    """Whether *path*'s entry in the later snapshot (its *fields*; None: gone) is what a
    restore from tree *source* writing the paths *covered* leaves there, or a folder there
    before whose contents changed."""
    now = None if fields is None else Entry(*fields)
    if now is not None and now.kind == DIR:
        was = trees.at(before, path)
        if was is not None and was.kind == DIR:
            return True  # (what it holds is compared path by path)
    if not covered(path):
        return False
    there = trees.at(source, path)
    if now is None or there is None:
        return now is None and there is None
    if now.kind == DIR:  # made by the restore, filled or not yet
        return there.kind == DIR
    return (now.kind, now.mode, now.ref) == (there.kind, there.mode, there.ref)
