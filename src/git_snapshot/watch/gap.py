"""What went while no watcher saw it: after a watcher that did not stop cleanly.

A watcher killed (SIGKILL, the OOM killer, a crash) loses the burst it held in memory, and
nobody sees what is deleted until the next one starts: an ``rm -rf`` a second before the
kill was never recorded (RED34 A1 finding 6). Such a watcher leaves its status file behind
(a clean stop removes it), which says, per worktree, since when it held events it had not
recorded (``unrecorded_since``; else when it last wrote it). The next watcher compares each
such worktree with the last snapshot from before that time, as a burst would have been: the
files it holds that are gone (folders gone whole, and files gone from folders that remain)
make a burst of deletions when they are ``snapshot.burstFiles`` or more, or a folder is
among them; fewer, in folders that remain, are edits like any other, not a loss. The burst
is then recorded like the watcher's own (watch/take.record_bursts), so git's copies, hook
reports and later snapshots are weighed as they are for any burst.
"""

from __future__ import annotations

import os
import stat
from typing import Any

# how long before a gap began a loss entry naming the same snapshot counts as its record
# (the killed watcher recorded the burst, and died before its status said so)
SAID_S = 60.0


def as_burst(store: Any, worktree: str, item: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """The snapshot the gap *item* (``{"gap": True, "started": T, ...}``, see the module's
    docstring) is compared with (None: the worktree has none from before T), and the burst
    (as watch/daemon._burst_json makes them) of what it holds that is gone, None when that
    is not a burst's worth."""
    from git_snapshot.watch import bursts
    from git_snapshot.watch.take import before_burst

    since = float(item["started"])
    snap = before_burst(store, worktree, since)
    if snap is None:
        return None, None
    top = os.fsencode(worktree)
    folders, files = _gone(store, snap.root, top, b"")
    said = _said(store, worktree, snap)
    folders = [f for f in folders if not _all_said(store, snap.root, f, said)]
    files = [f for f in files if f not in said]
    if not folders and len(files) < bursts.from_config(worktree).threshold:
        return snap, None
    kinds = {os.fsdecode(top + b"/" + f): bursts.DELETE_DIR for f in folders}
    kinds.update({os.fsdecode(top + b"/" + f): bursts.DELETE for f in files})
    return snap, {
        **item,
        "paths": list(kinds),
        "kinds": kinds,
        "times": dict.fromkeys(kinds, since),
    }


def _gone(store: Any, tree: bytes, top: bytes, rel: bytes) -> tuple[list[bytes], list[bytes]]:
    """The folders of snapshot tree *tree* (at *rel* in worktree *top*) gone whole from the
    worktree (or no folder there now), and the files gone from the folders that remain."""
    from git_snapshot.store.objects import DIR

    folders: list[bytes] = []
    files: list[bytes] = []
    for e in store.read_tree(tree):
        path = rel + e.name
        try:
            st = os.lstat(top + b"/" + path)
        except FileNotFoundError:
            (folders if e.kind == DIR else files).append(path)
            continue
        except OSError:
            continue  # (unreadable: not said to be gone)
        if e.kind == DIR:
            if not stat.S_ISDIR(st.st_mode):
                folders.append(path)
                continue
            more = _gone(store, e.ref, top, path + b"/")
            folders += more[0]
            files += more[1]
    return folders, files


def _said(store: Any, worktree: str, snap: Any) -> set[bytes]:
    """The paths loss entries recorded since *snap* was taken named from it (the killed
    watcher may have recorded its burst: not twice)."""
    from git_snapshot import gitrepo
    from git_snapshot import lossrecord
    from git_snapshot.errors import UserError

    try:
        entries = lossrecord.history(store, gitrepo.find_repo(worktree))
    except (UserError, OSError, ValueError):
        return set()
    out: set[bytes] = set()
    for entry in entries:
        when = entry.get("time")
        if entry.get("snapshot") != snap.id or not isinstance(when, (int, float)):
            continue
        if when >= snap.created - SAID_S:
            out.update(
                os.fsencode(x["path"]) for x in entry.get("lost") or [] if isinstance(x, dict)
            )
    return out


def _all_said(store: Any, root: bytes, folder: bytes, said: set[bytes]) -> bool:
    """Whether every file snapshot tree *root* holds under *folder* is in *said*."""
    from git_snapshot.losses import _tree_at
    from git_snapshot.store.objects import DIR

    if not said or not any(p.startswith(folder + b"/") for p in said):
        return False
    tree = _tree_at(store, root, folder)
    if tree is None:
        return False
    return all(e.kind == DIR or folder + b"/" + p in said for p, e in store.walk(tree))
