"""The Python API: snapshot any directory before doing something dangerous to it.

    from git_snapshot import create_backup, restore_backup
    info = create_backup("my-data", "/srv/data")
    ...
    restore_backup("my-data", info.id, "/srv/data")

``name`` identifies the series of snapshots of one directory. ``store`` is a store directory;
None means GIT_SNAPSHOT_STORE or the per-user default. Nothing here imports git.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Union

from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store import create_snapshot
from git_snapshot.store.index import Snapshot
from git_snapshot.store.prune import Policy
from git_snapshot.store.prune import forget_by_policy
from git_snapshot.store.prune import gc
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.verify import verify

StorePath = Union[str, "os.PathLike[str]", None]


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


def _open(store: StorePath) -> Store:
    return Store(Path(store) if store is not None else None)


def create_backup(
    name: str, source_path: str | os.PathLike[str], store: StorePath = None, message: str = ""
) -> BackupInfo:
    with _open(store) as st:
        return _info(
            create_snapshot(
                st, name, os.fspath(source_path), trigger="api", message=message
            ).snapshot
        )


def list_backups(name: str | None = None, store: StorePath = None) -> list[BackupInfo]:
    """Snapshots of *name* (or of everything), oldest first."""
    with _open(store) as st:
        return [_info(s) for s in st.snapshots(name)]


def verify_backup(
    name: str | None = None,
    backup_id: int | str | None = None,
    store: StorePath = None,
    read_data: bool = True,
) -> VerifyResult:
    """Check one backup (or all of *name*, or the whole store), reading every byte by default."""
    with _open(store) as st:
        if backup_id is not None:
            if name is None:
                raise UserError("verify_backup: give the name together with backup_id")
            snaps = [st.get(name, backup_id)]
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
    target: str | os.PathLike[str],
    paths: list[str] | None = None,
    store: StorePath = None,
    delete: bool = False,
) -> int:
    """Restore a backup (or some paths of it) into *target*; returns the files written."""
    with _open(store) as st:
        snap = st.get(name, backup_id)
        report = Restorer(st, delete=delete).restore(snap, os.fspath(target), list(paths or []))
    return report.files


def clean_old_backups(keep: int, name: str | None = None, store: StorePath = None) -> int:
    """Keep the newest *keep* backups of each name (or of *name*), reclaim the rest's space."""
    if keep < 1:
        raise UserError("clean_old_backups: keep must be at least 1")
    with _open(store) as st:
        sources = [name] if name else [k for k, _ in st.index.sources()]
        gone = forget_by_policy(st, Policy(keep_last=keep), sources)
        if gone:
            gc(st)
    return len(gone)
