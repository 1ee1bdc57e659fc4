"""The worktrees the daemon watches: one small file per worktree in ``<store>/watch/worktrees``.

Registered by ``git snapshot install``, by every hook run (one ``stat`` when it is known
already) and by ``git snapshot watch add PATH``. ``watch remove PATH`` keeps the file with
``on: false``, so that the next hook does not add the worktree again; the daemon deletes the
file of a worktree that no longer exists. One file each, written by rename: concurrent hooks
never lose each other's entries. Standard library only: hooks import this module.
"""

from __future__ import annotations

import os
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.ctx import record
from git_snapshot.hashes import name_digest
from git_snapshot.store.safewrite import atomic_write
from git_snapshot.watch.instance import state_dir

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

DIR = "worktrees"


if TYPE_CHECKING:
    from typing import NamedTuple

    class _Entry(NamedTuple):
        path: str  # the worktree root (real path)
        on: bool  # False: `watch remove` took it out; hooks leave it out
        added: float
        by: str  # install, hook, watch add

else:  # no typing import at run time (the hook path)
    _Entry = record("Entry", "path on added by")


class Entry(_Entry):
    __slots__ = ()


def registry_dir(store_path: str) -> str:
    return os.path.join(state_dir(store_path), DIR)


def _file(store_path: str, worktree: str) -> str:
    name = name_digest(os.fsencode(worktree))[:24]
    return os.path.join(registry_dir(store_path), name + ".json")


def known(store_path: str, worktree: str) -> bool:
    """Whether *worktree* was ever registered (on or off): what a hook checks first."""
    return os.path.exists(_file(store_path, worktree))


def put(store_path: str, worktree: str, *, on: bool = True, by: str = "hook") -> None:
    d = registry_dir(store_path)
    os.makedirs(state_dir(store_path), mode=0o700, exist_ok=True)  # not 0777 - umask, as
    os.makedirs(d, mode=0o700, exist_ok=True)  # makedirs makes the folders on the way
    path = _file(store_path, worktree)
    import json  # here (and in entries): json imports re, off a known worktree's hook path

    data = json.dumps({"path": worktree, "on": on, "added": time.time(), "by": by})
    atomic_write(path, (data + "\n").encode(), durable=False)  # the store's files: 0600


def register(store_path: str, worktree: str, by: str = "hook") -> bool:
    """Add *worktree* unless it is known (a `watch remove` is respected); True if added."""
    if known(store_path, worktree):
        return False
    put(store_path, worktree, on=True, by=by)
    return True


def forget(store_path: str, worktree: str) -> bool:
    """Drop the entry of *worktree* (it no longer exists); True if there was one."""
    try:
        os.unlink(_file(store_path, worktree))
        return True
    except FileNotFoundError:
        return False


def entries(store_path: str) -> list[Entry]:
    """Every registered worktree, in the order they were added."""
    d = registry_dir(store_path)
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return []
    import json

    out = []
    for name in names:
        if not name.endswith(".json"):
            continue
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            with open(os.path.join(d, name), encoding="utf-8") as f:
                raw = json.load(f)
            out.append(
                Entry(str(raw["path"]), bool(raw["on"]), float(raw["added"]), str(raw["by"]))
            )
    return sorted(out, key=lambda e: (e.added, e.path))


def active(store_path: str) -> list[str]:
    return [e.path for e in entries(store_path) if e.on]


def ensure(store_path: str, worktree: str, by: str = "hook") -> int | None:
    """What every hook does: register *worktree* (unless known, or `watch remove`d) and start
    the daemon unless it runs. A stat and a non-blocking flock when both are done already;
    the daemon is started detached, never waited for. Returns its pid (None: not started,
    GIT_SNAPSHOT_WATCH=0)."""
    from git_snapshot.watch import instance

    if instance.autostart_disabled():
        return None
    register(store_path, worktree, by)
    return instance.start(store_path)  # (the one running, unless it runs older code)
