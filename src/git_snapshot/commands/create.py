from __future__ import annotations

import time

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import output
from git_snapshot import worktree
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Result
from git_snapshot.store import Store


def summary(res: Result, seconds: float) -> str:
    s = res.snapshot
    text = (
        f"snapshot {s.id}: {output.files(s.files)}, {output.size(s.bytes)} "
        f"(+{output.size(s.added_bytes)} stored) in {seconds:.2f}s"
    )
    if s.skipped:
        text += f"; {s.skipped} skipped (see: git snapshot show {s.id})"
    return text


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
