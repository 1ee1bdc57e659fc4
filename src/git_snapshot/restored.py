"""What a restore in place wrote, as its pre-restore snapshot records it (store/safety.py's
restore record): a post-hook compares the paths it wrote with the snapshot it wrote them
from, and the rest of the worktree with the pre-restore snapshot (RED32 V2: `restore 4 .env`,
printed after a checkout, brought back the bytes the user's restore had just replaced).
Imported by hooks.find_losses only when the snapshot before the git command is a
pre-restore one.
"""

from __future__ import annotations

from collections.abc import Callable

from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store import safety
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import DIR

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

    def covered(path: bytes) -> bool:
        if not any(not r or path == r or path.startswith(r + b"/") for r in rec.paths):
            return False
        if any(path == k or path.startswith(k + b"/") for k in kept):
            return False
        # the restore wrote what its source holds there; with --delete, removed the rest
        return rec.delete or holds(path)

    return source, covered


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
