from __future__ import annotations

import argparse
import os

from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store.export import compression_for
from git_snapshot.store.export import export


def cmd_export(args: argparse.Namespace) -> int:
    compression_for(args.file)  # a bad name fails before any work
    repo = repo_at(args.cwd)
    with Store() as store:
        snap = pick(store, repo, args.id)
        count = export(store, snap, os.path.join(args.cwd, args.file))  # -C as in git
    print(f"exported snapshot {snap.id} ({count} entries) to {args.file}")
    return 0
