from __future__ import annotations

from git_snapshot import identity
from git_snapshot import output
from git_snapshot.commands.common import as_json
from git_snapshot.commands.common import repo_at
from git_snapshot.store import Store


def cmd_list(*, cwd: str, all_repos: bool = False, json_out: bool = False) -> int:
    with Store() as store:
        if all_repos:
            snaps = store.snapshots()
        else:
            repo = repo_at(cwd)
            snaps = store.snapshots(identity.source(store, repo), repo.toplevel)
    if json_out:
        output.print_json([as_json(s) for s in snaps])
        return 0
    if not snaps:
        print("no snapshots yet; take one with: git snapshot")
        return 0
    headers = ["ID", "CREATED", "TRIGGER", "BRANCH", "FILES", "SIZE", "ADDED", "MESSAGE"]
    if all_repos:
        headers.insert(1, "WORKTREE")
    rows = []
    for s in snaps:
        row = [
            str(s.id),
            output.age(s.created),
            s.trigger,
            s.meta.get("branch") or "(detached)",
            str(s.files),
            output.size(s.bytes),
            output.size(s.added_bytes),
            s.message,
        ]
        if all_repos:
            row.insert(1, s.worktree)
        rows.append(row)
    right = [0, 5, 6, 7] if all_repos else [0, 4, 5, 6]
    print(output.table(headers, rows, right=right))
    return 0
