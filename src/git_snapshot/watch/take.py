"""A watch snapshot, in a child process of the daemon: ``python -m git_snapshot.watch.take
WORKTREE`` prints ``{"id": N, "new": bool, "created": T}`` on one line, or an error on stderr.

A child keeps the daemon small and unharmed: the archiver, zstd and SQLite live here and are
gone when the snapshot is taken.
"""

from __future__ import annotations

import json
import sys


def take(worktree: str) -> dict[str, object]:
    from git_snapshot import gitrepo
    from git_snapshot import worktree as wt
    from git_snapshot.store import Store

    repo = gitrepo.find_repo(worktree)
    with Store() as store:
        cfg = wt.settings(repo)
        res = wt.take(store, repo, trigger="watch", cfg=cfg, skip_if_unchanged=True)
        if res.new:
            wt.apply_retention(store, repo, cfg)
    s = res.snapshot
    return {"id": s.id, "new": res.new, "created": s.created, "files": s.files}


def before_burst(worktree: str, started: float, taken: list[tuple[float, int]]) -> int | None:
    """The id of the last snapshot of *worktree* begun before a burst that started at
    *started*: the daemon's own (*taken*: (begun, id)), else the store's latest before it."""
    mine = [sid for begun, sid in taken if begun < started]
    if mine:
        return mine[-1]
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.store import Store

    repo = gitrepo.find_repo(worktree)
    with Store() as store:
        snaps = store.snapshots(identity.source(store, repo), repo.toplevel)
        older = [s for s in snaps if s.created < started]
        return older[-1].id if older else None


def main(argv: list[str]) -> int:
    from git_snapshot.errors import UserError

    if len(argv) != 1:
        print("usage: python -m git_snapshot.watch.take WORKTREE", file=sys.stderr)
        return 2
    try:
        print(json.dumps(take(argv[0])), flush=True)
    except UserError as exc:
        print(f"git-snapshot: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
