"""git-snapshot: automatic snapshots of the whole git worktree."""

from __future__ import annotations

from git_snapshot.api import BackupInfo
from git_snapshot.api import VerifyResult
from git_snapshot.api import clean_old_backups
from git_snapshot.api import create_backup
from git_snapshot.api import list_backups
from git_snapshot.api import restore_backup
from git_snapshot.api import verify_backup

__all__ = [
    "BackupInfo",
    "VerifyResult",
    "clean_old_backups",
    "create_backup",
    "list_backups",
    "restore_backup",
    "verify_backup",
]
