from __future__ import annotations

import argparse
import os

from git_snapshot import output
from git_snapshot.commands.common import display
from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.errors import UserError
from git_snapshot.store import Store
from git_snapshot.store.diff import diff_dir
from git_snapshot.store.diff import diff_trees

LETTER = {"added": "A", "deleted": "D", "modified": "M", "mode": "T"}


def cmd_diff(args: argparse.Namespace) -> int:
    if len(args.ids) > 2:
        raise UserError("diff takes at most two snapshot ids")
    repo = repo_at(args.cwd)
    with Store() as store:
        old = pick(store, repo, args.ids[0] if args.ids else "latest")
        if len(args.ids) == 2:
            new = pick(store, repo, args.ids[1])
            changes = diff_trees(store, old.root, new.root)
            against = f"snapshot {new.id}"
        else:
            changes = diff_dir(
                store, old.root, os.fsencode(repo.toplevel), skip=lambda rel: rel == b".git"
            )
            against = "the worktree"
    if args.json:
        output.print_json([{"path": display(c.path), "status": c.status} for c in changes])
        return 0
    for c in changes:
        print(f"{LETTER[c.status]} {display(c.path)}")
    counts = {s: sum(c.status == s for c in changes) for s in LETTER}
    if changes:
        parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        print(f"snapshot {old.id} -> {against}: {parts}")
    else:
        print(f"no changes between snapshot {old.id} and {against}")
    return 0
