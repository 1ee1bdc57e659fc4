from __future__ import annotations

import argparse
import os

from git_snapshot import output
from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store.export import check_destination
from git_snapshot.store.export import compression_for
from git_snapshot.store.export import export
from git_snapshot.store.restorer import Damaged


def cmd_export(args: argparse.Namespace) -> int:
    compression_for(args.file)  # a bad name fails before any work
    path = os.path.join(args.cwd, args.file)  # -C as in git
    repo = repo_at(args.cwd)
    with Store() as store:
        check_destination(store, path)
        snap = pick(store, repo, args.id)
        try:
            count = export(store, snap, path)  # leaves .git out
        except Damaged as exc:
            print(f"exported snapshot {snap.id} ({exc.written} entries) to {args.file}")
            output.print_damaged(exc.damaged, "exported")
            return 1
    print(f"exported snapshot {snap.id} ({count} entries) to {args.file}")
    return 0
