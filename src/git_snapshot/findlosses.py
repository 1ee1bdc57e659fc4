"""What the git command a post-hook runs for destroyed: find_losses, and its filters.

Holds the choice of the snapshot before the command (_before, _git_began; the watcher's
prepared tree committed as one, _prepared_before), find_losses itself, and what it adds or
takes from each snapshot's losses: snapshots in flight while git wrote (_in_flight,
_from_flight, _read_as_written), stash entries a checkout dropped (_unstashed), files gone
not by the checkout (_gone_not_by_it), and a rebase's losses named already (_not_named_since).
What one snapshot holds that the worktree lost is lostfrom._lost_from's.

Called by hooks._handle and hooks._losses_anyway (find_losses, _prepared_before) and by
autostash (_before, _git_began); imported there, when a post-hook checks, never by hooks.py
at import (every git command imports hooks.py).
"""

from __future__ import annotations

import os
import time

from git_snapshot import gitrepo
from git_snapshot.gitwrote import _changed
from git_snapshot.gitwrote import _diff
from git_snapshot.gitwrote import _exact
from git_snapshot.gitwrote import _moved
from git_snapshot.gitwrote import _Op
from git_snapshot.gitwrote import _written_limit
from git_snapshot.hooks import HOOKS
from git_snapshot.hooks import NULL
from git_snapshot.hooks import Call
from git_snapshot.hooks import Context
from git_snapshot.hooks import head_steps
from git_snapshot.hooks import step_paths
from git_snapshot.lostfrom import _above
from git_snapshot.lostfrom import _differs
from git_snapshot.lostfrom import _lost_from
from git_snapshot.lostfrom import _meta_value
from git_snapshot.lostfrom import _revs
from git_snapshot.store.retention import WATCH

TYPE_CHECKING = False  # not typing's: typing is not imported on the hook path
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Mapping
    from typing import Any

    from git_snapshot import losses
    from git_snapshot import lossreport
    from git_snapshot import restored
    from git_snapshot.store import Result
    from git_snapshot.store import Snapshot
    from git_snapshot.store import Store
    from git_snapshot.store.diff import Change
    from git_snapshot.store.objects import Entry

    # what each snapshot a report names holds of the losses: (it, (lost, unsaved))
    _Found = list[tuple[Snapshot, tuple[list[losses.Loss], list[tuple[bytes, str]]]]]

_BEFORE_ROWS = 8  # _before's first question: the newest rows of the worktree


def _before(
    store: Store,
    repo: gitrepo.Repo,
    call: Call,
    started: float,
    later: list[Snapshot] | None = None,
    began: Callable[[Snapshot], tuple[float, float | None] | None] | None = None,
) -> Snapshot | None:
    """The latest snapshot of this worktree taken before the operation changed it: committed
    before this hook began (*started*) and, when *began* gives when the git command began
    (asked of the newest such snapshot; None: not asked; with the start of the clock tick
    it began in, when known), before that or by a pre-hook of it (_pre_hook), and not the
    watcher's in that tick (_in_gits_tick). Into *later*, those committed after it (from
    *began*'s time on), newest first: the snapshots in flight (_in_flight) are among them."""
    from git_snapshot import identity

    source = identity.source(store, repo)
    # another worktree's said taken at this path (one removed there, or moved out and in:
    # RED33 A4, V1) is not what this one held: identity.owns
    own = identity.owner(repo)
    # the newest few first (each row a worktree keeps, ~300 in 14 days, costs every hook):
    # all of them only when none of those is the one
    last: int | None = _BEFORE_ROWS
    orig = None
    cut: float | None = None
    tick: float | None = None
    while True:
        got = store.snapshots(source, repo.toplevel, last=last)
        mine = [s for s in got if s.created < started and own(s)]
        if mine and began is not None and cut is None:
            cut, tick = began(mine[-1]) or (None, None)
            began = None  # (asked once)
        if call.name == "post-merge":
            # pre-merge-commit runs after the merge has written the worktree: its snapshot
            # (HEAD was still ORIG_HEAD then) already holds the result, not what the merge
            # destroyed
            if orig is None:
                orig = gitrepo.rev(repo, "ORIG_HEAD")
            while mine and mine[-1].trigger == "pre-merge-commit":
                if mine[-1].meta.get("head") != orig:
                    break
                mine.pop()
        kept = mine
        if cut is not None:
            # committed while the git command ran, its walk may have read a file after git
            # wrote it: git's version, not the user's (RED35 H1: compared with it, the file
            # looked unchanged, and no report named it)
            kept = [
                s for s in mine if (s.created < cut and not _in_gits_tick(s, tick)) or _pre_hook(s)
            ]
        if kept or last is None or len(got) < last:
            break
        last = None
    # none committed before the command began: the newest before the hook, as ever (one
    # committed a tick before it began can read as after: /proc's start is in ticks)
    found = kept[-1] if kept else mine[-1] if mine else None
    if later is not None:
        since = started if cut is None else cut
        later += [
            s
            for s in reversed(got)
            if own(s)
            and (s.created > found.created if found is not None else s.created >= since)
            and (s.trigger != "pre-merge-commit" or call.name != "post-merge")
        ]
    return found


def _prepared_before(store: Store, repo: gitrepo.Repo, call: Call, ctx: Context) -> None:
    """The watcher's newest prepared tree recorded before the git command began, committed
    as a snapshot (watch/prep.commit_logged) when it holds another version than the
    worktree's last snapshot of a path the checkout wrote (RED44 F6), or a file there that
    snapshot lacks (a new ignored .env written 0.5 s before `git switch B`, wt48/bd48): a
    file written less than snapshot.watchQuiet before the switch was in no snapshot, and
    nothing named it. Committed before this hook's own, it is the snapshot before
    (_before: taken before the command began), its version is named. Only a tree built on
    the last snapshot (every version in it was on disk after that one, before git began: the
    log's ``done``, against the tick git's process started in) and recorded before git
    began, and only when nothing it changed or added, nor anything git wrote, was changed
    after it before git began (prep.changed_since: a file the user deleted or set back
    since was named from it). Before git began: marked before git took its index.lock, in
    the daemon's order of events (prep.git_locked), which also sees `rm f && git switch B`
    in one line; where that is not known (an older daemon, the git dir not watched, events
    lost), marked before git's start time, and then a file the tree added where git wrote
    sets it aside too (its rm may be marked after git began: RW45).
    When no tree on the base was done before git began, one on the base before it (s51:
    the watcher's own snapshot, sent as git began, committed after, moved the base; its walk
    read git's versions), when every snapshot after that base was committed after git began
    and the marks that snapshot dropped were kept (prep.logged_before; changed_since asks
    them). A tree on the base is taken so too when the snapshots after the base were
    committed after git began (s52: the watcher's, committed, its finish not yet come: it
    moves the base later; changed_since then asks the marks that finish keeps). A usual hook
    pays two queries of the dirty set's database (no tree logged since the last snapshot:
    the watcher's own snapshot came after the writes)."""
    if call.prev in (None, NULL):
        return
    # a file checkout (`checkout -- FILE`) or one to the commit HEAD is at (`checkout -f`,
    # `switch --discard-changes`): no commits differ; what git wrote is asked of the disk
    # below (red53 F1: an edit it discarded, held by the tree alone, was named by nothing)
    in_place = call.file_checkout or call.prev == call.new
    if not os.path.isdir(os.path.join(store.path, "watch")):
        return  # no watcher ever ran with this store
    from git_snapshot.watch import prep

    logged = prep.logged(store.path, repo.toplevel)
    older = None if logged else prep.logged_before(store.path, repo.toplevel)
    if older == []:
        return  # no tree logged: git's start (proc, for a report only) is not looked up
    began = ctx.started  # (the start of the clock tick git's process began in)
    if began is None:
        return
    got = next(((b, q) for b, q in logged if q.done < began), None)
    dropped = got is None
    if got is None:
        # the base moved after the tree: by a snapshot committed after git began, as the
        # watcher's sent as git began (its walk read git's versions, s51: SECRET=mine was in
        # no snapshot), the tree built on the one before is still what git found
        if older is None:
            older = prep.logged_before(store.path, repo.toplevel)
        got = next(((b, q) for b, q in older if q.done < began), None)
        if got is None:
            return
    base, p = got
    from git_snapshot import identity

    source = identity.source(store, repo)
    mine = store.snapshots(source, repo.toplevel, last=_BEFORE_ROWS)
    # the snapshots after its base committed after git began (_before sets them aside: what
    # each read before git wrote is named from it, _in_flight), none a pre-hook's: on the
    # base before, one at least (it moved the base); on the base, one whose finish has not
    # moved it yet (s52: the watcher's, committed, its dirty set not yet told)
    cut = _tick_end(began)

    def later(s: Snapshot) -> bool:
        return (s.created >= cut or _in_gits_tick(s, began)) and not _pre_hook(s)

    n = len(mine)
    while n and later(mine[n - 1]):
        n -= 1
    if dropped and n == len(mine):
        return
    mine = mine[:n]
    if not mine or mine[-1].root != base or mine[-1].created >= p.done:
        return
    from git_snapshot.store.diff import diff_trees

    differs = diff_trees(store, base, p.root)  # (what the tree changed since its base)
    old, new = _moved(repo, call)
    wrote = _in_place_wrote(repo, differs, began) if in_place else _changed(repo, call, old, new)
    # (a file the tree added, staged, that is gone: git deleted it, as `checkout -f B` does
    # one the index holds and B lacks, red53 F2; one the user deleted before git began is
    # set aside below, prep.changed_since)
    wrote = [*wrote, *_staged_gone(repo, differs)]
    if not wrote:
        return
    meets = prep.touches(wrote)  # (git wrote there, above or below)
    hit = p.changed is None or any(map(meets, p.changed))
    # (after the daemon's answer to this hook's sync, which the snapshot waits for anyway)
    bound = prep.git_locked(store.path, repo.toplevel, p, began)
    if not hit and bound is None:
        return  # (only files it added can meet git's writes: set aside below)
    added_where_git_wrote = any(meets(c.path) for c in differs if c.old is None)
    if bound is None and added_where_git_wrote:
        # a file made since the last snapshot, where git wrote: the user may have deleted
        # it again a moment before git began, faster than the daemon marks it (`rm f &&
        # git checkout -f B`, B tracking f: git was said to destroy a file it never found,
        # review RW45); set aside, as before RED44 F6 (README: named by nothing)
        return
    if not hit and not added_where_git_wrote:
        return
    if prep.changed_since(
        store.path, repo.toplevel, p, began, {*wrote, *(c.path for c in differs)}, bound, dropped
    ):
        return  # changed since the tree where it matters: not what git found there
    meta: dict[str, Any] = {
        "head": old,
        "branch": mine[-1].meta.get("branch"),
        "operation": None,
        "prepared": p.seq,
    }
    from git_snapshot import worktree

    stashes = worktree.stash_ids(repo)[: worktree.STASHES_KEPT]
    if stashes:
        meta["stashes"] = stashes
    meta.update(identity.tag_meta(repo))
    message = f"the watcher's prepared tree, before {ctx.command}"
    # (the same again under the worktree's turn: one committed since is passed over too)
    prep.commit_logged(store, source, repo.toplevel, base, p, meta, message, later)


def _in_place_wrote(repo: gitrepo.Repo, differs: list[Change], began: float) -> list[bytes]:
    """For a checkout that moved no commit (a file checkout, or one to HEAD's commit): the
    paths the prepared tree changed since its base (*differs*) that git wrote while it ran
    (gitwrote._written_during: written since *began*, holding a version git has); what git
    wrote where the tree changed nothing, the snapshot before holds already."""
    from git_snapshot.gitwrote import _written_during

    # (a path the base lacks too: a tracked file deleted, then made again, rev53)
    paths = [c.path for c in differs]
    return _written_during(repo, paths, began, files=True) if paths else []


def _staged_gone(repo: gitrepo.Repo, differs: list[Change]) -> list[bytes]:
    """The files the prepared tree added since its base (*differs*), labelled tracked there (a
    new file staged), that are no longer on disk: deleted by git's checkout (red53 F2), or
    by the user before it (then marked before git began: prep.changed_since sets the tree
    aside). Such a file is in neither commit a checkout moved between, nor written."""
    from git_snapshot.store.objects import DIR
    from git_snapshot.worktree import TRACKED

    top = os.fsencode(repo.toplevel)
    return [
        c.path
        for c in differs
        if c.old is None
        and c.new is not None
        and c.new.kind != DIR
        and c.new.label == TRACKED
        and not os.path.lexists(os.path.join(top, c.path))
    ]


def _tick_end(started: float) -> float:
    """The end of the clock tick *started* lies in: a git process's start time (ctx.started)
    comes from /proc, which counts clock ticks, so git began somewhere in that tick."""
    return started + 1 / os.sysconf("SC_CLK_TCK")


def _in_gits_tick(snap: Snapshot, started: float | None) -> bool:
    """Whether *snap* is the watcher's own, committed from the start of the clock tick git
    began in (*started*: ctx.started, None when not known) on. Sent when the quiet period
    ends, whatever git does, its walk may have read what git wrote in that tick (s52, k3):
    taken for the snapshot before, it showed git's .env unchanged, and no report named the
    user's one. Any other snapshot committed in that tick was most likely taken before git
    began (`git snapshot && git checkout`)."""
    return started is not None and snap.trigger == WATCH and snap.created >= started


def _pre_hook(snap: Snapshot) -> bool:
    """Whether *snap* is a pre-hook's (reference-transaction, pre-rebase): taken before its
    git command touched the worktree, so one committed after that command began is its own,
    and holds what the command destroyed."""
    hook = HOOKS.get(snap.trigger)
    return hook is not None and hook.sees_before


def _git_hooks(snap: Snapshot) -> bool:
    """Whether *snap* was taken by a hook of a git command: committed before this command's
    writes (git runs its hooks before or after its own writes, and one command's writes to
    a worktree at a time: index.lock), unless another git command's hook ran while this one
    wrote (not asked: the unchanged hook's price, a /proc look-up)."""
    return snap.trigger in HOOKS


def _git_began(
    repo: gitrepo.Repo, call: Call, ctx: Context, after: Result | None, started: float
) -> Callable[[Snapshot], tuple[float, float | None] | None]:
    """For _before: given the newest snapshot committed before the hook began, when the git
    command began (the end of the clock tick its start in /proc names: snapshots are timed
    by that clock, not by the file system's coarse one; without it, hooks.FILE_CHECKOUT_WINDOW_NS
    before git last wrote the index, as _written_limit takes it), with the start of that
    tick (ctx.started; None without: _in_gits_tick); None when not known, or
    not needed: a plain switch to the commit HEAD is at writes no file unless forced and,
    with *after* as a git hook's snapshot is, has nothing to compare (no /proc look-up for
    it: the unchanged hook's way). Any other snapshot (`git snapshot create`, the
    watcher's) may have been committed while a forced one ran, after git wrote a file: with
    git's version, it has *after*'s tree too (RED36 A1)."""

    def began(newest: Snapshot) -> tuple[float, float | None] | None:
        if (
            call.name == "post-checkout"
            and call.branch_checkout
            and call.prev == call.new
            and after is not None
            and after.snapshot.root == newest.root
            and _git_hooks(newest)
        ):
            return None
        if ctx.started is not None:
            # (/proc counts in clock ticks: git began in the tick from ctx.started on, and a
            # snapshot committed in it, most likely just before: `git snapshot && git merge`;
            # but the watcher's is not: _in_gits_tick)
            return min(_tick_end(ctx.started), started), ctx.started
        limit = _written_limit(repo, None)
        return None if limit is None else (min(limit / 1e9, started), None)

    return began


def find_losses(
    store: Store,
    repo: gitrepo.Repo,
    call: Call,
    ctx: Context,
    started: float,
    after: Result | None,
    overlay: gitrepo.Overlay | None,
    note: Mapping[str, Any] | None = None,
) -> list[lossreport.Report]:
    """What the operation that ran this post-hook destroyed: a report per snapshot holding
    some of it, [] when nothing was lost (*after*: this hook's snapshot, as worktree.take
    returned it; None when it could take none: hooks._losses_anyway). When the snapshot before it
    is a restore's pre-restore one, the paths that restore wrote hold its source snapshot's
    bytes, not that one's (which holds what they replaced): they are compared with the
    source, in a report of their own (RED32 V2: `restore 4 .env`, printed, brought back the
    version the user had just replaced); the rest with the pre-restore snapshot. The
    snapshot before is one committed before the git command began, or by its pre-hook
    (_before); what a snapshot in flight while it ran read before git wrote is named from
    it (_in_flight, _from_flight). *note*: a rebase's stopped note (post-rewrite), when a
    snapshot taken during its stop is *before*: what its picks destroyed before that one is
    compared with the snapshot the rebase began from (stopped.held_since), hedged."""
    later: list[Snapshot] = []
    began = _git_began(repo, call, ctx, after, started)
    before = _before(store, repo, call, started, later, began)
    flight = _in_flight(later, after, started)
    if before is None and not flight:
        return []
    op = _Op(store, repo, call, ctx, after, overlay)
    parts: list[restored.Part] = []  # (named, compared, which paths)
    if before is not None:
        parts = [(before, before, None)]
        if before.trigger == "pre-restore":  # (safety.PRE_RESTORE, not imported for it)
            from git_snapshot import restored

            parts = restored.parts(store, before)
    older: list[Snapshot] = []  # named hedged, whatever *before* is
    since = before
    if note is not None and before is not None and call.name == "post-rewrite":
        from git_snapshot import stopped

        # the rebase stopped, and a snapshot was taken during a stop (create, the
        # watcher's): what it destroyed before that one only an earlier one holds
        held = stopped.held_since(store, repo, note, before)
        for first, paths in held:
            parts.append((first, first, paths.__contains__))
            older.append(first)
        if held:
            since = held[0][0]
    # (what each path was just before the command: *before*'s labels, whichever is compared;
    # the rebase's, its own)
    found = [
        (shown, _lost_from(op, seen, within, seen is before, shown if shown in older else before))
        for shown, seen, within in parts
    ]
    damaged = False  # (a snapshot in flight with a damaged object: what it held not known)
    if flight:
        found, damaged = _from_flight(op, flight, before, found)
    if before is not None and call.name == "post-checkout":
        popped = _unstashed(op, before, found)
        older += [shown for shown, _ in popped]
        found += popped
    found = [(shown, lost) for shown, lost in found if lost[0] or lost[1]]
    if found and since is not None and call.name == "post-rewrite":
        found = _not_named_since(op, since, found)
    if not found:
        return []  # (the usual hook: losses is not even imported)
    from git_snapshot import lossreport

    exact = not damaged and before is not None and _exact(store, repo, before, ctx)
    when = time.time()  # one moment: `undo` puts back every report of it
    # (the paths *before* stands for: a restore's pre-restore snapshot, not those it wrote)
    within = next((w for shown, _, w in parts if shown is before), None)
    checkout = call.name == "post-checkout"
    gone, more = _gone_not_by_it(op, before, found, within) if checkout else ([], [])
    return [
        lossreport.report_of(
            store,
            repo,
            ctx.command,
            shown,
            exact and shown not in flight and shown not in older,
            lost,
            unsaved,
            when=when,
            gone=gone if shown is before else None,
            gone_more=more if shown is before else None,
        )
        for shown, (lost, unsaved) in found
    ]


GONE_AT_MOST = 500  # files gone, not by the checkout, asked whether git gives them back


def _gone_not_by_it(
    op: _Op,
    before: Snapshot | None,
    found: _Found,
    within: Callable[[bytes], bool] | None = None,
) -> tuple[list[losses.Loss], list[bytes]]:
    """The files and links *before* held that are gone now, that no report of this checkout
    names (*found*: it did not delete them) and that git cannot give back (losses.find's
    rule, as for what it destroyed): what a command with no hook deleted in the same
    period, as VS Code's "Discard All Changes" runs `git clean -f -- NEW` just before `git
    checkout -- EDITED` (red44 F5b), or a file deleted by hand (the hook cannot tell which).
    Asked only when a report is printed anyway, from the trees of the snapshots before and
    after (none when this hook took none); a file whose bytes the snapshot after holds at
    another path was moved, not lost. A file gone in an earlier period is not in *before*.
    Past GONE_AT_MOST of them (an `rm -rf node_modules`: asking git of 20,000 paths took
    1.4 s), the untracked and ignored ones (as *before* labels them) are not asked: those
    the disk lacks are returned second, to be counted, not named as lost; the tracked ones
    are asked when GONE_AT_MOST at most, else left. Counted unasked, a branch's 501 tracked
    files that `checkout -f B` deleted (git gives them back) were said to be gone "not by
    git checkout", and a folder left out of the snapshot after (snapshot.exclude), still on
    disk, was said to be gone (review45). With *within*, of the paths it says yes to only:
    *before* being a restore's pre-restore snapshot, not those the restore wrote or deleted
    (`restore 1 --delete sub`: what it deleted was said to be gone "not by git checkout",
    and `undo` put it back: review45)."""
    after = op.after
    if before is None or after is None or before.root == after.snapshot.root:
        return [], []
    from git_snapshot.store.objects import DIR
    from git_snapshot.store.objects import CorruptObject
    from git_snapshot.worktree import TRACKED

    named = {p for _, (lost, unsaved) in found for p in [*(x.path for x in lost), *dict(unsaved)]}
    if op.overlay is not None:  # (what git or pre-commit only hid for the moment)
        named |= op.overlay.files | op.overlay.deleted
    try:
        changes = _diff(op.store, before.root, after.snapshot.root)
        moved = {c.new.ref for c in changes if c.new is not None and c.new.kind != DIR}
        labels = {
            c.path: c.old.label
            for c in changes
            if c.new is None
            and c.old is not None
            and c.old.kind != DIR
            and c.old.ref not in moved
            and c.path not in named
            and not _above(c.path, named)
            and (within is None or within(c.path))
        }
        if not labels:
            return [], []
        from git_snapshot import losses

        paths, more = list(labels), []
        if len(paths) > GONE_AT_MOST:
            # (the disk's word: a folder excluded since is still there)
            more = _off_disk(op.repo, [p for p, k in labels.items() if k != TRACKED])
            paths = [p for p, k in labels.items() if k == TRACKED]
            if len(paths) > GONE_AT_MOST:
                paths = []
        asked = losses.find(op.store, op.repo, before, paths, _revs(op, before)) if paths else []
        return asked, more
    except CorruptObject:  # (a damaged folder: the report itself is what matters)
        return [], []


def _off_disk(repo: gitrepo.Repo, paths: list[bytes]) -> list[bytes]:
    """Those of *paths* the worktree no longer holds (leftout.gone's answer: nothing there,
    or a folder on the way is not one now), each folder looked at once and the files of
    one that is gone not at all: an `rm -rf node_modules` of 20,000 files is one lstat."""
    import stat

    top = os.fsencode(repo.toplevel)
    there: dict[bytes, bool] = {b"": True}  # folder -> it and every one above it are folders

    def folder(rel: bytes) -> bool:
        if rel not in there:
            up = folder(rel.rpartition(b"/")[0])
            try:
                there[rel] = up and stat.S_ISDIR(os.lstat(os.path.join(top, rel)).st_mode)
            except OSError:
                there[rel] = False
        return there[rel]

    return [
        p
        for p in paths
        if not folder(p.rpartition(b"/")[0]) or not os.path.lexists(os.path.join(top, p))
    ]


def _not_named_since(op: _Op, before: Snapshot, found: _Found) -> _Found:
    """*found* less each loss a report since *before* was taken named from the same snapshot:
    `git snapshot run -- git rebase main` named what the rebase destroyed before it stopped
    (run writes no stopped note: its report is the rebase's), and the `git rebase --continue`
    that ends it, compared with *before* (run's snapshot, or the one the rebase began from),
    named it again (RED41 R2 F9). The version that snapshot holds is the same one: the
    report that named it gives it back. (A restore of it since takes a snapshot of its own,
    which is then *before*.) The same of a "not saved" line: run said x.log, a left-out file
    the picks before the stop deleted, and the continue's lostfrom._left_out_replayed said it
    again."""
    from git_snapshot import loststash

    said = loststash.reported_since(op.store, op.repo, before.created)
    if not said:
        return found
    added: dict[float, set[bytes]] = {}
    out: _Found = []
    for shown, (lost, unsaved) in found:
        lost = [x for x in lost if _not_named(op.repo, said, shown.id, x.path, added)]
        unsaved = [x for x in unsaved if _not_named(op.repo, said, shown.id, x[0], added)]
        if lost or unsaved:
            out.append((shown, (lost, unsaved)))
    return out


def _not_named(
    repo: gitrepo.Repo,
    said: Mapping[tuple[int, bytes], float],
    shown: int,
    path: bytes,
    added: dict[float, set[bytes]],
) -> bool:
    """For _not_named_since: whether no report named *path* from snapshot *shown* (*said*:
    loststash.reported_since), or a move of HEAD after it added *path*: a pick of the continue
    that adds the file writes over what the user put there during the stop (in no snapshot:
    only an earlier version is named, hedged), a second loss (review41 RCF: no line said
    it). A move that changes or deletes a tracked file, git makes over no edit. Reflog times
    are whole seconds: a move in the report's second counts as one before it. *added*: the
    paths the moves after each report time added, asked once."""
    when = said.get((shown, path))
    if when is None:
        return True
    if when not in added:
        from git_snapshot import losses

        since = int(when) + 1 + losses.REFLOG_SLACK_S  # (reflog_since reads that far back)
        added[when] = step_paths(repo, head_steps(repo.git_dir, since), "AT")
    return path in added[when]


def _in_flight(later: list[Snapshot], after: Result | None, started: float) -> list[Snapshot]:
    """Of *later* (committed after the snapshot before, newest first: _before's), the
    snapshots in flight while the git command ran: committed while it ran (before this hook
    began), or whose walk had begun when the hook began (a watch snapshot, another hook's:
    the hook's own snapshot waited for their commit, archiver._turn). Such a walk read each
    file before git wrote it, or after: never named from the snapshot committed before
    (RED34 A3: "an earlier version ... in snapshot 1", and undo brought that one back, while
    the watch snapshot being written held the user's newest .env), nor taken for it (RED35
    H1: one that read git's version showed nothing lost)."""
    if not later:
        return []
    from git_snapshot.store.walker import walk_began

    own = after.snapshot.id if after is not None else None
    out = []
    for s in later:
        if s.id == own:
            continue
        if s.created < started or ((began := walk_began(s)) is not None and began < started):
            out.append(s)
    return out


def _from_flight(
    op: _Op, flight: list[Snapshot], before: Snapshot | None, found: _Found
) -> tuple[_Found, bool]:
    """*found* (what each part's snapshot holds of the losses) with what a snapshot in
    *flight* (newest first) holds of them in a newer version, or holds where *before* has
    nothing, named from it instead: it read that path before git wrote or deleted it (read
    after, it holds what the disk holds: nothing lost from it). A path one of them holds as
    *before* does stays with *before*; one it read before git wrote it, as git wrote it, is
    lost from none (_read_as_written). Second, whether a damaged object of one of them kept
    a path from being compared (RED34 D2): a path named from an older snapshot may then be
    held newer in it (the reports are hedged). Such an object stops not the check: one that
    hides a path from _read_as_written leaves that path named, and a snapshot whose trees
    cannot be compared is passed over (was: CorruptObject out of find_losses, "could not
    check what git checkout destroyed", and what the snapshot before holds named by
    nothing)."""
    from git_snapshot.store.diff import lost as lost_entries
    from git_snapshot.store.objects import CorruptObject

    top = os.fsencode(op.repo.toplevel)
    claimed: set[bytes] = set()
    extra: _Found = []
    damaged = False
    named = sorted({x.path for _, (lost, _) in found for x in lost})
    # (written after the tick git began in: the file git made, perhaps not yet filled)
    since = op.ctx.started
    late = None if since is None else int(_tick_end(since) * 1e9)
    for snap in flight:
        older = _began_before_tree(snap, before)
        if named and op.call.name == "post-checkout":
            unread: set[bytes] = set()
            claimed |= _read_as_written(op, snap, [p for p in named if p not in claimed], unread)
            damaged = damaged or bool(unread)
        try:
            held, unsaved = _lost_from(op, snap, None, False)
            held = [x for x in held if x.path not in claimed]
            damaged = damaged or bool(unsaved)  # (its paths not compared: losses.not_compared)
            if not held:
                continue
            paths = sorted(x.path for x in held)
            there = {p: e for p, e, _ in lost_entries(op.store, snap.root, top, paths)}
        except CorruptObject:
            damaged = True
            continue
        if late is not None:
            # read after git wrote it, or while: git's version, half written (its walk read
            # the .env git had made, empty: named from it, s51), never the user's; a time
            # past the snapshot's commit is no write of git's then (a user's future mtime)
            end = int(snap.created * 1e9)
            held = [x for x in held if not _written_while(there.get(x.path), late, end)]
            if not held:
                continue
        was = {}
        if before is not None:
            was = _entries_of(op.store, before.root, top, paths)
        newer = [x for x in held if x.path not in was or _differs(was[x.path], there.get(x.path))]
        if older and before is not None:  # (what it read before the tree did: the tree's
            done = int(before.created * 1e9)  # version, or an older one)
            newer = [x for x in newer if _written_after(there.get(x.path), was.get(x.path), done)]
        if newer:
            claimed.update(x.path for x in newer)
            extra.append((snap, (newer, [])))
    if not claimed:
        return found, damaged
    rest: _Found = [
        (
            shown,
            ([x for x in lost if x.path not in claimed], [u for u in un if u[0] not in claimed]),
        )
        for shown, (lost, un) in found
    ]
    return extra + rest, damaged


def _entries_of(store: Store, root: bytes, top: bytes, paths: list[bytes]) -> dict[bytes, Entry]:
    """What snapshot tree *root* holds at *paths* (store.diff.lost's entries); a path a
    damaged object of it hides is left out, the rest read (the snapshot before, its copy of
    a path damaged: what a snapshot in flight holds there is named from that one)."""
    from git_snapshot.store.diff import lost as lost_entries
    from git_snapshot.store.objects import CorruptObject

    try:
        return {p: e for p, e, _ in lost_entries(store, root, top, paths)}
    except CorruptObject:
        out: dict[bytes, Entry] = {}
        for p in paths:
            try:
                out.update((q, e) for q, e, _ in lost_entries(store, root, top, [p]))
            except CorruptObject:
                continue
        return out


def _began_before_tree(snap: Snapshot, before: Snapshot | None) -> bool:
    """Whether *snap* (in flight) began its walk before *before* was done: *before* the
    watcher's prepared tree this hook committed after *snap* (_prepared_before passes over
    such a snapshot; created when the tree was done). A worktree's snapshots walk one at a
    time (archiver._turn), but the tree is built outside the turn: such a snapshot may have
    read a path before the tree did, an older version (a `git snapshot` by hand, begun
    before the user's last save and committed after git began, held the version before the
    save, and that older version was named, not the tree's: s52 red team)."""
    if before is None or before.trigger != "prepared" or before.id < snap.id:
        return False  # (watch.prep.PREPARED; committed before *snap*: an earlier hook's)
    from git_snapshot.store.walker import walk_began

    began = walk_began(snap)
    return began is not None and began < before.created


def _written_after(e: Entry | None, was: Entry | None, done_ns: int) -> bool:
    """Whether a snapshot in flight's entry *e* is of a write after the one *was* (the
    tree's entry) holds: a save after the tree that the daemon marked only after git began
    (changed_since takes it as git's), read by a walk begun before the tree. Where the tree
    holds nothing, whether it was written after the tree was done (*done_ns*): a file made
    since, its making marked only after git began (s53: a new .env named by nothing, while
    that snapshot held it); one deleted before the tree was done was read before that."""
    if e is None:
        return False
    return e.mtime_ns > (done_ns if was is None else was.mtime_ns)


def _written_while(e: Entry | None, since_ns: int, end_ns: int) -> bool:
    """Whether a snapshot's entry *e* (None: not held) is of a file last written from
    *since_ns* (after the git command began) to *end_ns* (the snapshot's commit)."""
    return e is not None and since_ns <= e.mtime_ns <= end_ns


def _unstashed(op: _Op, before: Snapshot, found: _Found) -> _Found:
    """What a checkout discarded of the edits a stash entry held when *before* was taken, the
    entry gone since: `git stash; git checkout -b x; git stash pop; git checkout -- f`
    (RED36A 4). *before*, taken while they sat in the stash, holds HEAD's version, and the
    pop dropped the entry: git cannot give them back. Each path the entry changed, not named
    by *found* already, is compared with the newest older snapshot holding the entry's very
    version (named hedged: an earlier version, later edits not saved); one no snapshot holds
    so is named from none. A `stash drop` leaves the same trace: a path is compared only
    where the checkout wrote *before*'s version back (_written_back, _lost_from's written
    check), over something else, which a dropped entry's path holds only if the user edited
    it since (then an earlier version it is). A path a report since *before* named from that
    snapshot already is not named again: the hook after that discard reused *before* (the
    worktree was as then), which still records the entry. No git call, nothing read but
    the stash's reflog, unless *before* recorded an entry gone now."""
    gone = _gone_stashes(op.repo, before)
    if not gone or op.after is None:  # (None: hooks._losses_anyway, no snapshot to compare)
        return []
    from git_snapshot import identity
    from git_snapshot import loststash

    named = {x.path for _, (lost, _) in found for x in lost}
    named.update(p for _, (_, unsaved) in found for p, _ in unsaved)
    versions = loststash.stashed_versions(op.repo, gone)
    back = _written_back(
        op.store, before, op.after.snapshot, [p for p in versions if p not in named]
    )
    versions = {p: v for p, v in versions.items() if p in back}
    if not versions:
        return []
    own = identity.owner(op.repo)
    rows = op.store.snapshots(identity.source(op.store, op.repo), op.repo.toplevel)
    older = [s for s in reversed(rows) if s.created < before.created and own(s)]
    where = loststash.holding(op.store, older, versions)
    if not where:
        return []
    said = loststash.reported_since(op.store, op.repo, before.created)
    paths: dict[int, tuple[Snapshot, set[bytes]]] = {}
    for p, snap in where.items():
        if (snap.id, p) not in said:
            paths.setdefault(snap.id, (snap, set()))[1].add(p)
    out: _Found = []
    for snap, wanted in paths.values():
        lost = _lost_from(op, snap, wanted.__contains__, False)
        if lost[0] or lost[1]:
            out.append((snap, lost))
    return out


def _written_back(
    store: Store, before: Snapshot, after: Snapshot, paths: list[bytes]
) -> set[bytes]:
    """Those of *paths* that *after* (the hook's snapshot) holds as *before* does: a checkout
    that wrote one (_lost_from asks) wrote back *before*'s version, over something else
    (git writes no file that holds what it would write). One it wrote another version to
    (`checkout -f other` where the branches differ, `checkout REV -- f`) may have held
    *before*'s version up to then: after a `stash drop`, nothing was lost there. Each tree
    is read once, not once a path (a dropped entry of 2,000 files took 15 s a hook)."""
    from git_snapshot.store.history import Trees
    from git_snapshot.store.objects import CorruptObject

    trees = Trees(store)
    out: set[bytes] = set()
    for p in paths:
        try:
            was, now = trees.at(before.root, p), trees.at(after.root, p)
        except CorruptObject:
            continue
        if was is not None and now is not None and not _differs(was, now):
            out.add(p)
    return out


def _gone_stashes(repo: gitrepo.Repo, before: Snapshot) -> list[str]:
    """The stash entries *before* recorded (worktree.take) that are gone now, newest first:
    popped or dropped since. Its meta text is looked into, and parsed by _json's C scanner,
    only when it records some (no json import on the hook path)."""
    held = _meta_value(before, "stashes", '"stashes"')
    if not isinstance(held, list) or not held:
        return []
    from git_snapshot.worktree import stash_ids

    now = set(stash_ids(repo))
    return [e for e in held if isinstance(e, str) and e not in now]


def _read_as_written(
    op: _Op, snap: Snapshot, paths: list[bytes], unread: set[bytes] | None = None
) -> set[bytes]:
    """Of *paths* (named lost from an older snapshot), those a snapshot in flight (*snap*)
    holds as the disk does now, in a version written before the git command began (its
    mtime as the walk read it: git's write is later, _written_limit), read by a walk begun
    after the command did: the command found that version, and git wrote those very bytes,
    so nothing was lost there (RED36 A3: the path was named from the older snapshot, and
    undo wrote that version back). Not the path's ctime against the snapshot's commit: any
    inode change moves it (a chmod to the same mode, a hard link, a rename, `touch`), and
    one after a walk that read git's version hid the loss (review 36). A checkout only
    (as A3 was found). A path a damaged object of *snap* hides is not returned (it stays
    named), but put into *unread*."""
    from git_snapshot.loststash import _entry_at
    from git_snapshot.store.diff import same_on_disk
    from git_snapshot.store.objects import DIR
    from git_snapshot.store.objects import CorruptObject
    from git_snapshot.store.walker import walk_began

    since, began = op.ctx.started, walk_began(snap)
    if since is None or began is None or began < _tick_end(since):
        return set()  # read perhaps before the command began: the user may have edited since
    limit = _written_limit(op.repo, since)
    top = os.fsencode(op.repo.toplevel)
    out = set()
    for p in paths:
        try:
            e = _entry_at(op.store, snap.root, p)
        except CorruptObject:  # (RED34 D2: not known, so named)
            if unread is not None:
                unread.add(p)
            continue
        if e is None or e.kind == DIR or limit is None or e.mtime_ns >= limit:
            continue  # (perhaps git's version, read after git wrote it)
        full = top + b"/" + p
        try:
            st = os.lstat(full)
        except OSError:
            continue  # gone: what git deleted is lost, whatever the snapshot read
        if same_on_disk(e, full, st) is None:
            out.add(p)
    return out
