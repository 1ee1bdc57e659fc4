"""What log, cat and find share: a worktree's snapshots and PATH arguments inside them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from collections.abc import Sequence

from git_snapshot import output
from git_snapshot.commands.common import Where
from git_snapshot.commands.common import around
from git_snapshot.commands.common import earlier_note
from git_snapshot.commands.common import earlier_snapshots
from git_snapshot.commands.common import elsewhere
from git_snapshot.commands.common import from_here
from git_snapshot.commands.common import own_snapshots
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import user_path
from git_snapshot.errors import UserError
from git_snapshot.snapids import passing_restores
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import CorruptObject

TAKE_ONE = "; take one with: git snapshot"


def worktree_snaps(
    store: Store,
    where: Where,
    rels: Sequence[bytes] = (),
    typed: Sequence[str] = (),
    every: bool = False,
) -> list[Snapshot]:
    """The snapshots of *where*'s worktree, oldest first (its own: not a removed worktree's at
    its path, own_snapshots), or of the whole repository when that worktree has none and is
    not the one the command runs in, or with *every* (--repo: every worktree's, as list and
    find take it; RED36 B-logrepo). When it is and has none, the error names where the
    paths *rels* (as *typed*) are, if a removed worktree's snapshots there hold them."""
    if where.key is None:
        raise UserError(f"no snapshots of this worktree yet{TAKE_ONE}")
    if every:
        return store.snapshots(where.key)
    mine = own_snapshots(store, where)
    if not mine and where.here:
        top = where.worktree
        # (elsewhere, not moved: a worktree moved with `git worktree move` has none, its
        # repository has; RED30)
        note = (around(store, top) or elsewhere(store, top)) if top else ""
        note = note or earlier_holding(store, where, rels, typed) or earlier_note(store, where)
        raise UserError(f"no snapshots of this worktree yet{note or TAKE_ONE}")
    return mine or store.snapshots(where.key)


def earlier_holding(store: Store, where: Where, rels: Sequence[bytes], typed: Sequence[str]) -> str:
    """'; ...' naming the newest snapshot taken at this worktree's path by a worktree since
    removed from it (not this one's: own_snapshots) that holds every one of *rels*, and the
    command that restores them (*typed*) from it here; '' when there is none."""
    if not rels or not where.here:
        return ""
    trees = Trees(store)
    for s in reversed(passing_restores(earlier_snapshots(store, where))):
        try:
            held = all(trees.at(s.root, rel) is not None for rel in rels)
        except CorruptObject:  # (a courtesy: a damaged one is passed over)
            continue
        if held:
            words = output.path_args([os.fsencode(p) for p in typed])  # (-x as ./-x)
            them = "it" if len(rels) == 1 else "them"
            return (
                f"; snapshot {s.id}, taken at this path by a worktree since removed from it "
                f"(not this one's), holds {them}: restore {them} here with: git snapshot "
                f"restore {s.id} {words} --here"
            )
    return ""


def snapshot_path(where: Where, cwd: str, path: str) -> bytes:
    """A PATH argument as a path inside the snapshot: relative to the current directory (as
    in git) in the repository the command runs in; else relative to the worktree's top."""
    if where.here:
        return user_path(repo_at(cwd), cwd, path)
    parts = [p for p in path.encode("utf-8", "surrogateescape").split(b"/") if p not in (b"", b".")]
    if b".." in parts:
        raise UserError(f"{path}: give the path from the top of the worktree, without '..'")
    return b"/".join(parts)


def from_top(word: str, here: bytes, held: Callable[[bytes], bool]) -> str:
    """For a PATH *word* typed in the folder *here* (from the top; b"": the top) that names
    nothing there: when it is a path from the worktree's top (as show and diff print them)
    that *held* finds, the words that say so and give it as typed here (restore, cat and log
    say the same, RED39 C5); else ''."""
    top = os.fsencode(os.path.normpath(word))
    if not here or os.path.isabs(word) or top == b".." or top.startswith(b"../"):
        return ""  # (at the top, a path from the top is the one typed)
    with contextlib.suppress(CorruptObject):  # damage: the command itself says it
        if held(top):
            return (
                " (PATHs are relative to the current directory, as in git); from here, its "
                f"{output.display(top)} is: {output.path_args([from_here(here, top)])}"
            )
    return ""


def in_tree(trees: Trees, root: bytes, rel: bytes) -> bool:
    """Whether the tree *root* holds *rel*; True when a folder on the way is damaged (reading
    it names that damage: the path is not said to be missing)."""
    try:
        return trees.at(root, rel) is not None
    except CorruptObject:
        return True


def reach_options(repo_arg: str | None, remote: str | None) -> str:
    """The --repo and --remote options a command was given, to repeat in a command it names
    (--repo=VALUE: a VALUE starting with '-' is no option); '' when none."""
    return "".join(
        f" {output.option(o, v)}" for o, v in (("--repo", repo_arg), ("--remote", remote)) if v
    )
