"""What we know of the pre-commit framework: its variables, its patch of unstaged edits.

A hook run by pre-commit gets no argv: git's arguments come in ``PRE_COMMIT_*`` variables.
Before every hook pre-commit takes the unstaged edits to tracked files out of the worktree
(a patch in its store, then ``git checkout -- .``, which fires a post-checkout of its own with
``_PRE_COMMIT_SKIP_POST_CHECKOUT`` set) and puts them back afterwards.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Mapping

_PATCH_NAME = r"patch(\d+)-(\d+)\Z"  # compiled on first use (re's cache): not in every hook


CONFIG = ".pre-commit-config.yaml"  # the configuration pre-commit's hook script reads


def config_has(root: str, name: str) -> bool:
    """Whether the worktree at *root*'s pre-commit configuration names our hook id for the
    hook *name* (``snapshot-NAME``); read as bytes (any encoding), its first MiB."""
    try:
        with open(os.path.join(root, CONFIG), "rb") as f:
            return f"snapshot-{name}".encode() in f.read(1 << 20)
    except OSError:
        return False


def active(env: Mapping[str, str]) -> bool:
    """Whether this hook runs under pre-commit."""
    return env.get("PRE_COMMIT") == "1"


def own_checkout(env: Mapping[str, str]) -> bool:
    """pre-commit's own ``git checkout -- .`` (the user's edits are hidden right now)."""
    return bool(env.get("_PRE_COMMIT_SKIP_POST_CHECKOUT"))


def hook_argv(name: str, env: Mapping[str, str]) -> list[str]:
    """The arguments git gave the hook, as pre-commit passes them on in variables."""
    if name == "post-checkout":
        return [
            env.get("PRE_COMMIT_FROM_REF", ""),
            env.get("PRE_COMMIT_TO_REF", ""),
            env.get("PRE_COMMIT_CHECKOUT_TYPE", "1"),
        ]
    if name == "post-rewrite":
        return [env["PRE_COMMIT_REWRITE_COMMAND"]] if env.get("PRE_COMMIT_REWRITE_COMMAND") else []
    if name == "post-merge":
        squash = env.get("PRE_COMMIT_IS_SQUASH_MERGE")
        return [squash] if squash else []
    if name == "pre-rebase":
        # set only when git gave both arguments: the one-argument upstream is lost
        up, branch = (
            env.get("PRE_COMMIT_PRE_REBASE_UPSTREAM"),
            env.get("PRE_COMMIT_PRE_REBASE_BRANCH"),
        )
        return [up, branch] if up and branch else []
    return []


def patch_dir() -> str:
    """pre-commit's store directory, where it saves the patch of unstaged edits."""
    base = os.environ.get("PRE_COMMIT_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pre-commit"
    )
    return os.path.realpath(base)


def patch() -> str | None:
    """The patch file holding the unstaged edits that the running pre-commit process took out
    of the worktree, or None (not under pre-commit, or nothing was stashed).

    pre-commit names it ``patch{int(time)}-{pid}`` after its own pid; the hook is its child,
    or a further descendant, so the patch is the newest one named after an ancestor and made
    after that ancestor started. Without /proc (only the parent is known), a patch of the last
    minute whose process is still running is accepted as a fallback: a finished pre-commit has
    already put its patch back.
    """
    if not active(os.environ):
        return None
    where = patch_dir()
    try:
        names = os.listdir(where)
    except OSError:
        return None
    import re

    by_pid: dict[int, list[tuple[int, str]]] = {}
    for name in names:
        m = re.match(_PATCH_NAME, name)
        if m:
            by_pid.setdefault(int(m.group(2)), []).append((int(m.group(1)), name))
    if not by_pid:
        return None
    from git_snapshot import proc  # under pre-commit only: off the usual hook's imports

    chain, complete = proc.ancestors()
    for p in chain:
        cands = [c for c in by_pid.get(p.pid, []) if c[0] >= int(p.started) - 1]
        if cands:
            return os.path.join(where, max(cands)[1])
    if complete:
        return None
    now = time.time()
    recent = [
        (t, name)
        for pid, items in by_pid.items()
        for t, name in items
        if t >= now - 60 and proc.alive(pid)
    ]
    return os.path.join(where, max(recent)[1]) if recent else None
