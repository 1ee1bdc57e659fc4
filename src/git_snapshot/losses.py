"""Loss reports: what an operation destroyed that only a snapshot still holds."""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from git_snapshot import gitrepo
from git_snapshot.commands.common import for_people
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
    names = [for_people(repo, cwd, loss.path) for loss in losses]
    shown = ", ".join(names[:SHOW_AT_MOST]) + (
        f" and {len(names) - SHOW_AT_MOST} more" if len(names) > SHOW_AT_MOST else ""
    )
    args = " ".join(shlex.quote(n) for n in names[:SHOW_AT_MOST])
    if len(names) > SHOW_AT_MOST:
        args += f" ... (review all with: git snapshot restore {snap.id} --dry-run)"
    return [
        f"git-snapshot: {what} destroyed {desc}: {shown} (saved in snapshot {snap.id}; "
        f"restore with: git snapshot restore {snap.id} {args})"
    ]
