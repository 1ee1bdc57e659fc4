from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from git_snapshot import output
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import choose
from git_snapshot.commands.lookup import snapshot_path
from git_snapshot.commands.remote import open_store
from git_snapshot.errors import UserError
from git_snapshot.store.history import under
from git_snapshot.store.objects import KIND_NAMES
from git_snapshot.store.objects import SYMLINK
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
    with open_store(remote) as store, store.lock():
        where, snap = choose(store, cwd, snapshot_id, repo_arg)
        if paths:  # only these, and what is below them
            rels = [snapshot_path(where, cwd, p) for p in paths]
            entries, missing = under(store, snap.root, rels)
            if missing:
                shown = ", ".join(output.display(p) for p in missing)
                raise UserError(
                    f"snapshot {snap.id} holds no {shown}; find where it is with: "
                    "git snapshot log PATH"
                )
        else:
            entries = list(store.walk(snap.root))
    if json_out:
        data = as_json(snap)
        data["entries"] = [
            {
                "path": output.display(p),
                "type": KIND_NAMES.get(e.kind, "?"),
                "kind": LABELS.get(e.label, ""),
                "mode": f"{e.mode:04o}",
                "size": e.size,
                "mtime": e.mtime_ns / 1e9,
                "mtime_ns": e.mtime_ns,
                **({"target": output.display(e.ref)} if e.kind == SYMLINK else {}),
            }
            for p, e in entries
        ]
        data["skipped_paths"] = snap.meta.get("skipped_paths", [])
        output.print_json(data)
        return 0
    print(
        f"snapshot {snap.id}  {output.iso(snap.created)}  {snap.trigger}  "
        f"{snap.meta.get('branch') or '(detached)'} {(snap.meta.get('head') or '')[:12]}"
    )
    if snap.message:
        print(f"message: {snap.message}")
    rows = []
    for p, e in entries:
        name = output.display(p) + ("/" if e.kind == 2 else "")
        if e.kind == SYMLINK:
            name += " -> " + output.display(e.ref)
        mode = stat.filemode(e.mode | {1: stat.S_IFREG, 2: stat.S_IFDIR, 3: stat.S_IFLNK}[e.kind])
        rows.append(
            [LABELS.get(e.label, "") or "-", mode, output.size(e.size) if e.kind == 1 else "", name]
        )
    print(output.table(["KIND", "MODE", "SIZE", "PATH"], rows, right=[2]))
    for path, why in snap.meta.get("skipped_paths", []):
        print(f"skipped: {output.display(os.fsencode(path))} ({why})")
    print(f"{snap.files} files, {output.size(snap.bytes)}, {snap.skipped} skipped")
    return 0
