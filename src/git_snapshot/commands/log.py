"""``git snapshot log PATH``: the versions of one file or folder across this worktree's
snapshots, only where it appeared, changed or vanished."""

from __future__ import annotations

import os
import stat

from git_snapshot import output
from git_snapshot.commands.common import Where
from git_snapshot.commands.common import here_in
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import resolve_repo
from git_snapshot.commands.lookup import earlier_holding
from git_snapshot.commands.lookup import from_top
from git_snapshot.commands.lookup import snapshot_path
from git_snapshot.commands.lookup import worktree_snaps
from git_snapshot.commands.remote import open_store
from git_snapshot.errors import UserError
from git_snapshot.snapids import is_stash
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.history import Trees
from git_snapshot.store.history import Version
from git_snapshot.store.history import versions
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import KIND_NAMES
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.retention import by_worktree

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

SHORT = 12  # hex digits of a content id shown to people


def content_id(v: Version) -> str:
    if v.entry is None:
        return f"({v.why})" if v.why else "-"
    if v.entry.kind == SYMLINK:
        return "-> " + output.target(v.entry.ref)
    return v.entry.ref.hex()[:SHORT]


def version_json(v: Version) -> dict[str, Any]:
    s, e = v.snapshot, v.entry
    return {
        "id": s.id,
        "created": output.iso(s.created),
        "trigger": s.trigger,
        "message": s.message,
        "status": v.status,
        "type": KIND_NAMES.get(e.kind, "?") if e else None,
        "mode": f"{e.mode:04o}" if e else None,
        "size": v.size if e else None,
        "files": v.files if e and e.kind == DIR else None,
        "content": (os.fsdecode(e.ref) if e.kind == SYMLINK else e.ref.hex()) if e else None,
        "left_out": v.why or None,  # status "left out": why the snapshot left the path out
    }


def change_text(v: Version) -> str:
    """The CHANGE column: the status, and a file's or folder's change of mode as diff -p's
    mode lines write it ("mode 100644 -> 100755": alone; "changed, mode ...": with its
    content). Without, a chmod read as "changed" with the size and content of the row
    before (RED34 C4)."""
    e = v.entry
    if v.mode_was is None or e is None:
        return str(v.status)
    kind = stat.S_IFDIR if e.kind == DIR else stat.S_IFREG
    mode = f"mode {kind | v.mode_was:06o} -> {kind | e.mode:06o}"
    return mode if v.mode_alone else f"{v.status}, {mode}"


def folder_size(files: int, size: int) -> str:
    return f"{files} file{'' if files == 1 else 's'}, {output.size(size)}"


def _size(v: Version) -> str:
    if v.entry is None:
        return "-"
    if v.entry.kind == DIR:
        return folder_size(v.files, v.size)
    return output.size(v.size)


STASHED = "stashed"  # a stash entry's files (run -- git stash drop), not the worktree's


def _versions(
    store: Store, snaps: list[Snapshot], rel: bytes, damaged: list[tuple[Snapshot, str]]
) -> list[Version]:
    """The versions of *rel* across the worktree's snapshots, where it changed; a stash
    entry's snapshot (its files, never the worktree as it was) is compared with none of them
    and listed, as STASHED, where it holds the path."""
    own = [s for s in snaps if not is_stash(s)]
    found = versions(store, own, rel, damaged)
    if len(own) < len(snaps):
        for s in snaps:
            if is_stash(s):
                found += [v._replace(status=STASHED) for v in versions(store, [s], rel, damaged)]
        found.sort(key=lambda v: v.snapshot.id)
    return found


def _every_worktrees(
    store: Store, snaps: list[Snapshot], rel: bytes, damaged: list[tuple[Snapshot, str]]
) -> list[Version]:
    """_versions across every worktree of a repository (--repo): each worktree's snapshots
    compared with its own earlier ones (another branch's version is no change), in id order."""
    found = [v for group in by_worktree(snaps) for v in _versions(store, group, rel, damaged)]
    return sorted(found, key=lambda v: v.snapshot.id)


def cmd_log(
    *,
    cwd: str,
    path: str,
    json_out: bool = False,
    repo_arg: str | None = None,
    remote: str | None = None,
) -> int:
    with open_store(remote) as store, store.lock():  # no gc moves an object while we read it
        where = resolve_repo(store, cwd, repo_arg)
        rel = snapshot_path(where, cwd, path)
        every = repo_arg is not None  # every worktree's, as list --repo shows them
        snaps = worktree_snaps(store, where, [rel], [path], every=every)
        damaged: list[tuple[Snapshot, str]] = []  # a folder on the way unreadable
        found = (_every_worktrees if every else _versions)(store, snaps, rel, damaged)
        # a removed worktree's at this path, not this one's, may hold it (RED34 C3)
        there = "" if found or damaged else earlier_holding(store, where, [rel], [path])
        # a path from the top typed in a subfolder (as show and diff print it): given as typed
        hint = "" if found or damaged or there else _from_top(store, snaps, where, cwd, path)
    if not found and not damaged:
        of = f"of {where.label}" if every else "of this worktree"
        raise UserError(
            f"{output.display(os.fsencode(path))} is in none of the {len(snaps)} snapshot(s) "
            f"{of}"
            + (
                hint
                or "; "
                + (there.removeprefix("; ") or "look for it by name with: git snapshot find NAME")
            )
        )
    if json_out:
        output.print_json(
            [
                {**version_json(v), **({"worktree": v.snapshot.worktree} if every else {})}
                for v in found
            ]
        )
        return _not_read(damaged)
    rows = [
        [
            str(v.snapshot.id),
            output.iso(v.snapshot.created),
            output.age(v.snapshot.created),
            v.snapshot.trigger,
            change_text(v),
            _size(v),
            content_id(v),
        ]
        for v in found
    ]
    headers = ["ID", "CREATED", "AGE", "TRIGGER", "CHANGE", "SIZE", "CONTENT"]
    if len({v.snapshot.worktree for v in found}) > 1 or (every and found):
        headers.insert(1, "WORKTREE")
        for v, row in zip(found, rows, strict=True):
            row.insert(1, output.display(os.fsencode(v.snapshot.worktree)))
    if rows:
        print(output.table(headers, rows, right=[0, 5], colors={0: "yellow"}))
    return _not_read(damaged)


def _from_top(store: Store, snaps: list[Snapshot], where: Where, cwd: str, path: str) -> str:
    """lookup.from_top for log: whether one of *snaps* holds the path from the top."""
    if not where.here:
        return ""  # (--repo of another repository: its PATHs are from the top already)
    trees = Trees(store)
    return from_top(
        path,
        here_in(repo_at(cwd), cwd),
        lambda top: any(trees.at(s.root, top) is not None for s in snaps),
    )


def _not_read(damaged: list[tuple[Snapshot, str]], shown: int = 20) -> int:
    """Name the snapshots in which the path could not be read (1), or nothing (0)."""
    if not damaged:
        return 0
    for snap, why in damaged[:shown]:
        output.err(f"not read: snapshot {snap.id}: {why}")
    output.err(
        f"{len(damaged)} damaged snapshot(s) could not be read at this path (listed above), "
        "every other was; see which paths with: git snapshot verify --read-data"
    )
    return 1
