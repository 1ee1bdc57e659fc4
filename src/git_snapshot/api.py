"""The Python API: snapshot any directory before doing something dangerous to it.

    from git_snapshot import create_backup, restore_backup
    info = create_backup("my-data", "/srv/data")
    ...
    restore_backup("my-data", info.id, "/srv/data")

``name`` identifies the series of snapshots of one directory. ``store`` is a store directory;
None means GIT_SNAPSHOT_STORE or the per-user default. Nothing here runs git. Bad arguments
raise UserError, as does everything a user's files or store can cause.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Union

from git_snapshot import boundary
from git_snapshot import restored
from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import create_snapshot
from git_snapshot.store.index import Snapshot
from git_snapshot.store.prune import gc
from git_snapshot.store.restore_guard import Guard
from git_snapshot.store.restore_plan import refuse_git_dir_on_way
from git_snapshot.store.restorer import NotAllRestored
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.restorer import split_path
from git_snapshot.store.retention import forget
from git_snapshot.store.safety import PRE_RESTORE
from git_snapshot.store.safety import restore_record
from git_snapshot.store.safety import unsaved
from git_snapshot.store.verify import verify

StorePath = Union[str, "os.PathLike[str]", None]
PathArg = Union[str, "os.PathLike[str]"]


API = "api"  # the trigger of what create_backup takes


@dataclass(frozen=True)
class BackupInfo:
    id: int
    name: str
    created: datetime
    size: int  # total bytes of the files
    file_count: int
    added_bytes: int  # new bytes the store had to keep
    skipped: int
    message: str


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    error: str | None  # every damaged snapshot and path, one per line


def _info(s: Snapshot) -> BackupInfo:
    created = datetime.fromtimestamp(s.created, tz=timezone.utc)
    return BackupInfo(
        s.id, s.source, created, s.bytes, s.files, s.added_bytes, s.skipped, s.message
    )


# -- checking arguments: a script's mistake is a UserError, never a TypeError deep inside ------


def _text(value: object, what: str, *, empty: bool = False) -> str:
    """A name or message: a str that the index can hold (UTF-8), non-empty unless *empty*."""
    if not isinstance(value, str):
        raise UserError(f"{what} must be a string, not {type(value).__name__}")
    if not value and not empty:
        raise UserError(f"{what} must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{what} {value!r} is not valid UTF-8") from None
    return value


def _path(value: object, what: str) -> str:
    """A file system path given as str or os.PathLike[str], UTF-8 (the index records it)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise UserError(f"{what} must be a str or a path, not {type(value).__name__}")
    if "\0" in value:  # (the system would cut it there: 'da\0ta' read as 'da')
        raise UserError(f"{what} {value!r} holds a NUL byte, which no path can")
    return _text(value, what)


def _name(value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    return _text(value, "name")


def _backup_id(value: object) -> int | str:
    """A snapshot number (an int, or its digits) or 'latest'."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise UserError(
            f"backup_id must be a snapshot number or 'latest', not {type(value).__name__}"
        )
    return value


def _paths(value: object) -> list[str]:
    """PATHS inside the backup: one path (a str is one path, never its characters) or a list."""
    if value is None:
        return []
    if isinstance(value, (str, os.PathLike)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise UserError(f"paths must be a list of paths, not {type(value).__name__}")
    return [_path(p, "each of paths") for p in value]


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise UserError(f"{what} must be True or False, not {value!r}")
    return value


# -- the store ---------------------------------------------------------------------------------


@contextmanager
def _open(store: StorePath) -> Iterator[Store]:
    """The store (*store*, else GIT_SNAPSHOT_STORE, else the default), with deep trees allowed
    and a damaged index reported as a UserError naming ``git snapshot repair``."""
    root = Path(_path(store, "store")) if store is not None else None
    with boundary.entry(root), Store(root) as st:
        yield st


def _pick(st: Store, name: str, backup_id: int | str) -> Snapshot:
    """A backup by number, or ``latest``: the newest that no restore took of its own accord
    (after ``restore_backup(name, "latest", ...)`` "latest" still means the same backup)."""
    mine = st.snapshots(name)
    if not mine:  # (Store.get would say "this repository" and "git snapshot")
        raise UserError(f"no backup named {name!r} in the store {st.path}; see list_backups()")
    if backup_id == "latest":
        chosen = [s for s in mine if s.trigger != PRE_RESTORE]
        if chosen:
            return chosen[-1]  # by number, never the clock; a pulled one by time (Index.snapshots)
    try:
        return st.get(name, backup_id)
    except UserError:  # (its words are a repository's and the command line's)
        raise UserError(
            f"no backup {backup_id!r} named {name!r}; see list_backups({name!r})"
        ) from None


# -- the API -----------------------------------------------------------------------------------


def create_backup(
    name: str, source_path: PathArg, store: StorePath = None, message: str = ""
) -> BackupInfo:
    name, source = _text(name, "name"), _path(source_path, "source_path")
    message = _text(message, "message", empty=True)
    with _open(store) as st:
        return _info(create_snapshot(st, name, source, trigger=API, message=message).snapshot)


def list_backups(name: str | None = None, store: StorePath = None) -> list[BackupInfo]:
    """Snapshots of *name* (or of everything), oldest first: in the order they were taken."""
    name = _name(name, optional=True)
    with _open(store) as st:
        return [_info(s) for s in st.snapshots(name)]


def verify_backup(
    name: str | None = None,
    backup_id: int | str | None = None,
    store: StorePath = None,
    read_data: bool = True,
) -> VerifyResult:
    """Check one backup (or all of *name*, or the whole store), reading every byte by default."""
    name = _name(name, optional=True)
    read_data = _flag(read_data, "read_data")
    with _open(store) as st, st.lock():  # no gc between the choice and the check (RED32 C1)
        if backup_id is not None:
            if name is None:
                raise UserError("verify_backup: give the name together with backup_id")
            snaps = [_pick(st, name, _backup_id(backup_id))]
        else:
            snaps = st.snapshots(name)
        report = verify(st, snaps, read_data=read_data)
    if report.ok:
        return VerifyResult(True, None)
    lines = [f"{p.source} snapshot {p.snapshot}: {p.path}: {p.message}" for p in report.problems]
    return VerifyResult(False, "\n".join(lines))


def restore_backup(
    name: str,
    backup_id: int | str,
    target: PathArg,
    paths: list[str] | str | None = None,
    store: StorePath = None,
    delete: bool = False,
) -> int:
    """Restore a backup (or some paths of it) into *target*; returns the files written.

    As safe as ``git snapshot restore``: when *target* exists, a ``pre-restore`` backup of it
    is taken first (under the same *name*), and what that backup could not save (special,
    unreadable or excluded files) is neither overwritten nor deleted; a *target* in a git
    directory (a repository's .git, a bare repository) is refused.
    """
    name, backup_id = _text(name, "name"), _backup_id(backup_id)
    where, wanted = _path(target, "target"), _paths(paths)
    delete = _flag(delete, "delete")
    refuse_git_dir_on_way(where)  # as restore --to: never into a git directory (RED32)
    # the shared lock from the choice on: a gc (clean_old_backups elsewhere) waits (RED32 C1)
    with _open(store) as st, st.lock():
        snap = _pick(st, name, backup_id)
        named = [b"/".join(split_path(p)) for p in wanted]
        protect: frozenset[bytes] = frozenset()
        safety = None
        guard = None
        if os.path.isdir(where):
            since = time.time_ns()
            safety = _pre_restore(st, name, snap, where, named, delete)
            protect = unsaved(safety, named)
            # only what that backup holds as it is is replaced or deleted (RED40 E1)
            guard = Guard.of(st, safety, safety.root, since)
        # a backup is of a folder, .git and all (a script's before `git filter-repo`): all of
        # it is restored, what it replaces kept in the pre-restore backup (the commands leave
        # a repository's own .git alone: their snapshots never hold it, RED31)
        restorer = Restorer(st, delete=delete, protect=protect, never=frozenset(), guard=guard)
        # as restore's: a run that stops notes what it wrote, and its Stopped line names the
        # backup holding what was there (a run again after one that stopped: the first's)
        runs = restored.first_run(st, safety) if safety is not None else None

        def held() -> str:
            assert safety is not None
            return "backup " + restored.before(lambda s: str(s.id), safety, runs, "backup")

        with restored.noting(st, safety, restorer, held):
            report = restorer.restore(snap, where, list(wanted))
        NotAllRestored.check(restorer, snap)
    return report.files


def _pre_restore(
    st: Store, name: str, snap: Snapshot, where: str, named: list[bytes], delete: bool
) -> Snapshot:
    """The pre-restore backup of *where*, before backup *snap* (its *named* paths) is
    restored there; in the folder *snap* is a backup of, it records the restore (as
    restore's pre-restore snapshot: safety.restore_record), so that a run that stops notes
    what it wrote and a run again knows the first run's backup (restored.first_run)."""
    record = None
    if snap.worktree == os.path.abspath(where):
        record = restore_record(snap, named, delete)
    again = record is not None and restored.again(st, snap, named, delete)
    message = f"before restoring backup {snap.id}{' again' if again else ''}"
    return create_snapshot(
        st, name, where, trigger=PRE_RESTORE, message=message, meta=record
    ).snapshot


def clean_old_backups(keep: int, name: str | None = None, store: StorePath = None) -> int:
    """Keep the newest *keep* backups of each name (or of *name*), reclaim the rest's space."""
    if isinstance(keep, bool) or not isinstance(keep, int):
        raise UserError(f"clean_old_backups: keep must be a whole number, not {keep!r}")
    if keep < 1:
        raise UserError("clean_old_backups: keep must be at least 1")
    name = _name(name, optional=True)
    with _open(store) as st:
        by_source = {k: st.snapshots(k) for k, _ in st.index.sources()}
        if name is not None:
            sources = [name]
        else:  # the backups this API made: never a git repository's snapshots (same store)
            sources = [k for k, got in by_source.items() if any(s.trigger == API for s in got)]
        gone = []
        for source in sources:
            snaps = by_source.get(source) or st.snapshots(source)
            # the newest *keep* backups and what came after them (a restore's own pre-restore
            # snapshot does not count as a backup, nor push one out)
            backups = [s for s in snaps if s.trigger != PRE_RESTORE]
            if len(backups) > keep:
                oldest_kept = backups[-keep].id
                gone += [s for s in snaps if s.id < oldest_kept]
        forget(st, gone)
        if gone:
            gc(st)
    return len(gone)
