"""What git's own autostash destroyed, and what it gave back.

git's autostash (rebase/merge/pull --autostash) stashes the user's edits, runs `reset --hard`
and applies them after: the reset deletes a folder the user made where the commit has a file
(RED40 F1), and a clean filter's dropped bytes are in neither the stash nor the worktree after
(red41R1). Holds:

- _autostash_losses: that check at pre-rebase and post-merge (hooks.AUTOSTASH_CHECKS), called
  by hooks._handle;
- stopped_stash_wrote: the same rule for a merge stopped by a conflict (stopped.py);
- stash_gave_back: which of a stopped operation's losses git's autostash gave back when it
  ended (stopped.py, commands/run.py).

Imported by those callers when they need it, never by hooks.py at import (every git command
imports hooks.py).
"""

from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot.ctx import suppress
from git_snapshot.findlosses import _before
from git_snapshot.findlosses import _git_began
from git_snapshot.findlosses import _in_flight
from git_snapshot.gitwrote import _diff
from git_snapshot.gitwrote import _exact
from git_snapshot.gitwrote import _overwritten
from git_snapshot.gitwrote import _written_during
from git_snapshot.gitwrote import _written_limit
from git_snapshot.hooks import Call
from git_snapshot.hooks import Context
from git_snapshot.lostfrom import _unsaved

TYPE_CHECKING = False  # not typing's: typing is not imported on the hook path
if TYPE_CHECKING:
    from collections.abc import Collection
    from collections.abc import Mapping
    from collections.abc import Sequence

    from git_snapshot import losses
    from git_snapshot import lossreport
    from git_snapshot.store import Result
    from git_snapshot.store import Snapshot
    from git_snapshot.store import Store


def stash_gave_back(
    store: Store,
    repo: gitrepo.Repo,
    stash: str,
    paths: list[bytes],
    changes: tuple[list[tuple[bytes, int, str]], set[bytes]] | None = None,
) -> set[bytes]:
    """Those of *paths* (what a stopped operation's check finds lost: stopped._report) whose
    version its snapshot took from git's autostash *stash* (hooks._noted_stash), and that git gave
    back when the operation ended: the entry is in the stash list (its apply conflicted, or
    `rebase --quit`), or the file on disk is the one git's apply writes, merged with what the
    operation wrote (gitoverlay.given_back), as post-rewrite's overlay has it (lostfrom._lost_from).
    A rebase that fast-forwards runs no post-rewrite: its note is checked after the apply
    (RED41 R1 F3: the edit on the old base was named, and undo reverted the upstream change).
    One git did not give back stays named: the rebase's state folder removed by hand (the
    autostash in it never applied), or the file edited since. A stash gone (pruned): none.
    *changes*: the caller's gitoverlay.stash_changes of *stash* (one diff-tree per stash)."""
    from git_snapshot import gitoverlay
    from git_snapshot import worktree

    if changes is None:
        changes = gitoverlay.stash_changes(repo, stash)
    blobs, deleted = changes
    stashed = {p for p, _, _ in blobs} | deleted
    asked = [p for p in paths if p in stashed]
    if not asked:
        return set()
    if stash in worktree.stash_ids(repo):
        return set(asked)
    with store.scratch() as tmp:
        return gitoverlay.given_back(repo, stash, asked, tmp, changes)


def _autostash_losses(
    store: Store,
    repo: gitrepo.Repo,
    call: Call,
    ctx: Context,
    started: float,
    res: Result,
    overlay: gitrepo.Overlay | None,
    named: Sequence[lossreport.Report] = (),
) -> list[lossreport.Report]:
    """What git's autostash destroyed (RED40 F1): before pre-rebase ran, or in a merge (seen at
    post-merge; *named*: its reports already made). Its stash records no change at a tracked
    file the user replaced with a folder (git 2.39 keeps the file in the stash's tree), and
    its `reset --hard` writes the file back, deleting the folder with the untracked files in
    it: nothing hides them, and a merge's loss check looks only where the commits differ.
    Each path where the snapshot before the command holds a folder, *res* (this hook's) a
    file that git wrote since the command began, is compared below it: what is gone is named
    from that snapshot, hedged unless a pre-hook of this command took it (_exact). A file
    the user put back before is older than the command, and one the autostash holds a
    version of (*overlay*) was a file when git stashed, not a folder: neither is named. A
    left-out file in such a folder is named "not saved" (_unsaved; losses.find leaves the
    folder, held empty, to that line: review RN42). A snapshot in flight while git ran
    (findlosses._in_flight: the watcher's, committed in the tick git began in, is not the
    snapshot before, _in_gits_tick) that holds such a folder read it before git wrote: what
    it holds there is named from it, hedged, unless the snapshot before holds the same (s53:
    the earlier snapshot's older version was named, or nothing, when only it held them)."""
    later: list[Snapshot] = []
    began = _git_began(repo, call, ctx, res, started)
    before = _before(store, repo, call, started, later, began)
    flight = [s for s in _in_flight(later, res, started) if s.root != res.snapshot.root]
    if (before is None or before.root == res.snapshot.root) and not flight:
        return []
    held = overlay.files if overlay is not None else frozenset()
    out: list[tuple[Snapshot, bool, list[losses.Loss], list[tuple[bytes, str]]]] = []
    said = {x.path for r in named for x in r.losses}
    damaged_flight = False
    if flight:
        from git_snapshot.store.objects import CorruptObject
    for snap in flight:  # (newest first)
        try:
            over = _files_over_folders(store, snap.root, res.snapshot.root)
            written = _stash_wrote(repo, over, held, ctx.started, res.ids) if over else []
            found = _found(store, repo, snap, written, said, before)
        except CorruptObject:
            # (one damaged object of it stops not the check: RED34 D2; what the snapshot
            # before holds is named, hedged: the newer copy may have been in this one)
            damaged_flight = True
            continue
        if found:
            said.update(x.path for x in found)
            out.append((snap, False, found, []))
    if before is not None and before.root != res.snapshot.root:
        over = _files_over_folders(store, before.root, res.snapshot.root)
        written = _stash_wrote(repo, over, held, ctx.started, res.ids)
        dropped = _stash_dropped(store, repo, before, res, ctx) if call.name == "pre-rebase" else []
        if written or dropped:
            from git_snapshot import losses

            unread: dict[bytes, str] = {}
            found = [
                x
                for x in losses.find(store, repo, before, written, (), unread)
                if x.path not in said
            ]
            found += [x for x in dropped if x.path not in said]
            damaged = losses.not_compared(before.id, unread)
            # and the left-out files the folder held: find leaves the folder (held empty) to
            # these (review RN42: named by nothing)
            told = {p for r in named for p, _ in r.unsaved}
            damaged += [x for x in _unsaved(repo, before, set(written), None) if x[0] not in told]
            if found or damaged:
                exact = not damaged_flight and _exact(store, repo, before, ctx)
                out.append((before, exact, found, damaged))
    if not out:
        return []
    from git_snapshot import lossreport

    # (one command's reports: undo takes them all)
    when = named[0].when if named else time.time() if len(out) > 1 else None
    return [
        lossreport.report_of(store, repo, ctx.command, snap, exact, found, damaged, when=when)
        for snap, exact, found, damaged in out
    ]


def _found(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    written: list[bytes],
    said: Collection[bytes],
    before: Snapshot | None,
) -> list[losses.Loss]:
    """For _autostash_losses: what snapshot *snap* (in flight) holds below *written* (folders
    git's autostash wrote a file over) that is lost, less what a report names already
    (*said*) and what *before* holds as it does (named from *before*)."""
    if not written:
        return []
    from git_snapshot import losses
    from git_snapshot.lostfrom import _differs
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import CorruptObject

    found = [x for x in losses.find(store, repo, snap, written) if x.path not in said]
    if before is None or not found:
        return found
    trees = Trees(store)
    out = []
    for x in found:
        try:
            was, e = trees.at(before.root, x.path), trees.at(snap.root, x.path)
        except CorruptObject:
            was = e = None
        if was is None or e is None or _differs(was, e):
            out.append(x)
    return out


def _stash_dropped(
    store: Store, repo: gitrepo.Repo, before: Snapshot, res: Result, ctx: Context
) -> list[losses.Loss]:
    """What git's autostash dropped of files *before* holds: bytes a clean filter drops
    (SECRET lines, nbstripout's outputs) are neither in the autostash (it stores the file as
    the filter cleans it: often HEAD's very blob) nor written back by the `reset --hard` that
    follows, which ran before pre-rebase (red41R1 finding 1, the mode fixD left). The files
    *before* holds otherwise than *res* (this hook's snapshot, the autostash applied) that
    git wrote since the command began, compared by losses.find: only those it names as
    FILTERED (git has what *before*'s bytes clean to, and writes other bytes) and whose
    bytes clean to the autostash's own version of the file are said. A file edited since
    *before* (the user removed the SECRET line himself) cleans to another version than the
    autostash's, which holds his edit whole: not named (review RL42). A tree diff of the two
    snapshots; git only where a file was written since the command began."""
    limit = _written_limit(repo, ctx.started)
    if limit is None:
        return []
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import FILE
    from git_snapshot.store.objects import CorruptObject

    trees = Trees(store)
    asked = []
    for p in _overwritten(store, before.root, res.snapshot.root):
        try:
            e = trees.at(res.snapshot.root, p)
        except CorruptObject:
            continue
        if e is not None and e.kind == FILE and e.mtime_ns >= limit:
            asked.append(p)
    if not asked:
        return []
    stash = gitrepo.autostash_commit(repo)
    if stash is None:
        return []
    from git_snapshot import gitextra
    from git_snapshot import losses

    found = [
        x for x in losses.find(store, repo, before, asked, [stash]) if x.status == losses.FILTERED
    ]
    if not found:
        return []
    data: dict[bytes, bytes] = {}  # *before*'s bytes, to clean as the autostash stores them
    for x in found:
        try:
            e = trees.at(before.root, x.path)
            if e is not None and e.kind == FILE and e.size <= losses.CONVERTED_AT_MOST:
                data[x.path] = b"".join(store.stream_blob(e.ref)) if e.size else b""
        except CorruptObject:
            continue
    ids = gitextra.clean_ids(repo, data.items())
    stashed = gitextra.tree_entries(repo, stash, list(ids))
    return [x for x in found if x.path in ids and stashed.get(x.path, (0, ""))[1] == ids[x.path]]


def _stash_wrote(
    repo: gitrepo.Repo,
    over: list[bytes],
    held: Collection[bytes],
    since: float | None,
    ids: Mapping[bytes, tuple[int, int, int, int, str, int]] | None = None,
    tree: str | None = None,
) -> list[bytes]:
    """RED40 F1's rule: those of *over* (paths where the snapshot before the command holds a
    folder, and a file stands now) where git's autostash wrote the file, deleting the folder:
    written since the command began (*since*; *ids*, *tree*: as _written_during's). One the
    autostash holds a version of (*held*) was the user's own file when git stashed, not a
    folder (review40 RF3): left out."""
    over = [p for p in over if p not in held]
    return _written_during(repo, over, since, ids, tree=tree) if over else []


def stopped_stash_wrote(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    orig: str,
    since: float,
    after: bytes | None = None,
) -> list[bytes]:
    """What git's autostash wrote over a folder in a merge (or merging pull) that stopped on
    a conflict (stopped.py reports it; no post-merge ran to ask _autostash_losses): the paths
    where *snap*, taken right before the merge, holds a folder and *orig* (HEAD then) a file
    (with *after*, a hook's snapshot's tree just taken: where that holds a file, which spares
    reading every folder of *snap*), and where _stash_wrote finds *orig*'s version (the one
    the stash's `reset --hard` writes) written since the merge began (*since*). While the
    merge is still stopped, a file written after MERGE_HEAD (the merge's last write) is a
    later command's, its own check's to name. A path a pending or stored autostash holds a
    version of is left out (its `git stash apply` gives the user's file back), and a file
    that apply wrote at `merge --abort`, or at the commit that ends the merge, is the user's,
    not *orig*'s: not named either."""
    if after is not None:
        over = _files_over_folders(store, snap.root, after)
    else:
        over = _folders_at_files(store, repo, snap.root, orig)
    if not over:
        return []
    held: set[bytes] = set()
    for stash in (gitrepo.autostash_commit(repo), gitrepo.autostash_stored(repo)):
        if stash:
            with suppress(Exception):  # (pruned: nothing it holds)
                held.update(gitrepo.changed_paths(repo, f"{stash}^1", stash))
    written = _stash_wrote(repo, over, held, since, None, orig)
    try:
        ended = os.stat(os.path.join(repo.git_dir, "MERGE_HEAD")).st_mtime_ns
    except OSError:
        return written  # (the merge is over: every such file is named as its loss)
    top = os.fsencode(repo.toplevel)
    kept = []
    for p in written:  # (one clock, the file system's: no tick of /proc's to mix in)
        with suppress(OSError):
            if os.lstat(os.path.join(top, p)).st_mtime_ns <= ended:
                kept.append(p)
    return kept


def _folders_at_files(store: Store, repo: gitrepo.Repo, root: bytes, commit: str) -> list[bytes]:
    """The paths where store tree *root* holds a folder and *commit* a file or a link (not a
    gitlink: a submodule's folder): one `ls-tree` of *commit*'s folders, and *root* read
    only where they are."""
    from git_snapshot.gitrun import run_git
    from git_snapshot.store.objects import DIR

    out = run_git(repo.toplevel, "ls-tree", "-r", "-d", "-z", "--name-only", "--full-tree", commit)
    folders = {p for p in out.split(b"\0") if p}
    others: list[bytes] = []  # folders of *root* that are none of *commit*'s
    todo = [(root, b"")]
    while todo:
        tree, prefix = todo.pop()
        for e in store.read_tree(tree):
            if e.kind != DIR:
                continue
            path = prefix + e.name
            if path in folders:
                todo.append((e.ref, path + b"/"))
            else:
                others.append(path)
    if not others:
        return []
    got = gitrepo.tree_entries(repo, commit, others)
    return sorted(p for p, (mode, _) in got.items() if mode != gitrepo.MODE_GITLINK)


def _files_over_folders(store: Store, before: bytes, after: bytes) -> list[bytes]:
    """The paths where tree *before* holds a folder and tree *after* a file or a link
    (diff_trees gives such a path twice: the folder deleted, with all below it, and the
    file added)."""
    from git_snapshot.store.diff import ADDED
    from git_snapshot.store.diff import DELETED
    from git_snapshot.store.objects import DIR

    changes = _diff(store, before, after)
    folders = {c.path for c in changes if c.status == DELETED and c.old and c.old.kind == DIR}
    return sorted(
        c.path
        for c in changes
        if c.status == ADDED and c.new and c.new.kind != DIR and c.path in folders
    )
