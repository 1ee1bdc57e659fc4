"""``git snapshot losses``: past loss reports; ``git snapshot undo``: restore the latest."""

from __future__ import annotations

import os
from typing import Any

from git_snapshot import losses
from git_snapshot import output
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.restore import cmd_restore
from git_snapshot.errors import UserError
from git_snapshot.store import Store


def cmd_losses(*, cwd: str, json_out: bool = False) -> int:
    repo = repo_at(cwd)
    with Store() as store:
        items = losses.history(store, repo)
    if json_out:
        output.print_json(items)
        return 0
    if not items:
        print("no loss reports for this worktree")
        return 0
    rows = [
        [
            item.get("when", ""),
            item.get("command", ""),
            str(item["snapshot"]),
            _what(item),
        ]
        for item in items
    ]
    print(output.table(["when", "command", "snapshot", "lost"], rows, right=[2]))
    return 0


def _what(item: dict[str, Any]) -> str:
    paths = [
        os.fsencode(x["path"]) + (b"/" if x.get("type") == "dir" else b"")
        for x in item.get("lost", [])
    ]
    names = ", ".join(losses.fold(paths))
    if not item.get("exact", True):
        names += " (an earlier version)"
    unsaved = [os.fsencode(x["path"]) for x in item.get("unsaved", [])]
    if unsaved:
        names += ("; " if names else "") + "not saved: " + ", ".join(losses.fold(unsaved))
    return names


def cmd_undo(*, cwd: str, dry_run: bool = False) -> int:
    repo = repo_at(cwd)
    with Store() as store:
        items = [i for i in losses.history(store, repo) if i.get("lost")]
    if not items:
        raise UserError("no loss report to undo in this worktree (see: git snapshot losses)")
    last = items[-1]
    print(f"undoing: {last['command']} ({last['when']}), from snapshot {last['snapshot']}")
    # restore itself: a pre-restore snapshot first, nothing written outside the worktree
    top = repo.toplevel
    if last.get("to"):  # a dropped stash or a removed worktree: it comes back beside this one
        return cmd_restore(
            cwd=top, snapshot_id=str(last["snapshot"]), to=str(last["to"]), dry_run=dry_run
        )
    paths = [os.path.join(top, p) for p in last.get("restore", [])] or [top]
    return cmd_restore(cwd=top, snapshot_id=str(last["snapshot"]), paths=paths, dry_run=dry_run)
