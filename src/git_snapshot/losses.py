"""Loss reports: what an operation destroyed that only a snapshot still holds."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.diff import lost
from git_snapshot.store.objects import SYMLINK
from git_snapshot.worktree import LABELS
from git_snapshot.worktree import TRACKED

SHOW_AT_MOST = 10


@dataclass(frozen=True)
class Loss:
    path: bytes
    kind: str  # tracked (an uncommitted edit), untracked or ignored
    status: str  # deleted or modified


def _git_blob_id(store: Store, key: bytes, size: int, link: bytes | None) -> str:
    h = hashlib.sha1(b"blob %d\0" % size)  # git object id, not security
    if link is not None:
        h.update(link)
    else:
        for chunk in store.stream_blob(key):
            h.update(chunk)
    return h.hexdigest()


def find(
    store: Store, repo: gitrepo.Repo, snap: Snapshot, paths: Iterable[bytes] | None = None
) -> list[Loss]:
    """Entries of *snap* the worktree no longer holds, less committed content git still has."""
    items = lost(store, snap.root, os.fsencode(repo.toplevel), paths)
    tracked = [(p, e) for p, e, _ in items if e.label == TRACKED]
    committed: dict[bytes, tuple[int, str]] = {}
    head = snap.meta.get("head")
    if tracked and head:
        committed = gitrepo.tree_entries(repo, head, [p for p, _ in tracked])
    out = []
    for path, e, status in items:
        if e.label == TRACKED and path in committed:
            link = e.ref if e.kind == SYMLINK else None
            if committed[path][1] == _git_blob_id(store, e.ref, e.size, link):
                continue  # the snapshot held the committed content: git still has it
        out.append(Loss(path, LABELS.get(e.label) or "untracked", status))
    return out


def _count(kind: str, n: int) -> str:
    """'1 ignored file', '2 files with uncommitted edits'."""
    files = "file" if n == 1 else "files"
    return f"{n} {files} with uncommitted edits" if kind == "tracked" else f"{n} {kind} {files}"


def _from(repo: gitrepo.Repo, cwd: str, rel: bytes) -> bytes:
    """A worktree path as the user types it from *cwd* (restore takes cwd-relative paths)."""
    full = os.path.join(os.fsencode(repo.toplevel), rel)
    return os.path.relpath(full, os.fsencode(os.path.abspath(cwd)))


def _covering(losses: list[Loss]) -> list[bytes]:
    """At most SHOW_AT_MOST paths whose restore brings back every loss: the paths themselves,
    else their top-level directories, else the whole tree (restore never deletes)."""
    paths = [loss.path for loss in losses]
    if len(paths) <= SHOW_AT_MOST:
        return paths
    tops = sorted({p.split(b"/", 1)[0] for p in paths})
    return tops if len(tops) <= SHOW_AT_MOST else []


def report(
    losses: list[Loss], snap: Snapshot, what: str, repo: gitrepo.Repo, cwd: str
) -> list[str]:
    """Lines for the user; empty when nothing was lost."""
    if not losses:
        return []
    kinds: dict[str, int] = {}
    for loss in losses:
        kinds[loss.kind] = kinds.get(loss.kind, 0) + 1
    desc = ", ".join(_count(k, n) for k, n in sorted(kinds.items()))
    names = [output.display(_from(repo, cwd, loss.path)) for loss in losses]
    shown = ", ".join(names[:SHOW_AT_MOST]) + (
        f" and {len(names) - SHOW_AT_MOST} more" if len(names) > SHOW_AT_MOST else ""
    )
    args = " ".join(output.shell_quote(_from(repo, cwd, p)) for p in _covering(losses))
    return [
        f"git-snapshot: {what} destroyed {desc}: {shown} (saved in snapshot {snap.id}; "
        f"restore with: git snapshot restore {snap.id} {args})"
    ]
