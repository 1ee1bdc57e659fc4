from __future__ import annotations

from git_snapshot import identity
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store
from git_snapshot.store.gc import disk_errors
from git_snapshot.store.gc import gc
from git_snapshot.store.gc import preview
from git_snapshot.store.index import Snapshot
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_by_policy
from git_snapshot.store.retention import parse_duration


def cmd_prune(
    *,
    cwd: str,
    keep_last: int | None = None,
    keep_within: str | None = None,
    all_repos: bool = False,
    dry_run: bool = False,
) -> int:
    repo = None if all_repos else repo_at(cwd)
    if keep_last is None and keep_within is None:
        cfg = worktree.settings(repo) if repo else worktree.Settings()
        policy = Policy(cfg.keep_last, parse_duration(cfg.keep_within))
    else:
        if keep_last is not None and keep_last < 1:
            output.err("--keep-last must be at least 1 (the newest snapshot is always kept)")
            return 2
        within = parse_duration(keep_within) if keep_within else None
        policy = Policy(keep_last, within)
    with Store() as store:
        sources = [identity.source(store, repo)] if repo else [k for k, _ in store.index.sources()]
        if dry_run:
            gone = forget_by_policy(store, policy, sources, dry_run=True)
            _say_forgotten("would forget", gone)
            todo = preview(store, [s.rowid for s in gone])
            print(
                f"would reclaim about {output.size(todo.bytes_to_free)} ({len(todo.dead)} "
                f"objects, {len(todo.doomed)} packs removed, {len(todo.sparse)} rewritten)"
            )
            _say_kept(len(todo.kept_orphans))
            return 0
        with disk_errors(store, "prune"):
            gone = forget_by_policy(store, policy, sources)
        _say_forgotten("forgot", gone)
        rep = gc(store)
        print(
            f"reclaimed {output.size(rep.bytes_freed)} ({rep.objects_removed} objects, "
            f"{rep.packs_removed} packs removed, {rep.packs_rewritten} rewritten)"
        )
        _say_kept(rep.orphans_kept)
    return 0


def _say_forgotten(verb: str, gone: list[Snapshot]) -> None:
    ids = ", ".join(str(s.id) for s in gone)
    print(f"{verb} {len(gone)} snapshot(s)" + (f": {ids}" if ids else ""))


def _say_kept(orphans: int) -> None:
    if orphans:
        print(
            f"kept {orphans} pack(s) that hold snapshots the index does not list; "
            "bring them back with: git snapshot repair"
        )
