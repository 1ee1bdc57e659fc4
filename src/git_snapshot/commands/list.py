from __future__ import annotations

from git_snapshot import output
from git_snapshot import snapids
from git_snapshot.commands.common import around
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import branch_of
from git_snapshot.commands.common import earlier_note
from git_snapshot.commands.common import elsewhere
from git_snapshot.commands.common import own_snapshots
from git_snapshot.commands.common import qualified
from git_snapshot.commands.common import resolve_repo
from git_snapshot.commands.remote import open_store


def cmd_list(
    *,
    cwd: str,
    all_repos: bool = False,
    json_out: bool = False,
    repo_arg: str | None = None,
    remote: str | None = None,
    limit: int | None = None,
    since: str | None = None,
) -> int:
    if limit is not None and limit < 0:
        output.err("-n takes a number of snapshots, 0 or more")
        return 2
    after = snapids.timestamp(since) if since else None
    with open_store(remote) as store:
        if all_repos:
            snaps = store.snapshots()
        else:
            where = resolve_repo(store, cwd, repo_arg)
            if where.key is None:
                snaps = []
            elif repo_arg is None:  # its own: not a removed worktree's at its path
                snaps = own_snapshots(store, where)
            else:  # another repository: all of its worktrees, the gone ones too
                snaps = store.snapshots(where.key)
        total = len(snaps)
        if after is not None:
            snaps = [s for s in snaps if s.created >= after]
        if limit is not None:  # the newest N, still printed oldest first
            snaps = snaps[max(len(snaps) - limit, 0) :] if limit else []
        labels = qualified(store, snaps) if all_repos else {}
        # none of its own: a repository inside another's worktree, which holds its files
        note = ""
        if not total and not all_repos and where.here and where.worktree:
            note = around(store, where.worktree) or elsewhere(store, where.worktree)
        # ... or a removed worktree's at its path: not this one's (RED34 C3)
        earlier = earlier_note(store, where) if repo_arg is None and not all_repos else ""
        note = note or earlier
    if json_out:
        items = [as_json(s) for s in snaps]
        for item, s in zip(items, snaps, strict=True):
            if all_repos:
                item["qualified_id"] = f"{labels[s.source]}:{s.id}"
        output.print_json(items)
        return 0
    if not snaps:
        if total:  # -n 0, or none since DATE: there are snapshots, just none of these
            if since and limit != 0:
                print(f"none of the {total} snapshot(s) was taken since {since}")
        elif remote is not None and all_repos:  # (a remote, not this store)
            print(
                f"no snapshots on remote {remote} yet; push to it with: git snapshot push {remote}"
            )
        elif all_repos:
            print("no snapshots in this store yet; take one in a git worktree with: git snapshot")
        else:
            print(f"no snapshots yet{note or '; take one with: git snapshot'}")
        return 0
    if earlier and total:  # fewer than were taken here: where the others are, on stderr
        output.err(earlier.removeprefix("; "))
    wide = all_repos or len({s.worktree for s in snaps}) > 1
    headers = ["ID", "CREATED", "TRIGGER", "BRANCH", "FILES", "SIZE", "ADDED", "MESSAGE"]
    if wide:
        headers.insert(1, "WORKTREE")
    rows = []
    for s in snaps:
        row = [
            f"{labels[s.source]}:{s.id}" if all_repos else str(s.id),
            output.age(s.created),
            s.trigger,
            branch_of(s),
            str(s.files),
            output.size(s.bytes),
            output.size(s.added_bytes),
            output.message(s.message),  # never raw control characters
        ]
        if wide:
            row.insert(1, s.worktree)
        rows.append(row)
    right = [0, 5, 6, 7] if wide else [0, 4, 5, 6]
    print(output.table(headers, rows, right=right, colors={0: "yellow"}))  # ids, as git's
    return 0
