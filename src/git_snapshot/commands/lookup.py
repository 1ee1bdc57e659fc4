"""What log, cat and find share: a worktree's snapshots and PATH arguments inside them."""

from __future__ import annotations

import os

from git_snapshot import output
from git_snapshot.commands.common import Where
from git_snapshot.commands.common import around
from git_snapshot.commands.common import elsewhere
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import user_path
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store

TAKE_ONE = "; take one with: git snapshot"


def worktree_snaps(store: Store, where: Where) -> list[Snapshot]:
    """The snapshots of *where*'s worktree, oldest first (of the whole repository when that
    worktree has none and is not the one the command runs in)."""
    if where.key is None:
        raise UserError(f"no snapshots of this worktree yet{TAKE_ONE}")
    mine = store.snapshots(where.key, where.worktree) if where.worktree else []
    if not mine and where.here:
        top = where.worktree
        # (elsewhere, not moved: a worktree moved with `git worktree move` has none, its
        # repository has; RED30)
        note = (around(store, top) or elsewhere(store, top)) if top else ""
        raise UserError(f"no snapshots of this worktree yet{note or TAKE_ONE}")
    return mine or store.snapshots(where.key)


def snapshot_path(where: Where, cwd: str, path: str) -> bytes:
    """A PATH argument as a path inside the snapshot: relative to the current directory (as
    in git) in the repository the command runs in; else relative to the worktree's top."""
    if where.here:
        return user_path(repo_at(cwd), cwd, path)
    parts = [p for p in path.encode("utf-8", "surrogateescape").split(b"/") if p not in (b"", b".")]
    if b".." in parts:
        raise UserError(f"{path}: give the path from the top of the worktree, without '..'")
    return b"/".join(parts)


def reach_options(repo_arg: str | None, remote: str | None) -> str:
    """The --repo and --remote options a command was given, to repeat in a command it names
    (--repo=VALUE: a VALUE starting with '-' is no option); '' when none."""
    return "".join(
        f" {o}={output.shell_quote(os.fsencode(v))}"
        for o, v in (("--repo", repo_arg), ("--remote", remote))
        if v
    )
