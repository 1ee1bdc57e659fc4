from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from git_snapshot import output
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import branch_of
from git_snapshot.commands.common import choose
from git_snapshot.commands.lookup import reach_options
from git_snapshot.commands.lookup import snapshot_path
from git_snapshot.commands.remote import damage_advice
from git_snapshot.commands.remote import open_store
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import history
from git_snapshot.store import validate
from git_snapshot.store.objects import CHANGED_WHILE_READ
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import KIND_NAMES
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.worktree import LABELS


def cmd_show(
    *,
    cwd: str,
    snapshot_id: str,
    paths: Sequence[str] = (),
    json_out: bool = False,
    repo_arg: str | None = None,
    remote: str | None = None,
) -> int:
    damaged: list[tuple[bytes, str]] = []
    with open_store(remote) as store, store.lock():
        where, snap = choose(store, cwd, snapshot_id, repo_arg)
        if paths:  # only these, and what is below them
            rels = [snapshot_path(where, cwd, p) for p in paths]
            entries, missing = history.under(store, snap.root, rels, damaged)
            if missing:
                shown = ", ".join(output.display(p) for p in missing)
                # log takes PATH as typed here (relative to this folder), and one PATH
                typed = [p for p, r in zip(paths, rels) if r in missing]
                opts = reach_options(repo_arg, remote)
                word = output.path_args([os.fsencode(typed[0])]) if len(typed) == 1 else "PATH"
                raise UserError(
                    f"snapshot {snap.id} holds no {shown}; find where it is with: "
                    f"git snapshot log{opts} {word}"
                )
        else:
            entries = list(validate.walk(store, snap.root, damaged=history.noting(damaged)))
    kinds = _kinds(entries)
    if damaged:  # a folder whose listing is unreadable: what it holds, and so its kind, unknown
        unread = {p for p, _ in damaged}
        kinds = ["unknown" if p in unread else k for (p, _), k in zip(entries, kinds)]
    if json_out:
        data = as_json(snap)
        data["entries"] = [
            {
                "path": os.fsdecode(p),  # (as is: JSON carries a newline; print_json
                "type": KIND_NAMES.get(e.kind, "?"),  # shows bytes that are not UTF-8)
                "kind": kind,
                "mode": f"{e.mode:04o}",
                "size": e.size,
                "mtime": e.mtime_ns / 1e9,
                "mtime_ns": e.mtime_ns,
                **({"target": os.fsdecode(e.ref)} if e.kind == SYMLINK else {}),
                **({"changed_while_read": True} if e.flags & CHANGED_WHILE_READ else {}),
            }
            for (p, e), kind in zip(entries, kinds)
        ]
        data["skipped_paths"] = snap.meta.get("skipped_paths", [])
        data["damaged"] = [{"path": os.fsdecode(p), "why": why} for p, why in damaged]
        output.print_json(data)
        if damaged:
            output.err(f'{len(damaged)} damaged path(s) could not be shown (see "damaged")')
        return 1 if damaged else 0
    print(
        f"snapshot {snap.id}  {output.iso(snap.created)}  {snap.trigger}  "
        f"{branch_of(snap)} {(snap.meta.get('head') or '')[:12]}"
    )
    if snap.message:
        print(f"message: {output.message(snap.message)}")
    rows = []
    for (p, e), kind in zip(entries, kinds):
        name = output.display(p) + ("/" if e.kind == 2 else "")
        if e.kind == SYMLINK:
            name += " -> " + output.target(e.ref)
        if e.flags & CHANGED_WHILE_READ:  # stored as last read: maybe a mix of versions
            name += f"  {TORN}"
        mode = stat.filemode(e.mode | {1: stat.S_IFREG, 2: stat.S_IFDIR, 3: stat.S_IFLNK}[e.kind])
        rows.append([kind, mode, output.size(e.size) if e.kind == 1 else "", name])
    print(output.table(["KIND", "MODE", "SIZE", "PATH"], rows, right=[2]))
    for path, why in snap.meta.get("skipped_paths", []):
        print(f"skipped: {output.display(os.fsencode(path))} ({why})")
    print(_totals(snap, entries if paths else None))
    if damaged:  # what is below them could not be listed: everything else was
        output.print_damaged(damaged, "shown", advice=damage_advice(store))
        return 1
    return 0


def _totals(snap: Snapshot, listed: Sequence[tuple[bytes, Entry]] | None) -> str:
    """The last line: the snapshot's totals, after those of what was *listed* when PATHs chose
    it (the snapshot's alone read as the size of what was listed; RED32). Counted as the
    snapshot counts: a symlink is a file, of no bytes (a link alone was '0 files': RED40 A)."""
    whole = f"{output.files(snap.files)}, {output.size(snap.bytes)}, {snap.skipped} skipped"
    if listed is None:
        return whole
    files = [e for _, e in listed if e.kind in (FILE, SYMLINK)]
    size = sum(e.size for e in files if e.kind == FILE)
    shown = f"{output.files(len(files))}, {output.size(size)} shown"
    return f"{shown}; the snapshot holds {whole}"


TORN = "(kept changing while read: may mix versions)"
_RANK = {"ignored": 1, "untracked": 2, "tracked": 3}
_BY_RANK = {r: k for k, r in _RANK.items()}


def _kinds(entries: Sequence[tuple[bytes, Entry]]) -> list[str]:
    """Each entry's kind: a file's as the snapshot recorded it; a folder the walk did not
    label is tracked when it holds a tracked file, else untracked when it holds an untracked
    one, else ignored when all it holds is ignored (as git status --ignored shows it); an
    empty one is ignored inside an ignored folder, else untracked. *entries*: parents before
    children (Store.walk, history.under)."""
    rank: dict[bytes, int] = {}
    for p, e in reversed(entries):  # children before their parents
        r = _RANK.get(LABELS.get(e.label, ""), 0) or rank.get(p, 0)
        rank[p] = r
        parent = p.rpartition(b"/")[0]
        if r > rank.get(parent, 0):
            rank[parent] = r
    out = []
    for p, _ in entries:
        r = rank[p]
        if not r:  # an empty folder (or one holding only empty folders): as its parent
            r = rank[p] = 1 if rank.get(p.rpartition(b"/")[0]) == 1 else 2
        out.append(_BY_RANK[r])
    return out
