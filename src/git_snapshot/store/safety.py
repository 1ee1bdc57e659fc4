"""What a restore in place must leave alone: what its pre-restore snapshot could not save.

Shared by ``git snapshot restore`` and the API's ``restore_backup``, which both take that
snapshot first so that a restore can itself be undone.
"""

from __future__ import annotations

import os

from git_snapshot.store.index import Snapshot

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple

PRE_RESTORE = "pre-restore"  # the trigger of that snapshot
RESTORE = "restore"  # its meta's record of the restore it was taken for (restore_record)


def restore_record(source: Snapshot, named: list[bytes], delete: bool) -> dict[str, Any]:
    """What a pre-restore snapshot's meta records of the restore in place it is taken for:
    the snapshot it writes from and the paths it names (none, or '', for all of it). Until
    the next snapshot, those paths hold *source*'s bytes, not the pre-restore snapshot's:
    a git command that destroys them is reported against *source* (findlosses.find_losses)."""
    return {
        RESTORE: {
            "snapshot": source.id,
            "created": source.created,  # a number alone could name another one, one day
            "source": source.source,
            "paths": [os.fsdecode(p) for p in named],
            "delete": delete,
        }
    }


if TYPE_CHECKING:

    class Restored(NamedTuple):
        snapshot: int
        created: float
        source: str
        paths: list[bytes]  # [b""]: the whole tree
        delete: bool

else:  # no typing import at run time (a hook reads it)
    from git_snapshot.ctx import record

    Restored = record("Restored", "snapshot created source paths delete")


def restored(safety: Snapshot) -> Restored | None:
    """The restore pre-restore snapshot *safety* was taken for (restore_record), None when it
    recorded none (written elsewhere: --to; before the record was kept; any other snapshot)."""
    if safety.trigger != PRE_RESTORE:
        return None
    rec = safety.meta.get(RESTORE)
    if not isinstance(rec, dict):
        return None
    try:
        paths = [os.fsencode(p) for p in rec["paths"] if isinstance(p, str)]
        return Restored(
            int(rec["snapshot"]),
            float(rec["created"]),
            str(rec["source"]),
            paths if any(paths) else [b""],
            rec.get("delete") is True,
        )
    except (KeyError, TypeError, ValueError):
        return None


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


# what the walker skips as neither file, folder nor symlink (walkfiles.special_kind): it holds no
# content, and a restore of a named path below it (a folder a command replaced with a FIFO)
# must replace it, or the loss report's restore command fails as printed
HOLD_NOTHING = frozenset({"fifo", "socket", "device", "special file"})


def _above(path: bytes, named: list[bytes]) -> bool:
    return any(n.startswith(path + b"/") for n in named)
