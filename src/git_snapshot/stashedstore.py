"""A missing store looked for in the stash entries of the worktrees around its path: a
plain ``git stash -u`` (``-a``: ignored too) in a worktree that holds the store (the default
store under a dotfiles repository at $HOME) moves every snapshot into its entry with no hook
to see it (red41R2 S1). The store core runs no git: it asks this module, through
``location.before_new_store``, before it makes a store that is not there.
"""

from __future__ import annotations

import os

from git_snapshot.store.location import ENV_STORE
from git_snapshot.store.location import MARKER

STASHES_LOOKED_INTO = 16  # the newest stash entries of each worktree around a missing store


def refuse_if_stashed(path: str) -> None:
    """Refuse to make a store at *path*, which is not there, when a stash entry of a worktree
    around it holds it: a plain ``git stash -u`` (``-a``: ignored too) there, which no hook
    sees, moves the whole store into the entry, and an empty store made in its place makes
    ``git stash pop`` refuse ("already exists"): every snapshot out of reach (red41R2 S1).
    The line says what is known: the entry holds a store there, not that it took the last
    one (a store deleted on purpose after an older one was stashed is refused the same way)."""
    from git_snapshot.errors import UserError

    found = stashed_in(path)
    if found is None:
        return
    here, entry = found
    from git_snapshot.store.core import shell_word

    raise UserError(
        f"the snapshot store {path} is not there, and the stash entry {entry} of the "
        f"worktree {here} holds a store at that place (a git stash -u, or -a, there takes the "
        f"store with every snapshot into its entry); bring it back with: "
        f"git -C {shell_word(here)} stash pop {entry} (until then no store is made in its "
        f"place; to start a new, empty store instead, set {ENV_STORE} to another place)"
    )


def stashed_in(path: str) -> tuple[str, str] | None:
    """(the worktree, ``stash@{N}``) whose stash entry's untracked files hold a store at
    *path* (absolute), looked for in the worktrees around it, innermost first; None for
    none. A few stats up the path for a ``.git``; one git call for each worktree found that
    has stash entries."""
    here = os.path.dirname(path)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            entry = _stash_holding(here, os.path.relpath(path, here))
            if entry is not None:
                return here, entry
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _stash_holding(top: str, rel: str) -> str | None:
    """The stash entry (``stash@{N}``) of the worktree at *top* whose untracked files hold a
    store at *rel*, or None (no stash, no such entry, no git)."""
    dot = os.path.join(top, ".git")
    if os.path.isdir(dot) and not os.path.lexists(os.path.join(dot, "logs", "refs", "stash")):
        return None  # (no stash; a linked worktree's .git is a file: asked of git)
    if "\n" in rel:
        return None  # (git cat-file reads one name a line: such a path cannot be asked)
    from git_snapshot.errors import UserError
    from git_snapshot.gitrun import run_git

    # the path's bytes as they are: a store path need not be UTF-8 (review41 RG)
    asked = b"".join(
        b"stash@{%d}^3:%s/%s\n" % (n, os.fsencode(rel), name.encode())
        for n in range(STASHES_LOOKED_INTO)
        for name in (MARKER, "index.sqlite")
    )
    try:
        out = run_git(top, "cat-file", "--batch-check=%(objecttype)", input=asked, check=False)
    except (OSError, UserError):  # (no git)
        return None
    answers = out.decode("ascii", "replace").splitlines()
    for i, answer in enumerate(answers):
        if answer == "blob":
            return f"stash@{{{i // 2}}}"
    return None
