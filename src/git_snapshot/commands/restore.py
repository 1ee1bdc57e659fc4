from __future__ import annotations

import argparse
import os

from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import display
from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import user_path
from git_snapshot.store import Store
from git_snapshot.store.restorer import Restorer


def cmd_restore(args: argparse.Namespace) -> int:
    repo = repo_at(args.cwd)
    paths = (
        [user_path(repo, args.cwd, p) for p in args.paths]
        if not args.to
        else [os.fsencode(p) for p in args.paths]
    )
    target = os.path.abspath(args.to) if args.to else repo.toplevel
    progress = output.Progress("restore")
    with Store() as store:
        snap = pick(store, repo, args.id)
        restorer = Restorer(
            store,
            delete=args.delete,
            dry_run=args.dry_run,
            protect=frozenset({b".git"}),
            progress=progress,
        )
        safety = None
        if not args.dry_run and not args.to:
            # a pre-restore snapshot first, so that the restore can itself be undone
            safety = worktree.take(
                store, repo, trigger="pre-restore", message=f"before restoring snapshot {snap.id}"
            ).snapshot
        report = restorer.restore(snap, target, [p for p in paths if p] or None)
    progress.done()
    verb = "would " if args.dry_run else ""
    for label, items in (
        ("create", report.created),
        ("update", report.updated),
        ("delete", report.deleted),
    ):
        if args.dry_run or len(items) <= 20:
            for p in items:
                print(f"{verb}{label} {display(p)}")
    where = f" into {target}" if args.to else ""
    n = len(report.created) + len(report.updated)
    head = "would restore" if args.dry_run else "restored"
    line = f"{head} {n} entries from snapshot {snap.id}{where} ({report.unchanged} unchanged"
    if report.deleted:
        line += f", {len(report.deleted)} deleted"
    line += ")"
    if safety is not None:
        line += f"; what was there before is in snapshot {safety.id}"
    print(line)
    return 0
