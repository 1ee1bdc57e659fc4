"""What a restore in place must leave alone: what its pre-restore snapshot could not save.

Shared by ``git snapshot restore`` and the API's ``restore_backup``, which both take that
snapshot first so that a restore can itself be undone.
"""

from __future__ import annotations

import os

from git_snapshot.store.index import Snapshot

PRE_RESTORE = "pre-restore"  # the trigger of that snapshot


def unsaved(safety: Snapshot, named: list[bytes]) -> frozenset[bytes]:
    """What the pre-restore snapshot could not save (excluded, cache dirs, special or
    unreadable files): the restore must neither overwrite nor delete it, unless the user
    named it (or a directory above it) to be restored."""
    skipped = (os.fsencode(path) for path, _why in safety.meta.get("skipped_paths", []))
    return frozenset(
        p for p in skipped if not any(n == p or p.startswith(n + b"/") for n in named if n)
    )
