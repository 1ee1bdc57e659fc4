"""What a restore in place must leave alone: what its pre-restore snapshot could not save.

Shared by ``git snapshot restore`` and the API's ``restore_backup``, which both take that
snapshot first so that a restore can itself be undone.
"""

from __future__ import annotations

import os

from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot

PRE_RESTORE = "pre-restore"  # the trigger of that snapshot


def unsaved(
    store: Store, safety: Snapshot, snap: Snapshot, named: list[bytes], delete: bool = False
) -> frozenset[bytes]:
    """What the pre-restore snapshot *safety* could not save (excluded, cache dirs, special
    or unreadable files): the restore of *snap* must neither overwrite nor delete it, unless
    the user named it (or a directory above it) to be restored and *snap* holds it there or
    *delete* is given: without --delete a restore deletes nothing that is not in the
    snapshot (a folder in the way of a file, holding an excluded file)."""
    from git_snapshot.store.history import Trees  # the diff's tree walk: only when restoring

    skipped = [os.fsencode(path) for path, _why in safety.meta.get("skipped_paths", [])]
    keep = {p for p in skipped if not any(n == p or p.startswith(n + b"/") for n in named if n)}
    if not delete:
        trees = Trees(store)
        keep.update(p for p in skipped if p not in keep and trees.at(snap.root, p) is None)
    return frozenset(keep)
