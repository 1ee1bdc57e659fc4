"""What one snapshot holds that the worktree lost: _lost_from, and the rules it keeps.

_lost_from compares a snapshot taken before the git command with the worktree over the paths
the command wrote or deleted (losses.find), and leaves out what git gives back or did not
write: a plain switch's files it refuses to write over (_switch_kept, _clean_before_switch,
_not_tracked_in), a rebase's replayed picks (_wrote_plainly, _rebased_through), the commits
that hold a version still (_revs), what a file checkout discarded (_discarded,
_fresh_left_out); _unsaved names the left-out files ("not saved") such a command deleted.

Called by findlosses (find_losses and its filters) and autostash (_unsaved); stopped.py asks
unsaved and _differs, commands/run.py _folders_of. Imported by them, never by hooks.py at
import (every git command imports hooks.py).
"""

from __future__ import annotations

import os

from git_snapshot import gitrepo
from git_snapshot.gitwrote import _Op
from git_snapshot.gitwrote import _rewritten
from git_snapshot.gitwrote import _written_limit
from git_snapshot.hooks import COARSE_CLOCK_SLACK_S
from git_snapshot.hooks import Call
from git_snapshot.hooks import Context
from git_snapshot.hooks import head_steps
from git_snapshot.hooks import step_paths

TYPE_CHECKING = False  # not typing's: typing is not imported on the hook path
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Collection
    from typing import Any

    from git_snapshot import losses
    from git_snapshot.store import Snapshot


def _differs(a: Any, b: Any) -> bool:
    """Whether two snapshots' entries at a path hold different versions."""
    return b is None or (a.kind, a.ref, a.mode) != (b.kind, b.ref, b.mode)


def _lost_from(
    op: _Op,
    before: Snapshot,
    within: Callable[[bytes], bool] | None,
    left_out: bool,
    kinds: Snapshot | None = None,
) -> tuple[list[losses.Loss], list[tuple[bytes, str]]]:
    """What *op* destroyed that *before* holds, and (*left_out*) what it destroyed that
    *before* left out (in no snapshot: unsaved); with *within*, at the paths it says yes to
    only; with *kinds*, each named as that snapshot has it (losses.find)."""
    store, repo, call, ctx = op.store, op.repo, op.call, op.ctx
    touched = {p for p in op.changed if within is None or within(p)}
    touched.update(
        _rewritten(store, repo, before, op.after, ctx, call, touched, within, _wrote_from(op))
    )
    if left_out and call.name == "post-rewrite" and call.rewrite == "rebase":
        touched.update(_left_out_replayed(repo, before, op.old))
    post_checkout = call.name == "post-checkout"
    discarded = _discarded(repo, before, op.old, ctx, post_checkout) if left_out else []
    if not touched and not discarded:
        return [], []
    from git_snapshot import losses

    if post_checkout and call.branch_checkout and op.old and op.old == op.new:
        from git_snapshot.leftout import switch_force

        if switch_force() is False:
            # a plain switch to the commit HEAD is at (`checkout -b x`, `checkout main` on
            # main) writes and deletes no file: what changed just before it (`git reset
            # --hard` deleting a staged new file, 10 ms before) is not its doing (RED33 A5)
            return [], []
    # what git or pre-commit only hid for the moment is not lost
    hidden = op.overlay.files | op.overlay.deleted if op.overlay else frozenset()
    unread: dict[bytes, str] = {}  # paths whose copy in *before* is damaged (RED34 D2)
    found = [
        x
        for x in losses.find(store, repo, before, sorted(touched), _revs(op, before), unread, kinds)
        if x.path not in hidden and (within is None or within(x.path))
    ]
    # (put through the same filters as what is lost: a plain switch wrote over no edit)
    found += [
        losses.Loss(p, "", UNREAD)
        for p in unread
        if p not in hidden and (within is None or within(p))
    ]
    old, new = op.old, op.new
    if found and post_checkout and call.branch_checkout and old:
        # (old == new too: `git reset --hard && git checkout main` on main, a file the reset
        # wrote 10 ms before the checkout started reads as written by it; RED31)
        found = _clean_before_switch(repo, found, old, before)
    elif found and _merges(call) and old and old != new:
        # git merge and pull refuse to write over an uncommitted edit of a file they change
        # (an autostash puts it back, merged): what they rewrote of ORIG_HEAD's files held
        # ORIG_HEAD's version (an earlier snapshot, without reference-transaction, may hold
        # an edit committed since)
        found = _not_tracked_in(repo, found, old, before)
        if call.name == "post-commit":
            # nor over an untracked file no ignore rule matches (the pick is refused): one
            # named at the commit that ends a stopped pick is the user's, edited and added
            # during the stop (review RF5)
            found = [x for x in found if x.kind != "untracked"]
    damaged = losses.not_compared(
        before.id, {x.path: unread[x.path] for x in found if x.status == UNREAD}
    )
    found = [x for x in found if x.status != UNREAD]
    if not left_out:
        return found, damaged
    switch = post_checkout and call.branch_checkout
    # (a merge's or rebase's paths, asked only when a left-out path is about to be named)
    wrote = None if switch else lambda: _wrote_plainly(op, before)
    unsaved = _unsaved(repo, before, touched - hidden, old, switch, wrote)
    unsaved += [x for x in discarded if x[0] not in hidden and x[0] not in dict(unsaved)]
    return found, [x for x in unsaved if within is None or within(x[0])] + damaged


UNREAD = "unread"  # a Loss status _lost_from gives a path it could not compare, for a moment


def _merges(call: Call) -> bool:
    """Whether *call* ends an operation that writes the worktree by a merge's rules: a merge
    (not a squash), and a cherry-pick's or a revert's commit (post-commit, when picked()):
    git refuses to write over an uncommitted edit of a file it changes, and writes over an
    ignored one (checked on git 2.39 for cherry-pick and revert too)."""
    return (call.name == "post-merge" and not call.squash) or call.name == "post-commit"


def _wrote_plainly(op: _Op, before: Snapshot) -> set[bytes] | None:
    """For a merge or a rebase that wrote the worktree by a plain switch's rules from
    ORIG_HEAD (*op.old*), the paths it wrote beyond those *op* knows of (_unsaved asks
    _switch_kept then); None for any other operation, or one not known to be such.

    A merge (or a merging pull) that moved HEAD, not a squash (what it wrote is what it
    staged), with no autostash of git's pending: its `reset --hard` writes over an edit
    (the stash keeps it, not a file replaced by a folder: RED40 F1), left as it was. Checked
    on git 2.39: a merge refuses to write over or delete a tracked file with an edit git's
    stat check sees (staged too) and an untracked file no ignore rule matches, and writes
    over an ignored one, fast-forward or real. It writes only where the commits differ: no
    path more. Left (as _not_tracked_in's premise for a merge's tracked files): a real merge
    or rebase takes an assume-unchanged or skip-worktree mark's word, and deletes a
    same-size edit made in the second the index was last written (a switch and a
    fast-forward look again); the mark is gone from the index by post-merge (fixR's note).

    A rebase (merge backend) run through in one `git rebase` (or `git pull --rebase`), not
    a `--continue` or `--skip`: at a stop the user may put an ignored file where a later pick
    writes one (tracked in ORIG_HEAD, deleted by an earlier pick); whose todo holds picks
    only (no `exec`, `edit`, `break`, nor the `reset` of --rebase-merges; nor `reword`,
    `squash`, `fixup -c`: their message editor is such a pause, review RR43); and with no
    autostash (as a merge's); begun at ORIG_HEAD, as far as *before* shows (`git rebase UP
    BRANCH` run at another HEAD checks UP out from there, over an ignored file at a path
    BRANCH tracks: review RR43). It starts on a clean tree (git refuses one with an edit), its
    checkout of onto and its picks refuse as a merge does, and between them only git writes.
    Its picks write paths ORIG_HEAD and HEAD may both hold as they were (added, then
    deleted; a .gitignore changed, then changed back): every path a move of HEAD since
    *before* wrote (the reflog, one diff-tree; None with no reflog). Session 43, fixR."""
    call, repo = op.call, op.repo
    if not op.old or op.old == op.new or gitrepo.autostash_commit(repo) is not None:
        return None
    if call.name == "post-merge":
        return None if call.squash else set()
    if call.name != "post-rewrite" or call.rewrite != "rebase" or not _rebased_through(op):
        return None
    if _meta_oid(before, "head") != op.old:  # (begun elsewhere, or not known to be)
        return None
    steps = head_steps(repo.git_dir, before.created)
    return step_paths(repo, steps) if steps else None


# a rebase todo's commands that write as a plain switch does, or write no file, with no
# pause between them (git 2.39): not `reword`, `squash` nor `fixup -c`, whose commit message
# editor is one, as an `edit` stop (review RR43)
_PICKS = frozenset(b"pick p fixup f drop d update-ref u noop".split())


def _rebased_through(op: _Op) -> bool:
    """Whether the rebase whose post-rewrite runs now ran in one process with a todo of
    picks only (_wrote_plainly): from ORIG_HEAD (rebase-merge/orig-head; the apply backend,
    `git am`'s, is not known); not a `--continue` or `--skip` of one that stopped."""
    folder = os.path.join(op.repo.git_dir, "rebase-merge")
    try:
        with open(os.path.join(folder, "orig-head"), "rb") as f:
            orig = f.read().strip().decode("ascii", "replace")
        with open(os.path.join(folder, "done"), "rb") as f:
            done = f.read().splitlines()
    except OSError:
        return False
    if orig != op.old:
        return False
    for line in done:
        words = line.split() or [b"#"]
        if not words[0].startswith(b"#") and (words[0] not in _PICKS or words[1:2] == [b"-c"]):
            return False  # (`fixup -c`: the message editor)
    from git_snapshot import proc

    rebase = next((p.argv for p in proc.ancestors()[0] if proc.git_subcommand(p.argv)), ())
    rebase = proc.expanded(rebase)  # (the innermost git: pull's rebase, or the user's own)
    if proc.git_subcommand(rebase) != "rebase":
        return False
    for w in rebase[proc.command_index(rebase) + 1 :]:
        if w == "--":
            break
        if len(w) >= 4 and ("--continue".startswith(w) or "--skip".startswith(w)):
            return False
    return True


def _wrote_from(op: _Op) -> str | None:
    """The commit whose versions *op* wrote to the worktree: the one a branch checkout checks
    out, a merge or a rebase ends at (HEAD: an autostash is applied after their hooks); None
    when its source can be any version git has (a file checkout: the index, or a REV; a
    squash merge: what it staged) or is not known."""
    call = op.call
    if call.file_checkout or (call.name == "post-merge" and call.squash):
        return None
    writes = ("post-checkout", "post-merge", "post-rewrite", "post-commit")
    return op.new if call.name in writes else None


def _revs(op: _Op, before: Snapshot) -> list[str]:
    """The commits whose versions of a path git can give back, for a loss check of *before*:
    those the operation moved between, and the commit HEAD was at when *before* was taken
    while an operation had stopped: a snapshot taken while a rebase stopped (the watcher's,
    3 s into an `edit` or a conflict) holds the versions of that commit of the rebase's own,
    which `rebase --continue` then rewrote: neither ORIG_HEAD nor HEAD. (One rev: each costs
    a lookup per path, ~0.5 ms; the reflog since *before* can hold dozens of commits.) Any
    other HEAD of *before* gives back what it holds as the commits HEAD was at since do
    (losses._committed_since: while a ref reaches it): one amended away since, which only
    the reflog holds, hid a file the amend dropped and `checkout -f B` overwrote (review40
    RF1). And the tree git wrote where an operation stopped on a conflict, when *before* was
    taken then (AUTO_MERGE, gone since `--continue`/`--skip`): its conflict-marker files are
    git's, which the user resolved (or skipped), not an edit of theirs."""
    head = _meta_oid(before, "head") if before.meta.get("operation") else None
    revs = [r for r in (op.old, op.new, head, _meta_oid(before, "auto_merge")) if r]
    if op.call.name == "post-rewrite":
        from git_snapshot import losses

        # and the commits HEAD reached since *before*: an edit the user made at an `edit`
        # stop, amended into the commit, is in that commit, which the next pick then rewrote
        # (RED30: named as destroyed). At most losses.HEAD_MOVES_AT_MOST, from the reflog.
        revs += [r for r in losses.head_moves(op.repo.git_dir, before.created) if r not in revs]
    return revs


def _meta_oid(snap: Snapshot, name: str) -> str | None:
    """An object id *snap*'s meta records: "head", the commit HEAD was at when it was taken
    (for a snapshot reused as "unchanged", when the one it reuses was): what it holds of that
    commit git can give back; "auto_merge", the tree git wrote where the operation in
    progress then stopped on a conflict (worktree.take records AUTO_MERGE). None if none."""
    oid = snap.meta.get(name)
    return oid if isinstance(oid, str) and gitrepo.is_oid(oid) else None


def _clean_before_switch(
    repo: gitrepo.Repo, found: list[losses.Loss], old: str, before: Snapshot
) -> list[losses.Loss]:
    """Of *found*, those a branch switch can have destroyed. A plain one (not -f, not
    --discard-changes, not -m) refuses to write over or delete a file tracked in the commit
    it leaves that holds anything else than that commit's version (git checks the file
    itself, assume-unchanged and skip-worktree alike): such a file held that version, which
    git gives back, whatever an earlier snapshot holds (an edit committed since); and one
    to the commit HEAD is at (`checkout main` on main, `checkout -b x`) writes no tracked
    file at all: one written just before it (by `reset --hard`) is not its doing. Ignored and
    untracked files it overwrites silently stay named, and so does everything after a switch
    not positively known as plain (-f, -m, or an alias: `git fco` for `checkout -f`)."""
    from git_snapshot import leftout

    if leftout.switch_force() is not False:  # forced, merging, or unknown
        return found
    return _not_tracked_in(repo, found, old, before)


def _not_tracked_in(
    repo: gitrepo.Repo, found: list[losses.Loss], old: str, before: Snapshot
) -> list[losses.Loss]:
    """*found* less the files and links commit *old* tracks, which git refused to write over
    unless they held *old*'s version (the callers' premise). Two kinds of file git does
    write over, and that stay: one git gives back only as its filter or end-of-line
    conversion leaves it (losses.FILTERED: git compares the file as its clean filter stores
    it, which is the index's version, and writes *old*'s smudged over what the filter drops,
    nbstripout's outputs: red41R1 finding 1); and, where core.fsmonitor is set, any file of
    a *before* taken while HEAD was at *old*: git took the monitor's word that the file had
    not changed since the index, and did not look at it (a hook that missed an event:
    finding 2); the same where git's stat check may miss an edit (gitextra.stat_blind). (*before* at
    another HEAD may hold an edit committed since: dropped.)"""
    from git_snapshot import gitextra
    from git_snapshot import losses

    asked = [x for x in found if x.type != "dir" and x.status != losses.FILTERED]
    if not asked:
        return found
    if _meta_oid(before, "head") == old and (gitextra.fsmonitor(repo) or gitextra.stat_blind(repo)):
        return found
    tracked = gitrepo.tree_entries(repo, old, [x.path for x in asked])
    return [x for x in found if x.path not in tracked]


def _discarded(
    repo: gitrepo.Repo, before: Snapshot, old: str | None, ctx: Context, folders: bool = False
) -> list[tuple[bytes, str]]:
    """Left-out files whose uncommitted edit the operation discarded (leftout.discarded_unsaved);
    none, and nothing imported, unless *before* left out a file written during the operation
    (when it started: ctx.started reads /proc, asked only of a file written since *before*)."""
    if not before.skipped:
        return []
    fresh = _fresh_left_out(repo, before, folders)
    if not fresh:
        return []
    limit = _written_limit(repo, ctx.started)
    if limit is None:
        return []
    written = {p: why for p, (why, mtime) in fresh.items() if mtime >= limit}
    if not written:
        return []
    from git_snapshot import leftout

    return leftout.discarded_unsaved(repo, before.id, written, old)


def _fresh_left_out(
    repo: gitrepo.Repo, before: Snapshot, folders: bool = False
) -> dict[bytes, tuple[str, int]]:
    """The regular files *before* left out as excluded or unreadable (a cache folder is no
    file) that were written since it was taken: path -> (why, mtime_ns); with *folders*
    (a checkout's hook: it may write over an edit) also the files git tracks in a folder it
    left out as excluded (one ls-files, only when there is one). With neither json
    (re: ~15 ms) nor losses (~35 ms) imported: *before*'s meta text is read by _json's C
    scanner, and only when it names such a path (most projects: cache folders alone)."""
    import stat

    items = _meta_value(before, "skipped_paths", '"excluded"', '"unreadable')
    if not items:
        return {}
    top = os.fsencode(repo.toplevel)
    # written after *before* was taken (the file system's clock lags: COARSE_CLOCK_SLACK_S):
    # not within hooks.FILE_CHECKOUT_WINDOW_NS of git's index, which also takes a file the last
    # command wrote (its committed version, unedited) and would name its "discarded edit" again
    since = int((before.created - COARSE_CLOCK_SLACK_S) * 1e9)
    fresh: dict[bytes, tuple[str, int]] = {}
    dirs: list[bytes] = []
    for path, why in items:
        if why != "excluded" and not why.startswith("unreadable"):
            continue
        rel = os.fsencode(path)
        try:
            st = os.lstat(os.path.join(top, rel))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mtime_ns >= since:
            fresh[rel] = (why, st.st_mtime_ns)
        elif folders and why == "excluded" and stat.S_ISDIR(st.st_mode):
            dirs.append(rel)
    if dirs:  # the tracked files below an excluded folder: its edits are in no snapshot
        from git_snapshot import gitextra

        for rel in gitextra.index_paths(repo, dirs):
            try:
                got = os.lstat(os.path.join(top, rel)) if rel else None
            except OSError:
                continue
            if got is not None and stat.S_ISREG(got.st_mode) and got.st_mtime_ns >= since:
                fresh[rel] = ("excluded", got.st_mtime_ns)
    return fresh


def _meta_value(snap: Snapshot, key: str, *marks: str) -> Any:
    """snap.meta.get(key), without json (which imports re) on the hook's path: its meta
    text, when not parsed yet, is parsed by _json's C scanner, and only when it holds one of
    *marks* (None when it holds none)."""
    raw = getattr(snap, "_meta_json", None)  # (None: parsed already)
    if raw is None:
        return snap.meta.get(key)
    if not any(m in raw for m in marks):
        return None
    from git_snapshot.store.index import json_scan

    return json_scan(raw).get(key)


def unsaved(
    repo: gitrepo.Repo, before: Snapshot, touched: set[bytes], old: str | None
) -> list[tuple[bytes, str]]:
    """_unsaved (what an operation wrote or deleted at *touched* that *before* left out and
    commit *old* lacks), for a stopped operation's report (stopped._report)."""
    return _unsaved(repo, before, touched, old)


def _unsaved(
    repo: gitrepo.Repo,
    before: Snapshot,
    touched: set[bytes],
    old: str | None,
    switch: bool = False,
    plain: Callable[[], set[bytes] | None] | None = None,
) -> list[tuple[bytes, str]]:
    """What the operation wrote over or deleted that *before* left out (snapshot.exclude, a
    cache folder, a file it could not read) and git cannot give back (not in the commit it
    left, *old*): lost with no copy, which the report must say, as run's does. After a
    branch switch (*switch*), or a merge or rebase that wrote as a plain switch does (*plain*:
    _wrote_plainly, asked only then), less what a plain one cannot have destroyed
    (_switch_kept).
    Also a left-out path gone now below a path the operation wrote: git deletes a folder
    holding only ignored files to write a file or link there (v/sub/x.log, `*.log` left
    out, under folder v/sub, which a branch tracks as a file: session 42, fixN)."""
    skipped = before.meta.get("skipped_paths", [])
    if not skipped:
        return []
    from git_snapshot import leftout  # (only for a snapshot that left something out)

    out = []
    top = os.fsencode(repo.toplevel)
    # the folders the operation wrote below (a look-up each: asked per touched path, 10,000
    # left-out files and a switch writing 2,000 took 4.6 s)
    folders = _folders_of(touched)
    for path, why in skipped:
        rel = os.fsencode(path)
        said = leftout.unsaved_why(why, before.id)
        if not said:
            continue
        at = rel in touched or rel in folders
        if at or (_above(rel, touched) and leftout.gone(top, rel)):
            out.append((rel, said))
    if out and old:  # the commit's own entries (blob_ids would also take the new index's)
        kept = gitrepo.tree_entries(repo, old, [p for p, _ in out])
        out = [(p, why) for p, why in out if p not in kept]
    if out and old and switch:
        out = _switch_kept(repo, out, touched, old)
    elif out and old and plain is not None:
        wrote = plain()
        if wrote is not None:
            out = _switch_kept(repo, out, touched | wrote, old, False)
    return out


def _left_out_replayed(repo: gitrepo.Repo, before: Snapshot, old: str | None) -> set[bytes]:
    """The paths a move of HEAD since *before* wrote or deleted at or below what *before*
    left out (snapshot.exclude, a cache folder, a file it could not read: no copy anywhere)
    and is gone now: a rebase's pick that adds the user's excluded, ignored file (writing
    over it) and a later one that deletes it leave it in neither ORIG_HEAD nor HEAD (the
    paths _unsaved looks at), so no "not saved" line said it, though `run` says one where no
    stop splits the rebase (it sees the file deleted; after a stop, git's version was there:
    fixI's note, session 41). Less what the commit HEAD was at when *before* was taken
    tracks (during a stop: git deletes only that commit's version; *old* is _unsaved's).
    A stat of each left-out path; git (a reflog read, one diff-tree) only when one is gone."""
    items = _meta_value(before, "skipped_paths", '"excluded"', '"unreadable', '"cache director')
    if not items:
        return set()
    top = os.fsencode(repo.toplevel)
    gone = [
        rel
        for rel in (os.fsencode(p) for p, why in items if why)
        if not os.path.lexists(os.path.join(top, rel))
    ]
    if not gone:
        return set()
    moved = step_paths(repo, head_steps(repo.git_dir, before.created))
    out = {m for m in moved for g in gone if m == g or m.startswith(g + b"/")}
    head = _meta_oid(before, "head")
    if out and head and head != old:
        out -= set(gitrepo.tree_entries(repo, head, out))
    return out


def _folders_of(paths: Collection[bytes]) -> set[bytes]:
    """The folders *paths* lie below (every one on each path's way)."""
    out: set[bytes] = set()
    for p in paths:
        at = p.rpartition(b"/")[0]
        while at and at not in out:  # (one in *out* has its own folders there too)
            out.add(at)
            at = at.rpartition(b"/")[0]
    return out


def _above(rel: bytes, touched: set[bytes]) -> bool:
    """Whether *touched* holds a folder on *rel*'s way (the paths above it, one look-up each)."""
    at = rel.rpartition(b"/")[0]
    while at:
        if at in touched:
            return True
        at = at.rpartition(b"/")[0]
    return False


def _switch_kept(
    repo: gitrepo.Repo,
    out: list[tuple[bytes, str]],
    touched: set[bytes],
    old: str,
    switch: bool = True,
) -> list[tuple[bytes, str]]:
    """*out* (left-out paths a branch switch wrote at or below) less those where a plain
    switch (not -f, --discard-changes, -m: leftout.switch_force; with *switch* False, a merge
    or rebase _wrote_plainly says writes as one, *old* its ORIG_HEAD) wrote only paths where it
    destroys nothing: a file or link the commit it left (*old*) tracks, which git deletes or
    writes over only while it holds that commit's version (not one git converts, a filter or
    eol: what the clean filter drops it does not see; nor any where core.fsmonitor is set:
    git takes one its monitor missed an edit of as unchanged; nor where its stat check may
    miss one: gitextra.stat_blind), and a path below it that
    *old* does not track and git's ignore rules do not match (with no .gitignore among what
    the switch wrote: the rules it went by), where git refuses to write over an untracked
    file or a folder holding any that is not ignored. Not the left-out path itself, nor a
    path above it: git deletes a folder holding only ignored files to write a branch's file
    or link there (review RK42; fixN). An excluded folder *old* tracked files in was named
    "not saved" at every switch to a branch without it, or back (session 42, fixK); the
    commit holds those, and the untracked files in it git leaves. Left: a folder of ignored
    files below a left-out folder, where the branch writes a file (no snapshot says what was
    in the left-out folder; fixN's note). A merge and a rebase printed the same line (session
    43, fixR). Up to three git processes (a rebase's: one more), only for such a path."""
    from git_snapshot import gitextra
    from git_snapshot import leftout

    if switch and leftout.switch_force() is not False:  # forced, merging, or unknown
        return out
    # the paths the switch wrote at, below or above (_unsaved: a left-out path gone below
    # one) each left-out path
    below = {
        p: [t for t in touched if t == p or t.startswith(p + b"/") or p.startswith(t + b"/")]
        for p, _ in out
    }
    paths = {t for ts in below.values() for t in ts}
    tracked = gitrepo.tree_entries(repo, old, paths)
    # (under fsmonitor, whatever snapshot came before: it holds nothing of a left-out path;
    # and never the left-out path itself, nor a path above one: git deletes a folder holding
    # ignored files only, to write the branch's file or link there, which no ignore rule of
    # that path shows: review RK42, fixN)
    above = {t for p, _ in out for t in below[p] if p.startswith(t + b"/")}
    new = paths - set(tracked) - {p for p, _ in out} - above
    blind = not tracked or gitextra.fsmonitor(repo) or gitextra.stat_blind(repo)
    safe = set() if blind else set(tracked)
    safe -= gitextra.converting(repo, safe) if safe else set()
    if new and not any(t.rpartition(b"/")[2] == b".gitignore" for t in touched):
        safe |= new - gitextra.ignored(repo, new)
    return [(p, why) for p, why in out if not all(t in safe for t in below[p])]
