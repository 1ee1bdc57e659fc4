"""git-snapshot: automatic snapshots of the whole git worktree.

The Python API (``create_backup`` and friends) is loaded on first use, so that the hooks,
which import submodules only, do not pay for it. Type checkers see the real imports (with
their signatures); at run time a module ``__getattr__`` that they never see loads them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (every hook imports this)

__version__ = "0.1.0"

__all__ = [
    "BackupInfo",
    "VerifyResult",
    "__version__",
    "clean_old_backups",
    "create_backup",
    "list_backups",
    "restore_backup",
    "verify_backup",
]

if TYPE_CHECKING:
    from git_snapshot.api import BackupInfo as BackupInfo
    from git_snapshot.api import VerifyResult as VerifyResult
    from git_snapshot.api import clean_old_backups as clean_old_backups
    from git_snapshot.api import create_backup as create_backup
    from git_snapshot.api import list_backups as list_backups
    from git_snapshot.api import restore_backup as restore_backup
    from git_snapshot.api import verify_backup as verify_backup
else:

    def __getattr__(name: str) -> object:
        if name in __all__:
            from git_snapshot import api

            return getattr(api, name)
        raise AttributeError(f"module 'git_snapshot' has no attribute {name!r}")
