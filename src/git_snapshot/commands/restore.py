from __future__ import annotations

import argparse
import os

from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import user_path
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import Entry
from git_snapshot.store.restorer import Restorer


def unsaved(store: Store, snap: Snapshot, safety: Snapshot) -> frozenset[bytes]:
    """What --delete must keep: the paths the pre-restore snapshot could not save (excluded,
    cache dirs, special or unreadable files) and the directories leading to them, less what
    *snap* restores over them. Deleting them would lose them for good."""
    trees: dict[bytes, dict[bytes, Entry]] = {}

    def held(path: bytes) -> bool:
        """Whether *snap* puts something at *path* or on its way (a file where a dir is)."""
        tree = snap.root
        for part in path.split(b"/"):
            if tree not in trees:
                trees[tree] = {e.name: e for e in store.read_tree(tree)}
            e = trees[tree].get(part)
            if e is None:
                return False
            if e.kind != DIR:
                return True
            tree = e.ref
        return True

    keep: set[bytes] = set()
    for path, _why in safety.meta.get("skipped_paths", []):
        parts = os.fsencode(path).split(b"/")
        keep.update(b"/".join(parts[:i]) for i in range(1, len(parts) + 1))
    return frozenset(p for p in keep if not held(p))


def cmd_restore(args: argparse.Namespace) -> int:
    repo = repo_at(args.cwd)
    # PATHs name worktree paths relative to the current directory (as in git), with --to too;
    # DIR is relative to the current directory, which -C sets (as in git).
    paths = [user_path(repo, args.cwd, p) for p in args.paths]
    target = os.path.abspath(os.path.join(args.cwd, args.to)) if args.to else repo.toplevel
    progress = output.Progress("restore")
    with Store() as store:
        snap = pick(store, repo, args.id)
        safety = None
        kept: frozenset[bytes] = frozenset()
        if not args.dry_run and not args.to:
            # a pre-restore snapshot first, so that the restore can itself be undone
            safety = worktree.take(
                store, repo, trigger="pre-restore", message=f"before restoring snapshot {snap.id}"
            ).snapshot
            if args.delete:
                kept = unsaved(store, snap, safety)
        restorer = Restorer(
            store,
            delete=args.delete,
            dry_run=args.dry_run,
            protect=frozenset({b".git"}) | kept,
            progress=progress,
        )
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
                print(f"{verb}{label} {output.display(p)}")
    if kept:
        top = sorted(p for p in kept if not any(p.startswith(q + b"/") for q in kept))
        more = f" and {len(top) - 5} more" if len(top) > 5 else ""
        print(
            f"kept {len(top)} path(s) that no snapshot holds (excluded, cache dirs, special "
            f"files): {', '.join(output.display(p) for p in top[:5])}{more}"
        )
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
