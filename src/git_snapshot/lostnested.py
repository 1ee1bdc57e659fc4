"""Submodules and nested repositories in a loss report, split out of losses.py.

A snapshot holds a submodule's checkout (and a nested repository's files) as plain files; git
deletes them whole (`git submodule deinit`, `git rm`, a checkout of a commit without the
submodule). What of them its own repository still gives back is not lost (_nested,
_nested_given_back: its HEAD, its moves since, its index), and a removed checkout of a linked
worktree is told apart from one lost (_removed_worktree_files). nested_repo opens the
repository of a folder, from its .git folder or its gitfile.

Called by losses.find (_nested, imported there: this module imports losses), gitwrote
(nested_repo: what git wrote of a submodule) and guards (nested_repo).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot.losses import CLOCK_STEP_SLACK_S
from git_snapshot.losses import _git_mode
from git_snapshot.losses import git_blob_id
from git_snapshot.losses import gives_back
from git_snapshot.losses import head_moves
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry


def _nested(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    items: Sequence[tuple[bytes, Entry, str]],
    filtered: set[bytes] | None = None,
) -> tuple[set[bytes], set[bytes]]:
    """Of the lost *items*, those inside a repository nested in the worktree (a submodule)
    whose versions that repository can give back (its HEAD's or index's bytes and mode, and
    the ``.git`` file naming it, which ``git submodule update`` writes again while the
    gitlink is in the index), and those it
    tracks: the worktree's own git sees neither (``submodule deinit -f`` was reported as
    destroying every file of the submodule, each called untracked: RED30). A linked
    worktree's ``.git`` file is no such: nothing but it makes the folder a worktree again.
    A linked worktree of this repository that git removed (_removed_worktree) is its own.
    A submodule whose checkout git will not write again (_checkout_gone) is named whole, but
    only when something below it is the user's alone: a clean one it removed is git's.
    Its versions are compared as its git writes them (_nested_given_back: its eol or filter);
    what it has only as they write it goes into *filtered*, when given."""
    top = os.fsencode(repo.toplevel)
    roots: dict[bytes, str] = {}  # the nested worktree's folder -> its git dir
    given: set[bytes] = set()
    for path, e, _ in items:  # a .git file gone with the rest (deinit, rm -rf)
        folder, _, name = path.rpartition(b"/")
        if name == b".git" and folder and e.kind == FILE:
            text = b"".join(store.stream_blob(e.ref))
            git_dir = _gitfile_dir(top + b"/" + folder, text)
            if git_dir is not None:
                roots[folder] = git_dir
            elif _removed_worktree(repo, top + b"/" + folder, text):
                given |= _removed_worktree_files(store, repo, snap, folder, items)
    seen: set[bytes] = set(roots)
    for path, _, _ in items:  # or still there: the files below it went (update --force)
        folder = path.rpartition(b"/")[0]
        while folder and folder not in seen:
            seen.add(folder)
            git_dir = _git_dir_on_disk(top + b"/" + folder)
            if git_dir is not None:
                roots[folder] = git_dir
            folder = folder.rpartition(b"/")[0]
    tracked: set[bytes] = set()
    held_by: dict[bytes, set[bytes]] = {}  # root -> its lost files it holds as they were
    for folder, git_dir in roots.items():
        from git_snapshot import gitextra

        versions = gitextra.nested_versions(git_dir, _nested_moves(repo, snap, folder, git_dir))
        cut = len(folder) + 1
        inside: dict[bytes, Entry] = {}  # (its path there -> the lost file's entry)
        for path, e, _ in items:
            if path.startswith(folder + b"/") and e.kind != DIR and versions.get(path[cut:]):
                tracked.add(path)
                inside[path[cut:]] = e
        back = _nested_given_back(store, top, folder, git_dir, inside, versions, snap, filtered)
        held_by[folder] = {folder + b"/" + p for p in back}
    lost = {path for path, _, _ in items}
    gitfiles = {folder + b"/.git" for folder in roots}
    held_all = set().union(*held_by.values())
    for folder, git_dir in roots.items():
        # something below only the snapshot holds (an edit, an untracked file): then, with
        # the checkout gone for good, it is named whole, else git gives it all back
        own = any(
            p.startswith(folder + b"/") and p not in held_all and p not in gitfiles for p in lost
        )
        if own and _checkout_gone(repo, folder, git_dir, lost):
            continue
        given |= held_by[folder]
        if not os.path.isfile(os.path.join(git_dir, "commondir")):
            given.add(folder + b"/.git")  # not a linked worktree's
    return given, tracked


def _nested_given_back(
    store: Store,
    top: bytes,
    folder: bytes,
    git_dir: str,
    lost: Mapping[bytes, Entry],
    versions: Mapping[bytes, set[tuple[str, int]]],
    snap: Snapshot,
    filtered: set[bytes] | None,
) -> set[bytes]:
    """Of *lost* (path inside the repository nested at *folder*, whose git dir is *git_dir*
    -> *snap*'s entry there), those whose version (*versions*: the (id, mode) pairs that
    repository has there) its git writes back byte for byte: gives_back, asked of that
    repository where its checkout is there (its attributes and config are read from it),
    else the raw match alone. The raw match alone was wrong both ways under the submodule's
    `*.txt text eol=crlf` (review RQ43, session 43): a clean submodule that a recursing
    checkout moved between commits was "1 file with uncommitted edits" (the CRLF bytes git
    wrote are no blob), and LF bytes a tool wrote (its blob byte for byte), which `submodule
    update --force` wrote back CRLF, were given back. *filtered* gets (from the worktree's
    top) the paths it has only as its eol or filter writes them."""
    known = {p: {oid for oid, _ in versions[p]} for p in lost}
    ids: dict[bytes, str] | None = None
    nested = nested_repo(top, folder, git_dir)
    if nested is not None:
        from git_snapshot.gitrun import GitError

        inner: set[bytes] = set()
        with contextlib.suppress(GitError, OSError):  # (git cannot be asked there: raw match)
            ids = gives_back(store, nested, lost.items(), known, snap.created, inner)
            if filtered is not None:
                filtered.update(folder + b"/" + p for p in inner)
    if ids is None:
        ids = {p: oid for p, e in lost.items() if (oid := git_blob_id(store, e)) in known[p]}
    return {p for p, oid in ids.items() if (oid, _git_mode(lost[p])) in versions[p]}


def nested_repo(top: bytes, folder: bytes, git_dir: str | None = None) -> gitrepo.Repo | None:
    """The repository nested in the worktree *top* at *folder* (a submodule), whose git dir is
    *git_dir* (None: the one its ``.git`` names), as a Repo to ask its git about its
    checkout (its attributes and config are read there); None where its checkout is gone."""
    where = os.path.realpath(os.path.join(top, folder))
    if git_dir is None:
        git_dir = _git_dir_on_disk(top + b"/" + folder)
    if git_dir is None or not os.path.isdir(where):
        return None
    common = git_dir
    try:  # (a linked worktree's: its commondir names the repository)
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as f:
            common = os.path.realpath(os.path.join(git_dir, f.read().strip()))
    except (OSError, UnicodeDecodeError):
        pass
    return gitrepo.Repo(os.fsdecode(where), git_dir, common)


NESTED_MOVES_AT_MOST = 6  # a submodule's commits read (an ls-tree of its whole tree each)


def _nested_moves(repo: gitrepo.Repo, snap: Snapshot, folder: bytes, git_dir: str) -> list[str]:
    """The commits the submodule at *folder* was moved between since *snap* was taken: those
    its HEAD left or reached (its reflog: `checkout --recurse-submodules`, `submodule update
    --force`), and the one the superproject's HEAD of then named (its gitlink). Their files
    are git's to give back, not uncommitted edits: moving a clean submodule from s1 to s2
    named every file that differs, and a later checkout that did not touch it was blamed
    again for what `update --force` wrote (RED39 B4)."""
    moves = head_moves(git_dir, snap.created - CLOCK_STEP_SLACK_S)[:NESTED_MOVES_AT_MOST]
    head = snap.meta.get("head")
    if isinstance(head, str) and gitrepo.is_oid(head):
        from git_snapshot import gitextra

        # (check=False: that commit may be gone since, amended away and pruned)
        for path, mode, _, oid in gitextra.ls_tree(repo, head, [os.fsdecode(folder)], False):
            if path == folder and mode == gitrepo.MODE_GITLINK and oid not in moves:
                moves.append(oid)
    return moves


def _checkout_gone(repo: gitrepo.Repo, folder: bytes, git_dir: str, lost: set[bytes]) -> bool:
    """Whether the submodule checkout at *folder* went with its ``.git`` file, and git will
    not write it again: `git rm -f sub` takes the gitlink from the index, so `git submodule
    update` has nothing to check out there. Then only the snapshot gives the checkout back,
    whole: the ``.git`` file and its unchanged files too. Without them `undo` left a plain
    folder, over which `submodule update` later checked out without a word, and the edit
    `undo` had brought back was gone again (RED39 B2)."""
    if folder + b"/.git" not in lost or os.path.isfile(os.path.join(git_dir, "commondir")):
        return False
    from git_snapshot import gitextra

    return not gitextra.gitlink_in_index(repo, folder)


def _removed_worktree(repo: gitrepo.Repo, folder: bytes, text: bytes) -> bool:
    """Whether the ``.git`` file *text* of *folder* named a linked worktree of this repository
    whose gitdir is gone: git removed that worktree (``git worktree remove``, or ``prune``
    after it was deleted). Written back, it would name a gitdir that no longer exists: every
    git command there fails (RED32)."""
    target = _gitfile_target(folder, text)
    if target is None or os.path.lexists(target):
        return False
    admin = os.path.join(os.path.realpath(repo.common_dir), "worktrees")
    return os.path.dirname(os.fsdecode(target)) == admin


def _removed_worktree_files(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    folder: bytes,
    items: Sequence[tuple[bytes, Entry, str]],
) -> set[bytes]:
    """The lost *items* at and below removed linked worktree *folder* that this report leaves
    out: its ``.git`` file always (_removed_worktree); the rest when the removal was named
    already, from the worktree's own snapshot (``git snapshot run -- git worktree remove``
    snapshots it and logs a line for it before this check: it named them twice, the second
    time as this worktree's "ignored files")."""
    from git_snapshot.lossrecord import _when
    from git_snapshot.lossrecord import history

    out = {folder + b"/.git"}
    where = os.path.realpath(os.path.join(repo.toplevel, os.fsdecode(folder)))
    for entry in reversed(history(store, repo)):
        if _when(entry) < snap.created:
            break
        if not isinstance(entry.get("to"), str):
            continue
        if os.path.realpath(entry["to"]) == where and any(
            x.get("kind") == "worktree" for x in entry.get("lost", ())
        ):
            out |= {p for p, _, _ in items if p.startswith(folder + b"/")}
            break
    return out


def _git_dir_on_disk(folder: bytes) -> str | None:
    """The git dir of a repository whose worktree is *folder* (its ``.git``: a folder, or a
    file naming one), else None."""
    dot = folder + b"/.git"
    if os.path.isdir(dot):
        return _gitfile_dir(folder, b"gitdir: .git")
    try:
        with open(dot, "rb") as f:
            return _gitfile_dir(folder, f.read(4096))
    except OSError:
        return None


def _gitfile_target(folder: bytes, text: bytes) -> bytes | None:
    """The real path a ``.git`` file in *folder* names (``gitdir: PATH``, relative to the
    folder or absolute), there or not; None when *text* is no such file."""
    if not text.startswith(b"gitdir: "):
        return None
    return os.path.realpath(os.path.join(folder, text[len(b"gitdir: ") :].rstrip(b"\r\n")))


def _gitfile_dir(folder: bytes, text: bytes) -> str | None:
    """The git dir a ``.git`` file in *folder* names, when it is a directory git can read;
    else None."""
    real = _gitfile_target(folder, text)
    if real is None:
        return None
    return os.fsdecode(real) if os.path.isfile(os.path.join(real, b"HEAD")) else None
