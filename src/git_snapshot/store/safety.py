"""What a restore in place must leave alone: what its pre-restore snapshot could not save.

Shared by ``git snapshot restore`` and the API's ``restore_backup``, which both take that
snapshot first so that a restore can itself be undone.
"""

from __future__ import annotations

import os

from git_snapshot.store.index import Snapshot

PRE_RESTORE = "pre-restore"  # the trigger of that snapshot


def unsaved(safety: Snapshot, named: list[bytes]) -> frozenset[bytes]:
    """What the pre-restore snapshot *safety* could not save (excluded, cache dirs, special
    or unreadable files): the restore must neither overwrite nor delete it, with --delete
    or without, unless the user named that very path (restore names only what its snapshot
    holds).
    Naming a folder above it is not enough: what it holds now is in no snapshot, and a
    restore of the folder (like a restore of everything) keeps it and says so."""
    skipped = [(os.fsencode(path), why) for path, why in safety.meta.get("skipped_paths", [])]
    chosen = set(named)
    return frozenset(
        p
        for p, why in skipped
        if p not in chosen and not (why in HOLD_NOTHING and _above(p, named))
    )


# what the walker skips as neither file, folder nor symlink (walker._special_kind): it holds no
# content, and a restore of a named path below it (a folder a command replaced with a FIFO)
# must replace it, or the loss report's restore command fails as printed
HOLD_NOTHING = frozenset({"fifo", "socket", "device", "special file"})


def _above(path: bytes, named: list[bytes]) -> bool:
    return any(n.startswith(path + b"/") for n in named)
