from __future__ import annotations

import argparse

from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store.prune import Policy
from git_snapshot.store.prune import forget_by_policy
from git_snapshot.store.prune import gc
from git_snapshot.store.prune import parse_duration


def cmd_prune(args: argparse.Namespace) -> int:
    repo = None if args.all else repo_at(args.cwd)
    if args.keep_last is None and args.keep_within is None:
        cfg = worktree.settings(repo) if repo else worktree.Settings()
        policy = Policy(cfg.keep_last, parse_duration(cfg.keep_within))
    else:
        if args.keep_last is not None and args.keep_last < 1:
            output.err("--keep-last must be at least 1 (the newest snapshot is always kept)")
            return 2
        within = parse_duration(args.keep_within) if args.keep_within else None
        policy = Policy(args.keep_last, within)
    with Store() as store:
        sources = [repo.common_dir] if repo else [k for k, _ in store.index.sources()]
        gone = forget_by_policy(store, policy, sources, dry_run=args.dry_run)
        verb = "would forget" if args.dry_run else "forgot"
        ids = ", ".join(str(s.id) for s in gone)
        print(f"{verb} {len(gone)} snapshot(s)" + (f": {ids}" if ids else ""))
        if not args.dry_run:
            rep = gc(store)
            print(
                f"reclaimed {output.size(rep.bytes_freed)} ({rep.objects_removed} objects, "
                f"{rep.packs_removed} packs removed, {rep.packs_rewritten} rewritten)"
            )
    return 0
