"""git-snapshot: automatic snapshots of the whole git worktree.

The Python API (``create_backup`` and friends) is loaded on first use, so that the hooks,
which import submodules only, do not pay for it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BackupInfo",
    "VerifyResult",
    "clean_old_backups",
    "create_backup",
    "list_backups",
    "restore_backup",
    "verify_backup",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from git_snapshot import api

        return getattr(api, name)
    raise AttributeError(f"module 'git_snapshot' has no attribute {name!r}")
