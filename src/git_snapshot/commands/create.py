from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Result
from git_snapshot.store import Store

SKIPPED_NAMED = 3  # skipped paths named in a snapshot's line; past them, show lists them


def summary(res: Result, seconds: float) -> str:
    s = res.snapshot
    text = (
        f"snapshot {s.id}: {output.files(s.files)}, {output.size(s.bytes)} "
        f"(+{output.size(s.added_bytes)} stored) in {seconds:.2f}s"
    )
    named = s.meta.get("skipped_paths") or []
    if s.skipped and len(named) == s.skipped <= SKIPPED_NAMED:  # a few: named here
        text += "; skipped: " + ", ".join(
            f"{output.brief(os.fsencode(path))} ({_flat(why)})" for path, why in named
        )
    elif s.skipped:  # show lists them after every entry
        text += f"; {s.skipped} skipped (see: git snapshot show {s.id})"
    return text


def _flat(why: str) -> str:
    """A skip's reason without parentheses of its own, to sit in one pair: 'cache directory,
    CACHEDIR.TAG'."""
    return why.replace(" (", ", ").replace(")", "")


def cmd_create(*, cwd: str, message: str = "", json_out: bool = False) -> int:
    repo = repo_at(cwd, remember=True)
    gitrepo.prefetch(repo)  # git's config and labels, side by side, while the store opens
    start = time.monotonic()
    progress = output.Progress("snapshot")
    with Store() as store:
        if progress.on:  # the expected total: this worktree's previous snapshot, if any
            before = store.snapshots(identity.source(store, repo), repo.toplevel)
            progress.total = before[-1].files if before else None
        res = worktree.take(
            store, repo, trigger="manual", message=message, progress=progress.files_bytes
        )
    progress.done()
    for line in output.snapshot_warnings(res.snapshot):
        output.err(line)
    if json_out:
        output.print_json(as_json(res.snapshot))
    else:
        print(summary(res, time.monotonic() - start))
    return 0
