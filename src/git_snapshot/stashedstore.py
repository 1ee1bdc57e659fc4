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
    from git_snapshot.errors import UserError
    from git_snapshot.gitrun import run_git

    # the path's bytes as they are: a store path need not be UTF-8 (review41 RG); one
    # holding a newline NUL-terminated (-z: git 2.38; one name a line otherwise)
    z = ["-z"] if "\n" in rel else []
    names = [
        b"stash@{%d}^3:%s/%s" % (n, os.fsencode(rel), name.encode())
        for n in range(STASHES_LOOKED_INTO)
        for name in (MARKER, "index.sqlite")
    ]
    try:
        args = ["cat-file", "--batch-check=%(objecttype)", *z]
        end = b"\0" if z else b"\n"
        out = run_git(top, *args, input=b"".join(n + end for n in names), check=False)
    except (OSError, UserError):  # (no git)
        return None
    pos = 0
    for i, name in enumerate(names):
        # "NAME missing" (or ambiguous) repeats the name, a newline in it: past it first
        start = pos + len(name) + 1 if out.startswith(name + b" ", pos) else pos
        eol = out.find(b"\n", start)
        if eol < 0:
            return None
        if start == pos and out[pos:eol] == b"blob":
            return f"stash@{{{i // 2}}}"
        pos = eol + 1
    return None
