"""Operations that end with no hook after them: a merge, pull or rebase stopped by a conflict,
and every ``git am`` (no hook of ours runs after one).

The pre-hook of such an operation (``reference-transaction`` for merge, pull and am,
``pre-rebase``)
takes the snapshot right before it changes the worktree, and :func:`begin` notes it here
(a small JSON file in the worktree's git dir). The operation's post-hook (``post-merge``,
``post-rewrite``) reports its losses itself and clears the note. A merge or rebase stopped
by a conflict fires neither, nor does its ``--abort`` or the commit that concludes it: the
note is then still there when the next hook of another git command, or the next git-snapshot
command, runs in this worktree, and :func:`consume` reports what the stopped operation
destroyed (once: the note is claimed by a rename; not while the git command that noted it
still runs, as a merge waiting in its editor does), comparing that snapshot with the
worktree at the paths the operation could write (between HEAD before it and the commits it
was bringing in).
"""

from __future__ import annotations

import contextlib
import json
import os
import time

from git_snapshot import gitrepo
from git_snapshot.hooks import PENDING as PENDING  # hooks checks for it without this module
from git_snapshot.store import Store

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from git_snapshot.hooks import Call
    from git_snapshot.losses import Loss
    from git_snapshot.lossreport import Report
    from git_snapshot.store.index import Snapshot

OWN_REPORT = ("post-merge", "post-rewrite")  # the operation's own post-hook reports
# the first word of the reflog messages of a rebase's moves: "rebase (pick): ...", and
# "pull --rebase origin main (pick): ..." (a merge stops before it moves HEAD; an am's
# patches say what it writes)
_OWN_MOVES = (b"rebase", b"pull")


def _path(repo: gitrepo.Repo) -> str:
    return os.path.join(repo.git_dir, PENDING)


def targets(repo: gitrepo.Repo, call: Call, env: Mapping[str, str]) -> list[str]:
    """The commits the operation starting now brings in, as far as its pre-hook can tell:
    pre-rebase's upstream; the branches `git merge X` names, or what `git pull` fetched."""
    names: list[str] = []
    if call.name == "pre-rebase":
        names = [call.upstream or "@{upstream}"]
    else:
        words = env.get("GIT_REFLOG_ACTION", "").split()
        if words[:1] == ["pull"]:
            names = ["FETCH_HEAD"]
        elif words[:1] == ["merge"]:
            names = [w for w in words[1:] if not w.startswith("-")]
    out = []
    for name in names:
        with contextlib.suppress(Exception):  # not a revision: nothing to add
            oid = gitrepo.rev(repo, name)
            if oid:
                out.append(oid)
    return out


def _command_id() -> list[Any] | None:
    """The git command the user ran, above this hook: [pid, start time] (None: not known)."""
    from git_snapshot import proc

    chain, _ = proc.ancestors()
    git_proc = proc.user_git_command(chain)
    if git_proc is None or not git_proc.started:
        return None
    return [git_proc.pid, git_proc.started]


def same_command(noted: Any, mine: list[Any]) -> bool:
    """Whether _command_id's *noted* and *mine* name one process: its pid, and its start time
    within a second (each hook computes it anew from clocks that may drift apart a little:
    proc, and a note written by a version that truncated the boot time)."""
    try:
        return int(noted[0]) == int(mine[0]) and abs(float(noted[1]) - float(mine[1])) < 1.0
    except (TypeError, ValueError, IndexError):
        return False


def begin(
    repo: gitrepo.Repo,
    snapshot: Snapshot,
    command: str,
    brings: list[str],
    autostash: str | None = None,
    rebase: bool = False,
    stashes: bool = False,
) -> None:
    """Note that the operation *command*, whose pre-hook runs now, may change the worktree
    that *snapshot* holds (its number and when it was taken: :func:`_ours`). *autostash*:
    git's autostash that *snapshot* took edits from (hooks._noted_stash). *rebase*: the
    pre-hook is pre-rebase's (a rebase, or a rebasing pull)."""
    from git_snapshot.store.safewrite import atomic_write

    am = gitrepo.am_starting(repo)
    data: dict[str, Any] = {
        "snapshot": snapshot.id,
        "created": snapshot.created,
        "command": command,
        "by": _command_id(),
        "orig": gitrepo.head(repo),
        "targets": brings,
        "when": time.time(),
        "kind": "am" if am else "rebase" if rebase else "merge",
    }
    if am:  # its --abort puts HEAD back: its patches say what it writes
        with contextlib.suppress(Exception):
            data["paths"] = [os.fsdecode(p) for p in gitrepo.am_paths(repo)]
    if autostash:
        data["autostash"] = autostash
    if stashes:  # a merge that makes git's autostash (hooks._merge_stashes)
        data["stashes"] = True
    if autostash:  # (a merge's dirty files are the check's to find: _edited)
        with contextlib.suppress(Exception):  # (a stash gone: nothing to note)
            dirty = gitrepo.changed_paths(repo, f"{autostash}^1", autostash)
            if dirty:
                data["dirty"] = [os.fsdecode(p) for p in dirty]
    with contextlib.suppress(OSError):
        atomic_write(_path(repo), json.dumps(data).encode(), durable=False)


def consume(
    store: Store,
    repo: gitrepo.Repo,
    hook: str | None = None,
    after: bytes | None = None,
    ran: Snapshot | None = None,
    soft: set[bytes] | None = None,
) -> Report | None:
    """The report for a noted operation that ended without its post-hook, or None. Called by
    every hook (*hook*: its name; *after*: its snapshot's tree) and every git-snapshot
    command (no *hook*). A hook of the noted git command itself (the same process) leaves
    the note (or, for its own post-hook, which reports, clears it), and so does any other
    while that command still runs. A note of another store (another user's, root's under
    sudo, another GIT_SNAPSHOT_STORE's) is left for that store's next process: its snapshot
    number means another snapshot here. *ran*: the snapshot `git snapshot run` took right
    before the command that may have ended the operation (_lost_before). *soft*: a hook's,
    which settles the report with its own (:func:`settle`): when it names an edit a reset
    left at HEAD's version (_put_back), those paths go into *soft* and the report is not
    recorded (the hook records it after)."""
    path = _path(repo)
    if not os.path.lexists(path):
        return None
    if hook in OWN_REPORT:
        own_note(store, repo)
        return None
    try:
        note = _read(path)
    except PermissionError:
        return None  # another user's (0600, in a shared repository): not torn, not ours
    if hook is not None:
        if note is None:
            with contextlib.suppress(OSError):  # torn: nothing to report
                os.unlink(path)
            return None
        mine = _command_id()
        if mine is None or note.get("by") is None:
            return None  # which command runs this hook is not known: leave it
        if same_command(note["by"], mine):  # a hook of the noted command itself
            if hook.startswith("post-"):  # which reports what it destroyed
                with contextlib.suppress(OSError):
                    os.unlink(path)
            return None
    if note is not None and not _ours(note, store, repo):
        return None
    if gitrepo.operation(repo) in ("rebase", "am"):
        # stopped mid-way: `rebase --continue` ends in post-rewrite, which reports; what an
        # am applied is known once it is over (HEAD then)
        return None
    if _running(note):
        return None  # not stopped but waiting (a merge's editor): its post-hook is to come
    claimed = f"{path}.{os.getpid()}"
    try:
        os.rename(path, claimed)  # once, whoever comes first
    except OSError:
        return None
    try:
        note = _read(claimed)
        back = _running(note) or (note is not None and not _ours(note, store, repo))
    except PermissionError:
        back = True
    if back:
        # a new command's, or another store's, noted since it was read: put back, unless newer
        with contextlib.suppress(OSError):
            os.link(claimed, path)
        note = None
    with contextlib.suppress(OSError):
        os.unlink(claimed)
    if note is None:
        return None
    return _report(store, repo, note, after, ran, soft)


def _ours(note: Mapping[str, Any], store: Store, repo: gitrepo.Repo) -> bool:
    """Whether *note* names a snapshot of *store*: its snapshot of the note's number was taken
    when the note says. The same store reached by another path, moved, restored from a backup
    or mounted again (another inode or device number) holds it; another store (another
    user's, root's under sudo, another GIT_SNAPSHOT_STORE's), or one made anew in its place
    whose numbers start again, does not, nor one that pruned it (nothing to report from it
    then). A note without the time (an older version's) counts as this store's, as it did."""
    created = note.get("created")
    if created is None:
        return True
    from git_snapshot import identity
    from git_snapshot.errors import UserError

    try:
        snap = store.get(identity.source(store, repo), note["snapshot"])
    except UserError:
        return False
    return isinstance(created, (int, float)) and snap.created == created


def _running(note: Mapping[str, Any] | None) -> bool:
    """Whether the git command that wrote *note* still runs: a merge waiting in its editor
    (`git merge --edit`), a long checkout of its worktree, has not stopped, and its
    post-hook reports what it destroyed; taken for a stopped one's, the loss was reported
    twice (RED35 S1). The process noted with its start time (a pid reused since is
    another's); unknown (no /proc, a note without it) counts as ended."""
    by = None if note is None else note.get("by")
    if not (isinstance(by, list) and by):
        return False
    try:
        pid = int(by[0])
    except (TypeError, ValueError):
        return False
    from git_snapshot import proc

    since = proc.running_since(pid)
    return since is not None and same_command(by, [pid, since])


def settle(
    reports: list[Report], earlier: Report, soft: set[bytes]
) -> tuple[list[Report], Report | None]:
    """A hook's *reports* and the stopped operation's (*earlier*), each path named once:
    :func:`without`, but an edit a reset left at HEAD's version (*soft*: _put_back) that the
    hook's own command is found to have destroyed too, from whichever snapshot, is that
    command's (`git checkout -- f`, `checkout -f`: the edit was still there when it began;
    the operation's claim was a guess). *earlier* None when nothing is left of it."""
    if soft:
        mine = {x.path for r in reports for x in r.losses}  # (from any snapshot)
        taken = soft & mine
        if taken:
            earlier.losses = [x for x in earlier.losses if x.path not in taken]
            if earlier.restore is not None:
                earlier.restore = [p for p in earlier.restore if p not in taken]
            if not earlier.losses:
                return reports, None
    return without_all(reports, earlier), earlier


def without_all(reports: list[Report], earlier: Report) -> list[Report]:
    """:func:`without` of each of *reports* (one per snapshot): those left with a loss."""
    return [r for r in (without(report, earlier) for report in reports) if r is not None]


def without(report: Report, earlier: Report) -> Report | None:
    """*report* less what *earlier* (the stopped operation's, from the same snapshot) has
    named already: a path is reported once."""
    if report.snapshot != earlier.snapshot:
        return report
    seen = {x.path for x in earlier.losses}
    report.losses = [x for x in report.losses if x.path not in seen]
    if report.restore is not None:
        report.restore = [p for p in report.restore if p not in seen]
    return report if report.losses else None


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as f:
            note = json.load(f)
    except PermissionError:
        raise  # someone else's: the caller leaves it, it is not torn
    except (OSError, ValueError):
        return None
    if not (isinstance(note, dict) and isinstance(note.get("snapshot"), int)):
        return None
    return note


def _report(
    store: Store,
    repo: gitrepo.Repo,
    note: dict[str, Any],
    after: bytes | None = None,
    ran: Snapshot | None = None,
    soft: set[bytes] | None = None,
) -> Report | None:
    from git_snapshot import identity
    from git_snapshot import losses
    from git_snapshot import lossrecord
    from git_snapshot import lossreport
    from git_snapshot.errors import UserError

    orig = note.get("orig")
    if not isinstance(orig, str) or not orig:
        return None
    try:
        snap = store.get(identity.source(store, repo), note["snapshot"])
    except UserError:
        return None  # pruned since
    brings = [t for t in note.get("targets", []) if isinstance(t, str)]
    # what it was bringing in, and where it stopped: MERGE_HEAD, a rebase's onto; HEAD now
    # only when nothing else is known (it may be far from there by now: the user's own
    # later work is not the operation's)
    now = [gitrepo.rev(repo, "MERGE_HEAD")]
    for rel in ("rebase-merge/onto", "rebase-apply/onto"):
        onto = os.path.join(repo.git_dir, *rel.split("/"))
        with contextlib.suppress(OSError), open(onto, encoding="ascii") as f:
            now.append(f.read().strip())
    if not brings and not any(now):
        now.append(gitrepo.head(repo))
    touched = {os.fsencode(p) for p in note.get("paths", []) if isinstance(p, str)}
    for t in dict.fromkeys([*brings, *(n for n in now if n)]):
        if t != orig:
            with contextlib.suppress(Exception):  # a commit gone since: nothing to compare
                touched.update(gitrepo.changed_paths(repo, orig, t))
    with contextlib.suppress(Exception):
        # and what its moves of HEAD wrote or deleted on the way (a pick that adds a file
        # over the user's ignored one, a later one that deletes it: in neither ORIG_HEAD nor
        # where it stopped; RED31), its own moves only: this may run long after it
        when = note.get("when")
        if isinstance(when, (int, float)):
            from git_snapshot.hooks import head_steps
            from git_snapshot.hooks import step_paths

            touched.update(step_paths(repo, head_steps(repo.git_dir, when, _OWN_MOVES)))
    when = note.get("when")
    if isinstance(when, (int, float)) and note.get("stashes"):
        # and a folder where HEAD had a file, which a merge's autostash deleted (RED40 F1,
        # here when the merge stopped: its post-merge, which asks, never ran). Not for a
        # merge that made none: it left the folder, and a later command that deleted it
        # names it (as the merge's, it was named exact from the wrong command's snapshot)
        from git_snapshot.autostash import stopped_stash_wrote

        with contextlib.suppress(Exception):  # (as above: nothing more to compare)
            touched.update(stopped_stash_wrote(store, repo, snap, orig, when, after))
    # and what the user had edited when it began (the autostash's paths; a merge's: _edited),
    # where the worktree now holds HEAD's version of then: git reset it and gave nothing
    # back (_put_back; RED41 R2 F3, F5)
    dirty = {os.fsencode(p) for p in note.get("dirty", []) if isinstance(p, str)}
    if note.get("kind") == "merge":
        if not note.get("stashes") and _concluded(repo, orig, note.get("when")):
            dirty = set()  # the user's commit ended it: it reset nothing they had edited
        else:
            with contextlib.suppress(Exception):  # (a snapshot unreadable: as before)
                dirty |= _edited(store, repo, snap, after)
    dirty -= touched
    # and what it wrote over or deleted that *snap* left out (snapshot.exclude): in no
    # snapshot, said "not saved" as a hook's report says it (`run -- git rebase --continue`
    # and `rebase --abort` said nothing: fixI's note, session 41); under run, only what its
    # moves before run's snapshot wrote (run says the rest)
    unsaved = _left_out(repo, snap, touched, orig, ran, note.get("when"))
    if not touched and not dirty:
        return None
    found = losses.find(store, repo, snap, sorted(touched), [orig, *brings]) if touched else []
    reset: list[Loss] = []
    if dirty:
        # (the file itself: not what the snapshot holds below a folder there, where HEAD had
        # a file; an autostash keeps no untracked file, a reset deletes none)
        seen = {x.path for x in found}
        reset = [
            x
            for x in losses.find(store, repo, snap, sorted(dirty), [orig, *brings])
            if x.path in dirty and x.path not in seen
        ]
        if reset:
            back = _put_back(repo, orig, [x.path for x in reset])
            reset = [x for x in reset if x.path in back]
            found += reset
    stash = note.get("autostash")
    if found and isinstance(stash, str):
        # what the snapshot took from git's autostash and git gave back, merged with what
        # the operation wrote, or keeps in the stash list: not lost (RED41 R1 F3, a
        # fast-forward rebase; post-rewrite's overlay hides the same)
        from git_snapshot.autostash import stash_gave_back

        with contextlib.suppress(Exception):  # (not known: named)
            back = stash_gave_back(store, repo, stash, [x.path for x in found])
            found = [x for x in found if x.path not in back]
    if found and ran is not None:
        found = _lost_before(store, repo, snap, ran, found, orig, note.get("when"))
    if not found and not unsaved:
        return None
    command = str(note.get("command") or "git")
    merge = note.get("kind") == "merge" and not note.get("stashes")
    if reset and merge and all(x in reset for x in found):
        # an edit a reset left at HEAD's version: the merge's --abort reset it staged (RED41
        # R2 F5), or the user's own command deleted or wrote over it during the stop (`git
        # rm -f b.txt`: no hook), then the abort wrote HEAD's version where nothing was. No
        # trace tells them apart after the abort (git's own `stash create` at the merge's
        # start wrote the edit into the repository: whether it was staged is not known);
        # "git merge destroyed" alone was false in the second (review41 RE, session 42)
        # (a merging pull's abort is `git merge --abort`: git pull has none)
        abort = "its --abort" if command.split()[1:2] == ["merge"] else "git merge --abort"
        command += f" ({abort}, or a command run while it was stopped)"
    # exact: taken right before what destroyed it. Not so for an am or a rebase (every note
    # of one that is read here stopped, or went on after a stop, in which the user may have
    # written the file again: RED41 R2 F2, F1), nor for an edit the user could go on with
    # while the merge was stopped (F5)
    kind = note.get("kind") or ("am" if "paths" in note else None)
    exact = kind not in ("am", "rebase") and not any(x in reset for x in found)
    report = lossreport.report_of(store, repo, command, snap, exact, found, unsaved)
    if soft is not None and reset:
        soft.update(x.path for x in reset)  # the hook settles, then records it
    else:
        lossrecord.record(store, repo, report)
    return report


def _left_out(
    repo: gitrepo.Repo,
    snap: Snapshot,
    touched: set[bytes],
    orig: str,
    ran: Snapshot | None,
    when: object,
) -> list[tuple[bytes, str]]:
    """For _report: the paths *snap* left out that the operation wrote or deleted (*touched*)
    and git cannot give back (lostfrom.unsaved: not in *orig*), with why they are in no
    snapshot. With *ran* (run's snapshot, taken right before the command that ended it),
    only those its moves before *ran* wrote (_wrote_before; all when not known): run names
    what its command destroyed of the rest, once."""
    from git_snapshot.lostfrom import unsaved

    out = unsaved(repo, snap, touched, orig) if touched else []
    if out and ran is not None:
        wrote = _wrote_before(repo, ran, orig, when)
        if wrote is not None:
            out = [
                (p, why)
                for p, why in out
                if p in wrote or any(w.startswith(p + b"/") for w in wrote)
            ]
    return out


def _edited(store: Store, repo: gitrepo.Repo, snap: Snapshot, after: bytes | None) -> set[bytes]:
    """The files *snap* holds as tracked that the worktree no longer holds as they were
    (*after*: the checking hook's snapshot of it, compared in the store; else the disk):
    where a merge's --abort may have reset what the user had edited when it began (RED41 R2
    F5, F3 for merge --autostash). Of these the check names only the edits git has no copy
    of whose path the worktree now holds at HEAD's version of then (_put_back): a tracked
    file the user had not edited is git's to give back. Not asked at the merge's pre-hook
    (`git diff-index HEAD` there read the whole worktree and HEAD's tree at every merge and
    pull: 40-70 ms on 20,000 files), only when a stopped merge is checked."""
    from git_snapshot.store.diff import diff_trees
    from git_snapshot.store.diff import lost
    from git_snapshot.store.objects import DIR
    from git_snapshot.worktree import TRACKED

    top = os.fsencode(repo.toplevel)
    if after is None:
        items = lost(store, snap.root, top)
    else:
        items = []
        for c in diff_trees(store, snap.root, after):
            if c.old is None:
                continue
            if c.old.kind != DIR:
                items.append((c.path, c.old, ""))
            elif c.new is None or c.new.kind != DIR:  # (its files: what the disk lacks)
                items.extend(lost(store, snap.root, top, [c.path]))
    return {p for p, e, _ in items if e.kind != DIR and e.label == TRACKED}


def _concluded(repo: gitrepo.Repo, orig: str, when: object) -> bool:
    """Whether the user's commit ended the merge (`git commit`, `merge --continue`: HEAD's
    reflog has a `commit (merge)` from *orig* since *when*, the note's time). Then no
    --abort ran, and a merge that made no autostash reset nothing: what the user had edited
    and the worktree holds at HEAD's version of then, the user wrote so during the stop."""
    if not isinstance(when, (int, float)):
        return False
    from git_snapshot.hooks import REFLOG_TAIL
    from git_snapshot.losses import reflog_since

    return any(
        old == orig and msg.startswith(b"commit (merge)")
        for old, _new, msg in reflog_since(repo.git_dir, when, REFLOG_TAIL)
    )


def _put_back(repo: gitrepo.Repo, orig: str, paths: list[bytes]) -> set[bytes]:
    """Those of *paths* where the worktree (and the index) holds *orig*'s version, HEAD's
    when the operation began, or nothing where *orig* has none: what a reset to it left (a
    merge's --abort, a rebase's, an autostash git could not apply). Another version, the
    user's since (the autostash applied, then edited or committed again), is theirs, not
    the operation's loss. One `git diff-index` (gitextra.differ_from: it compares by the
    index's stat data, and for a regular file it lists, git's id of its bytes is asked too)."""
    from git_snapshot import gitextra
    from git_snapshot.leftout import file_blob_id

    changed = gitextra.differ_from(repo, orig, paths)
    held = gitrepo.tree_entries(repo, orig, paths)
    top = os.fsencode(repo.toplevel)
    out = set()
    for p in paths:
        full = os.path.join(top, p)
        if p not in held:
            if not os.path.lexists(full) and p not in changed:
                out.add(p)
        elif p not in changed or (
            held[p][0] != gitrepo.MODE_SYMLINK and file_blob_id(full) == held[p][1]
        ):
            out.add(p)
    return out


def _lost_before(
    store: Store,
    repo: gitrepo.Repo,
    snap: Snapshot,
    ran: Snapshot,
    found: list[Loss],
    orig: str,
    when: object,
) -> list[Loss]:
    """Of *found* (what *snap*, taken right before the operation, holds and the worktree no
    longer does), what the operation destroyed before *ran*: the snapshot `git snapshot run`
    took while it was stopped, right before the command that ended it (`run -- git rebase
    --continue`, `--skip`, `run -- git am --skip`), whose own report names exactly what that
    command destroyed. RED41 R2 F1: each named the one loss, this one from *snap*.

    - A path *ran* holds as *snap* does was still there when run began: whatever became of
      it is the command's, run's to name (once, from *ran*, the newer and exact).
    - A path *ran* holds as an untracked or ignored file of another version (the operation
      writes only what it tracks), and that no move of HEAD the operation made before *ran*
      wrote, the user changed during the stop: *snap*'s version is not the operation's loss
      (it was named as exact: an older version than the one the command destroyed).

    Every other path stays: a pick before the stop that wrote over the user's file, which
    the user then wrote again, is two losses, each named from its snapshot."""
    from git_snapshot.store.history import Trees
    from git_snapshot.worktree import IGNORED
    from git_snapshot.worktree import UNTRACKED

    trees = Trees(store)
    wrote: list[set[bytes] | None] = []  # what its moves before *ran* wrote, once asked
    out = []
    for x in found:
        was = trees.at(snap.root, x.path)
        there = trees.at(ran.root, x.path)
        if there is not None and was is not None:
            if (was.kind, was.ref, was.mode) == (there.kind, there.ref, there.mode):
                continue
            if there.label in (UNTRACKED, IGNORED):
                if not wrote:
                    wrote.append(_wrote_before(repo, ran, orig, when))
                if wrote[0] is not None and x.path not in wrote[0]:
                    continue
        out.append(x)
    return out


def _wrote_before(repo: gitrepo.Repo, ran: Snapshot, orig: str, when: object) -> set[bytes] | None:
    """The paths the stopped operation's moves of HEAD (a rebase's picks, an am's patches)
    wrote or deleted from its start (*when*, HEAD *orig*) until *ran* was taken (HEAD then:
    its last move before the stop); None when that is not known."""
    from git_snapshot.hooks import step_paths

    steps = _steps_before(repo, ran, orig, when)
    return None if steps is None else step_paths(repo, steps)


def _steps_before(
    repo: gitrepo.Repo, ran: Snapshot, orig: str, when: object
) -> list[tuple[str, str]] | None:
    """For _wrote_before: the stopped operation's moves of HEAD (hooks.head_steps) from its
    start until *ran* was taken, oldest first; None when that is not known."""
    from git_snapshot.hooks import head_steps

    head = ran.meta.get("head")
    if not isinstance(head, str) or not isinstance(when, (int, float)):
        return None
    moves = head_steps(repo.git_dir, when, (*_OWN_MOVES, b"am"))
    if head == orig and all(new != head for _, new in moves):
        # stopped before its first move (an am on its first patch); not a rebase whose moves
        # led HEAD back to *orig* before it stopped (its checkout of the base wrote, then
        # fast-forward picks: review41 RCF)
        return []
    steps = []
    for step in moves:
        steps.append(step)
        if step[1] == head:
            return steps
    # HEAD then is none of its moves': the user's own commit during the stop (`commit
    # --amend` at an `edit`, the usual reason to stop there; an --exec's commit; a reset),
    # whose writes are not the rebase's: its moves before that one (review41 RI: "not
    # known" left nothing out, and the user's changes at the stop were the rebase's)
    own = set(moves)
    steps = []
    for step in head_steps(repo.git_dir, when):
        if step[1] == head:
            return steps
        if step in own:
            steps.append(step)
    return None  # not reached by any move since it began: not known


def own_note(store: Store, repo: gitrepo.Repo) -> dict[str, Any] | None:
    """At the operation's own post-hook (OWN_REPORT: it reports what the operation destroyed,
    so :func:`consume` reports nothing): the note, read once, for :func:`held_since`, and
    cleared when it is this store's (:func:`_ours`) or torn. None: none, torn, another
    user's (0600, in a shared repository: left)."""
    path = _path(repo)
    try:
        note = _read(path)
    except PermissionError:
        return None
    if note is None or _ours(note, store, repo):
        with contextlib.suppress(OSError):  # torn: nothing to report; or reports itself
            os.unlink(path)
    return note


def held_since(
    store: Store, repo: gitrepo.Repo, note: Mapping[str, Any], before: Snapshot
) -> list[tuple[Snapshot, frozenset[bytes]]]:
    """At a rebase's post-rewrite that compares *before* (findlosses._before: the newest snapshot
    taken before the command that ended the rebase), when the noted rebase's snapshot is
    older (a rebase that stopped, and a snapshot taken during a stop: `git snapshot create`,
    the watcher's): that one and each of this worktree's snapshots taken since, before
    *before*, with the paths it holds that the rebase destroyed before the next of them was
    taken: the next no longer holds them as it does (findlosses.find_losses names those from it,
    hedged). Compared with *before* only, what the rebase wrote over or deleted before it
    stopped was named nowhere: *before* holds git's version, and the note, read by this
    post-rewrite, said nothing (fixF's note, session 41); nor what the user wrote at a first
    stop and a pick before the second destroyed (review41 RI). [] when there is no such
    note. The rules of :func:`_lost_before` (*ran* is the next snapshot): a path it holds as
    an untracked or ignored file of another version, or lacks, that none of the rebase's
    moves between the two wrote or deleted, the user changed during a stop (not its loss);
    after a snapshot taken during a stop, a tracked one too (an edit at an `edit` stop)."""
    from git_snapshot import identity
    from git_snapshot.errors import UserError
    from git_snapshot.hooks import step_paths
    from git_snapshot.lostfrom import _differs
    from git_snapshot.store.diff import diff_trees
    from git_snapshot.store.objects import DIR
    from git_snapshot.worktree import IGNORED
    from git_snapshot.worktree import UNTRACKED

    orig = note.get("orig")
    if note.get("snapshot") == before.id or not isinstance(orig, str) or not orig:
        return []  # (the usual rebase, which did not stop: no store query)
    if not _ours(note, store, repo):
        return []
    source = identity.source(store, repo)
    try:
        first = store.get(source, note["snapshot"])
    except UserError:
        return []  # pruned since
    if first.created >= before.created:
        return []
    own = identity.owner(repo)
    between = [
        s
        for s in store.snapshots(source, repo.toplevel)
        if first.created < s.created < before.created
        and s.id not in (first.id, before.id)
        and own(s)
    ]
    when = note.get("when")
    out = []
    done: list[tuple[str, str]] | None = []  # the moves before *snap* was taken
    chain = [first, *between, before]
    at: dict[object, list[tuple[str, str]] | None] = {}  # _steps_before by HEAD then
    for snap, then in zip(chain, chain[1:]):
        head = then.meta.get("head")
        if head not in at:
            at[head] = _steps_before(repo, then, orig, when)
        steps = at[head]
        if snap.root == then.root:
            done = steps
            continue
        wrote: set[bytes] | None = None  # what its moves between the two wrote, once asked
        asked = False
        paths = set()
        for c in diff_trees(store, snap.root, then.root):
            was, there = c.old, c.new
            if was is None or was.kind == DIR or not _differs(was, there):
                continue
            # (a tracked file the one the rebase began from holds is a commit's; one
            # taken during a stop may hold the user's edit, which they changed again)
            if snap is not first or there is None or there.label in (UNTRACKED, IGNORED):
                if not asked:
                    asked = True
                    if steps is not None and done is not None and steps[: len(done)] == done:
                        wrote = step_paths(repo, steps[len(done) :])
                if wrote is not None and c.path not in wrote:
                    continue  # the user's, during the stop
            paths.add(c.path)
        if paths:
            out.append((snap, frozenset(paths)))
        done = steps
    return out
