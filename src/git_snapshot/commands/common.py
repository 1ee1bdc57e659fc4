"""What several commands share: finding the repo and a snapshot, describing snapshots."""

from __future__ import annotations

import os
from typing import Any

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import output
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.safety import PRE_RESTORE


def repo_at(cwd: str) -> gitrepo.Repo:
    return gitrepo.find_repo(cwd)


def pick(store: Store, repo: gitrepo.Repo, ref: str) -> Snapshot:
    """A snapshot of this repo by number, or ``latest`` of this worktree.

    ``latest`` passes over the snapshots that restore itself takes: after
    ``restore latest a``, ``restore latest b`` must still mean the snapshot the user chose.
    """
    if ref == "latest":
        mine = store.snapshots(identity.source(store, repo), repo.toplevel)
        if not mine:
            raise UserError("no snapshots of this worktree yet; take one with: git snapshot")
        chosen = [s for s in mine if s.trigger != PRE_RESTORE]
        return (chosen or mine)[-1]
    return store.get(identity.source(store, repo), ref)


def user_path(repo: gitrepo.Repo, cwd: str, path: str) -> bytes:
    """A PATH argument (relative to the current directory, as in git) -> path in the snapshot."""
    full = os.path.abspath(os.path.join(cwd, path))
    top = repo.toplevel
    real = os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))
    for base in (top, os.path.realpath(top)):
        for candidate in (full, real):
            if candidate == base:
                return b""
            if candidate.startswith(base.rstrip("/") + "/"):
                return os.fsencode(candidate[len(base.rstrip("/")) + 1 :])
    raise UserError(f"{path} is outside the worktree {top}")


def as_json(s: Snapshot) -> dict[str, Any]:
    return {
        "id": s.id,
        "created": output.iso(s.created),
        "trigger": s.trigger,
        "message": s.message,
        "worktree": s.worktree,
        "head": s.meta.get("head"),
        "branch": s.meta.get("branch"),
        "files": s.files,
        "bytes": s.bytes,
        "added_bytes": s.added_bytes,
        "skipped": s.skipped,
        "repo": s.source,
    }
