from __future__ import annotations

import os
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import pick
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import user_path
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.restorer import Report
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.safety import unsaved

SHOWN = 20  # paths listed one per line before a count takes over


def refuse_git_dir(repo: gitrepo.Repo, target: str) -> None:
    """Restore never writes into a repository's git directory, not even with --to."""
    real = os.path.realpath(target)
    for git_dir in {repo.git_dir, repo.common_dir, os.path.join(repo.toplevel, ".git")}:
        top = os.path.realpath(git_dir)
        if real == top or real.startswith(top.rstrip("/") + "/"):
            raise UserError(
                f"refusing to restore into {target}: that is inside the git directory {top}; "
                "name a directory outside it"
            )


def cmd_restore(
    *,
    cwd: str,
    snapshot_id: str,
    paths: Sequence[str] = (),
    to: str | None = None,
    dry_run: bool = False,
    delete: bool = False,
) -> int:
    repo = repo_at(cwd)
    # PATHs name worktree paths relative to the current directory (as in git), with --to too;
    # DIR is relative to the current directory, which -C sets (as in git).
    rels = [user_path(repo, cwd, p) for p in paths]
    target = os.path.abspath(os.path.join(cwd, to)) if to else repo.toplevel
    refuse_git_dir(repo, target)
    progress = output.Progress("restore")
    damaged: Damaged | None = None
    with Store() as store:
        snap = pick(store, repo, snapshot_id)
        safety = None
        if not dry_run and not to:
            # a pre-restore snapshot first, so that the restore can itself be undone
            safety = worktree.take(
                store, repo, trigger="pre-restore", message=f"before restoring snapshot {snap.id}"
            ).snapshot
        restorer = Restorer(
            store,
            delete=delete,
            dry_run=dry_run,
            protect=unsaved(safety, rels) if safety else frozenset(),
            never=frozenset({b".git"}),
            # elsewhere than in place, nothing holds a directory that is in the way
            replace_dirs=not to,
            progress=progress,
        )
        try:
            report = restorer.restore(snap, target, [p for p in rels if p] or None)
        except Damaged as exc:
            damaged, report = exc, restorer.report
    progress.done()
    _print_report(report, snap, safety, target, dry_run=dry_run, elsewhere=bool(to))
    if damaged is None:
        return 0
    output.print_damaged(report.damaged, "restored")
    return 1


def _print_report(
    report: Report,
    snap: Snapshot,
    safety: Snapshot | None,
    target: str,
    *,
    dry_run: bool,
    elsewhere: bool,
) -> None:
    verb = "would " if dry_run else ""
    for label, items in (
        ("create", report.created),
        ("update", report.updated),
        ("delete", report.deleted),
    ):
        if dry_run or len(items) <= SHOWN:
            for p in items:
                print(f"{verb}{label} {output.display(p)}")
    if report.kept:
        why = (
            "non-empty directories in the way"
            if elsewhere
            else "that no snapshot holds (name one to overwrite it)"
        )
        print(f"kept {len(report.kept)} path(s) {why}: {_some(report.kept)}")
    if report.store:
        print(f"left the snapshot store alone, which lies at: {_some(report.store)}")
    if report.refused:
        print(f"left out {len(report.refused)} path(s) under .git: {_some(report.refused)}")
    where = f" into {target}" if elsewhere else ""
    n = len(report.created) + len(report.updated)
    head = "would restore" if dry_run else "restored"
    line = f"{head} {n} entries from snapshot {snap.id}{where} ({report.unchanged} unchanged"
    if report.deleted:
        line += f", {len(report.deleted)} deleted"
    line += ")"
    if safety is not None:
        line += f"; what was there before is in snapshot {safety.id}"
    print(line)


def _some(paths: list[bytes], n: int = 5) -> str:
    more = f" and {len(paths) - n} more" if len(paths) > n else ""
    return ", ".join(output.display(p) for p in paths[:n]) + more
