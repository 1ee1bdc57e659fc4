from __future__ import annotations

import contextlib
import copy
import os
import stat
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence

from git_snapshot import gitrepo
from git_snapshot import identity
from git_snapshot import output
from git_snapshot import restored
from git_snapshot import snapids
from git_snapshot import worktree
from git_snapshot.commands.common import Where
from git_snapshot.commands.common import around
from git_snapshot.commands.common import choose
from git_snapshot.commands.common import current_repo
from git_snapshot.commands.common import from_here
from git_snapshot.commands.common import here_in
from git_snapshot.commands.common import qualified
from git_snapshot.commands.common import refuse_other_store
from git_snapshot.commands.common import repo_at
from git_snapshot.commands.common import resolve_repo
from git_snapshot.commands.common import user_path
from git_snapshot.commands.lookup import earlier_holding
from git_snapshot.commands.lookup import from_top
from git_snapshot.commands.lookup import in_tree
from git_snapshot.commands.lookup import reach_options
from git_snapshot.commands.lookup import snapshot_path
from git_snapshot.commands.lookup import worktree_snaps
from git_snapshot.commands.remote import damage_advice
from git_snapshot.commands.remote import open_store
from git_snapshot.commands.remote import prefetch
from git_snapshot.errors import StoreFull
from git_snapshot.errors import UserError
from git_snapshot.store import Snapshot
from git_snapshot.store import Store
from git_snapshot.store.history import Trees
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.restore_guard import Guard
from git_snapshot.store.restore_plan import GIT
from git_snapshot.store.restore_plan import refuse_git_dir_on_way
from git_snapshot.store.restore_plan import refused_into
from git_snapshot.store.restorer import NEVER
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.restorer import Report
from git_snapshot.store.restorer import Restorer
from git_snapshot.store.restorer import Unwritable
from git_snapshot.store.restorer import keeps_mode
from git_snapshot.store.restorer import left_as_is
from git_snapshot.store.restorer import read_at
from git_snapshot.store.restorer import redo
from git_snapshot.store.restorer import split_path
from git_snapshot.store.safety import PRE_RESTORE
from git_snapshot.store.safety import restore_record
from git_snapshot.store.safety import unsaved
from git_snapshot.words import first_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

SHOWN = 20  # paths listed one per line before a count takes over


def refuse_git_dir(repo: gitrepo.Repo | None, target: str) -> None:
    """Restore never writes into a repository's git directory, not even with --to: neither
    the one it runs in nor the one holding *target*."""
    real = os.path.realpath(target)
    repos = [repo, _repo_holding(real)]
    for r in (r for r in repos if r is not None):
        for git_dir in {r.git_dir, r.common_dir, os.path.join(r.toplevel, ".git")}:
            top = os.path.realpath(git_dir)
            if real == top or real.startswith(top.rstrip("/") + "/"):
                _refuse_into(target, top)
    # any other repository's: no worktree holds a path inside a git dir, so none is found
    # above (RED32 B3: another repository's .git, a nested one's, a bare one)
    refuse_git_dir_on_way(target)


def _refuse_into(target: str, git_dir: str) -> None:
    raise UserError(refused_into(target, git_dir))


def _other_worktrees(repo: gitrepo.Repo | None, target: str, rels: list[bytes]) -> frozenset[bytes]:
    """The other worktrees of *repo* (linked ones, its main one) that lie below *target* and
    are there (their .git on disk), as paths in it: a restore of a folder holding one leaves it
    as it is (it has snapshots of its own; a restore of this worktree's snapshot writing over
    its files would rewind another checkout), unless one of *rels* (the named paths) is the
    worktree or lies in it. Read from the common dir's worktrees/*/gitdir (no git run)."""
    if repo is None:
        return frozenset()
    common = repo.common_dir
    tops = [os.path.dirname(common)] if os.path.basename(common) == ".git" else []
    base = os.path.join(common, "worktrees")
    with contextlib.suppress(OSError):
        for name in os.listdir(base):
            with contextlib.suppress(OSError), open(os.path.join(base, name, "gitdir"), "rb") as f:
                line = f.read().strip()
                if line:  # an absolute path, or one relative to its folder (relativePaths)
                    tops.append(os.path.dirname(os.path.join(base, name, os.fsdecode(line))))
    real = os.path.realpath(target)
    out = set()
    for top in tops:
        if not os.path.lexists(os.path.join(top, ".git")):
            continue  # gone (a restore brings its files back)
        top = os.path.realpath(top)
        if top == real or not top.startswith(real.rstrip("/") + "/"):
            continue
        rel = os.fsencode(top[len(real.rstrip("/")) + 1 :])
        if not any(p == rel or p.startswith(rel + b"/") for p in rels):
            out.add(rel)
    return frozenset(out)


def _repo_holding(path: str) -> gitrepo.Repo | None:
    """The worktree holding *path*, or its nearest existing parent (None: no worktree)."""
    while not os.path.isdir(path):
        path = os.path.dirname(path)
    return current_repo(path)


def _in_place(where: Where, snap: Snapshot, mine: gitrepo.Repo | None, here: bool) -> gitrepo.Repo:
    """The worktree a restore without --to writes into: the snapshot's own, when the command
    runs there; the current one with --here. Anything else is refused in one line."""
    if here:
        return mine or repo_at(".")  # outside a worktree: repo_at says so
    if (
        mine is not None
        and where.here
        and snap.worktree == mine.toplevel
        and identity.owns(mine, snap)  # (not a removed worktree's at this path: RED34 C3)
    ):
        return mine
    if not os.path.isdir(snap.worktree):
        gone = ", which no longer exists"
    elif where.worktree is None:  # the folder is there: another repository's now, or none
        gone = ", of a repository that no longer exists"
    else:
        gone = ""
    name = f"{where.label}:{snap.id}" if not where.here else str(snap.id)
    if mine is None:
        this = ""
    elif mine.toplevel == snap.worktree and where.here:
        this = " since removed from it (this worktree, at that path now, is another)"
    elif mine.toplevel == snap.worktree:  # rm -rf, then git init or clone there
        this = " (this worktree, at that path now, is another repository's)"
    else:
        this = f", not in this one ({mine.toplevel})"
    also = ", or into this worktree with --here" if mine is not None else ""
    raise UserError(
        f"snapshot {name} was taken in the worktree {snap.worktree}{gone}{this}: restore it "
        f"into a directory with --to DIR{also}"
    )


def _rel_paths(paths: Sequence[str], into: gitrepo.Repo | None, cwd: str) -> list[bytes]:
    """PATHs relative to the current directory, as in git, when it lies in the worktree the
    snapshot was taken in; else (a deleted or another repository) paths in the snapshot."""
    if into is not None:
        return [user_path(into, cwd, p) for p in paths]
    out = []
    for p in paths:
        norm = os.path.normpath(p)
        if os.path.isabs(norm) or norm == ".." or norm.startswith("../"):
            raise UserError(f"{p}: name a path inside the snapshot, as 'git snapshot show' lists")
        out.append(b"" if norm == "." else os.fsencode(norm))
    return out


def cmd_restore(
    *,
    cwd: str,
    snapshot_id: str,
    paths: Sequence[str] = (),
    to: str | None = None,
    dry_run: bool = False,
    delete: bool = False,
    repo_arg: str | None = None,
    here: bool = False,
    newest: bool = False,
    json_out: bool = False,
    remote: str | None = None,
    done: list[Snapshot | None] | None = None,
    this_store: bool = False,
) -> int:
    """Restore; a restore that wrote (not a dry run) appends its pre-restore snapshot (None:
    none was taken) to *done*, when given, even when damage made it exit 1."""
    if any(p == "" for p in paths):  # an unset "$FILE": never the whole tree (as git)
        raise UserError("restore: an empty string is not a path; name '.' for the whole tree")
    if to == "":  # an unset "$DIR": never the worktree itself, which no --to names
        raise UserError("restore: --to '' is empty; name the folder to restore into")
    if newest:  # restore --newest PATH...: the ID is the first PATH
        paths = [snapshot_id, *paths]
        snapshot_id = _newest_holding(cwd, paths, repo_arg, remote, to=to)
    else:
        _path_for_id(snapshot_id, paths)
    mine = current_repo(cwd)
    progress = output.Progress("restore")
    damaged: Damaged | None = None
    # the shared lock from the choice on: a gc (a prune or forget's, retention's after a hook)
    # waits until the chosen snapshot is read, instead of deleting its objects in between
    # (RED32 C1: a forget there made the restore call a sound store damaged)
    ran = [dry_run]  # whether the restore proper ran (its own line for an interrupt)
    with open_store(remote) as store, store.lock(), _stops_as_ctrl_c(lambda: not ran[0]):
        where, snap = choose(store, cwd, snapshot_id, repo_arg)
        if not this_store and remote is None and not newest:  # (--newest: no number typed)
            refuse_other_store(store, mine, snapshot_id, repo_arg, snap, "restore")
        into = None if to else _in_place(where, snap, mine, here)
        if remote is not None and into is not None and not dry_run:
            raise UserError(
                "restore --remote writes into a directory given with --to DIR (in place, the "
                f"worktree is snapshotted first into the local store: git snapshot pull {remote}, "
                "then restore)"
            )
        prefetch(store, snap)
        # PATHs name worktree paths relative to the current directory (as in git), with --to
        # too; DIR is relative to the current directory, which -C sets (as in git).
        mine_too = mine is not None and where.here and snap.worktree == mine.toplevel
        rels = _rel_paths(paths, into or (mine if mine_too else None), cwd)
        # in place, paths are printed as typed here (git status's way); with --to, in DIR
        cwd_in = here_in(into, cwd) if into is not None and into is mine else b""
        if into is not None and into is mine:  # a PATH it lacks: named as typed
            _typed_from_top(store, snap, cwd_in, paths, rels)
        target = into.toplevel if into else os.path.abspath(os.path.join(cwd, to or "."))
        refuse_git_dir(mine, target)
        safety = None
        since = time.time_ns()  # the pre-restore snapshot's start (its guard: RED40 E1)
        if not dry_run and into is not None:
            # a refused PATH takes no pre-restore snapshot
            Restorer(store, never=NEVER).refuse(snap, [split_path(p) for p in rels if p], target)
            # a pre-restore snapshot first, so that the restore can itself be undone; it
            # records what the restore writes from (a loss report after it names that one)
            record = _record(snap, into, rels, delete)
            again = record is not None and restored.again(store, snap, rels, delete)
            with _restore_not_done(store):
                safety = worktree.take(
                    store,
                    into,
                    trigger=PRE_RESTORE,
                    message=f"before restoring snapshot {snap.id}{' again' if again else ''}",
                    record=record,
                ).snapshot
        elif not dry_run and _holds_files(target):
            safety = _save_first(store, snap, rels, target, remote, mine)
        # a run again of a restore that stopped: the first run's pre-restore snapshot holds
        # what was there before it (RED34 D5)
        runs = restored.first_run(store, safety) if safety is not None else None
        # other worktrees of the repository lying in the target: their own snapshots' to restore
        apart = _other_worktrees(into or mine, target, rels)
        # elsewhere than in place, nothing holds a directory that is in the way, nor (no
        # worktree saved first) a file
        keep_files = bool(to) and not _saved_first(store, target, mine, into, safety, dry_run)

        def run(
            protect: frozenset[bytes], count: Callable[[int, int], None] | None
        ) -> tuple[Report, Damaged | None]:
            """The restore (or the dry run) leaving *protect* alone: what it did, the damage."""
            ran[0] = True
            restorer = Restorer(
                store,
                delete=delete,
                dry_run=dry_run,
                protect=protect,
                never=NEVER,
                apart=apart,
                replace_dirs=not to,
                keep_files=keep_files,
                progress=count,
                guard=None if dry_run else _guard(store, safety, since, target),
            )

            def held() -> str:
                assert safety is not None
                return restored.before(_names(store, mine, [snap, safety]), safety, runs)

            try:
                # what it wrote noted if it did not write all, a Stopped's line completed
                with restored.noting(store, safety, restorer, lambda: f"snapshot {held()}"):
                    return restorer.restore(snap, target, [p for p in rels if p] or None), None
            except Damaged as exc:
                return restorer.report, exc
            except Unwritable:  # named below, with everything the restore did
                return restorer.report, None
            except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the one line the command line prints
                if dry_run:
                    raise
                before = held() if safety is not None else None
                raise KeyboardInterrupt(_interrupted(restorer.began, before, to)) from None

        report, damaged = run(unsaved(safety, rels) if safety else frozenset(), progress.count_of)
        skipped = _skipped_of(safety)
        if dry_run:
            # no pre-restore snapshot is taken: what it would leave out (snapshot.exclude, a
            # cache dir) is kept, or, named, overwritten with no copy, as the restore would
            touched = [*report.updated, *report.deleted]
            if into is not None:
                skipped = _would_skip(into, touched)
            elif remote is None:
                skipped = _would_skip_to(store, target, mine, touched)
            # what it may not look at, the pre-restore snapshot could not read either
            skipped += [(p, "unreadable: Permission denied") for p in report.unreadable]
            if skipped:  # the same dry run, keeping what the restore keeps
                named = set(rels)
                report, damaged = run(frozenset(p for p, _ in skipped if p not in named), None)
        names = _names(store, mine, [snap] if safety is None else [snap, safety])
    progress.done()
    if done is not None and not dry_run:
        done.append(safety)
    if json_out:
        output.print_json(_json(report, snap, safety, target, dry_run, skipped))
        _warn_torn(snap, report, dry_run)
        if damaged is not None:
            output.err(f"{len(report.damaged)} damaged path(s) could not be restored")
        if report.unwritable:
            output.err(f"{len(report.unwritable)} path(s) could not be written")
        return 0 if damaged is None and not report.unwritable else 1
    _print_report(
        report,
        snap,
        safety,
        target,
        skipped,
        dry_run=dry_run,
        elsewhere=bool(to),
        names=names,
        here=cwd_in,
        before=restored.before(names, safety, runs) if safety is not None else None,
    )
    _warn_torn(snap, report, dry_run, cwd_in)
    if report.unwritable:
        _print_unwritable(report.unwritable, cwd_in)
    if damaged is None:
        return 1 if report.unwritable else 0
    shown = [(from_here(cwd_in, p), why) for p, why in report.damaged]
    output.print_damaged(shown, "restored", advice=damage_advice(store))
    return 1


def _record(
    snap: Snapshot, into: gitrepo.Repo, rels: list[bytes], delete: bool
) -> dict[str, Any] | None:
    """The pre-restore snapshot's record of this restore in place (safety.restore_record),
    when *snap* is the worktree's own: a report's ``restore N PATH`` pasted there brings its
    bytes back. (Another worktree's, restored with --here, is refused there without it:
    left unrecorded, as before.)"""
    if snap.worktree != into.toplevel:
        return None
    return restore_record(snap, rels, delete)


@contextlib.contextmanager
def _stops_as_ctrl_c(untouched: Callable[[], bool]) -> Iterator[None]:
    """SIGTERM and SIGHUP (a plain kill, an IDE's stop button, a closed terminal) stop a
    restore as Ctrl-C does: the file being put in place is finished or its temp name removed,
    and one line says what to do (RED32 C8: killed at once, it could leave a .gsnap-tmp-*
    file in the worktree). An interrupt while *untouched()* (before the restore proper: its
    pre-restore snapshot) says nothing was written. The handlers before are put back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield  # (signal handlers are the main thread's to set)
        return

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except KeyboardInterrupt as exc:
        if exc.args or not untouched():
            raise
        raise KeyboardInterrupt(_interrupted(False, None, None)) from None
    finally:
        for sig, handler in before.items():
            if handler is not None:  # (None: set outside Python, nothing to put back)
                signal.signal(sig, handler)


def _interrupted(began: bool, before: str | None, to: str | None) -> str:
    """The line for a restore stopped by Ctrl-C (or SIGTERM): whether it wrote, where what
    was there before is, and that the same command finishes it (what is written already is
    left as it is, unchanged, by the next run)."""
    if not began:
        return "restore interrupted before it wrote anything; run the same command again"
    where = f" into {_shown(to)}" if to else ""
    saved = f"; what was there before is in snapshot {before}" if before else ""
    return (
        f"restore interrupted: part of it is written{where} (no file half-written){saved}; "
        "run the same command again to finish"
    )


def _print_unwritable(unwritable: list[tuple[bytes, str]], here: bytes) -> None:
    """Each path the restore could not write, on a line of its own, then the last line
    (stderr): they are as they were, and how to restore them."""
    for path, why in unwritable[:SHOWN]:
        print(output.paint(f"NOT WRITTEN {output.display(from_here(here, path))}: {why}", "red"))
    if len(unwritable) > SHOWN:
        print(f"... and {len(unwritable) - SHOWN} more not written")
    output.err(
        f"{len(unwritable)} path(s) could not be written (listed above) and are as they "
        f"were, everything else was restored; {redo(unwritable)}"
    )


def _typed_from_top(
    store: Store, snap: Snapshot, here: bytes, typed: Sequence[str], rels: list[bytes]
) -> None:
    """A PATH typed in the folder *here* (b"": the top) that the snapshot lacks: one line
    naming it as typed (not from the top) with the log that finds its versions, or, when it is
    a path from the top (as `diff` and `show` print them), the path that works here."""
    trees = Trees(store)
    for word, rel in zip(typed, rels):
        if not rel or rel.split(b"/", 1)[0] in NEVER:  # the restorer refuses those itself
            continue
        with contextlib.suppress(CorruptObject):  # damage: the restore itself says it
            if trees.at(snap.root, rel) is not None:
                continue
            shown = output.display(os.fsencode(word))
            hint = from_top(word, here, lambda top: trees.at(snap.root, top) is not None)
            if hint:
                raise UserError(f"{shown} is not in snapshot {snap.id}{hint}")
            raise UserError(
                f"{shown} is not in snapshot {snap.id}; see the snapshots holding it with: "
                f"git snapshot log {output.path_args([os.fsencode(word)])}"
            )


def _warn_torn(snap: Snapshot, report: Report, dry_run: bool, here: bytes = b"") -> None:
    """A warning naming the files written that the snapshot read while they kept changing
    (stored as last read, CHANGED_WHILE_READ): what it holds of them may mix versions."""
    said = snap.meta.get("changed_while_read") or []
    if not said:
        return
    names = {os.fsencode(p) for p in said}
    torn = [p for p in [*report.created, *report.updated] if p in names]
    if torn:
        output.err(
            f"warning: {len(torn)} file(s) {'would be ' if dry_run else ''}restored as snapshot "
            f"{snap.id} read them while they kept changing: each may mix versions (a torn "
            f"read), e.g. {output.display(from_here(here, torn[0]))}"
        )


def _shown(path: str) -> str:
    """A directory's path in a line for people: a newline or an escape sequence in its name
    shown escaped, so that the line stays one line and drives no terminal."""
    return output.display(os.fsencode(path))


def _saved_first(
    store: Store,
    target: str,
    mine: gitrepo.Repo | None,
    into: gitrepo.Repo | None,
    safety: Snapshot | None,
    dry_run: bool,
) -> bool:
    """Whether what a restore into *target* overwrites is (a dry run: would be) in a
    pre-restore snapshot (_save_first, or the worktree *into*)."""
    if safety is not None or into is not None:
        return True
    if not dry_run or not _holds_files(target):
        return False
    return _saving_holder(store, os.path.realpath(target), mine) is not None


@contextlib.contextmanager
def _restore_not_done(store: Store) -> Iterator[None]:
    """A pre-restore snapshot refused for a full store disk says what that means for the
    restore (create's line said "nothing was stored"), and offers --to DIR, which writes
    nothing into the store (RED40 B F4)."""
    try:
        yield
    except StoreFull:
        raise UserError(
            f"restore not done: its pre-restore snapshot cannot be written, as the disk of the "
            f"snapshot store at {_shown(store.path)} is full; nothing in the worktree changed; "
            "free some space on that disk (git snapshot prune reclaims old snapshots), or "
            "restore elsewhere with --to DIR"
        ) from None


def _guard(store: Store, safety: Snapshot | None, since: int, target: str) -> Guard | None:
    """What the pre-restore snapshot *safety* (taken from *since* on) holds at *target* (its
    worktree, or a folder in it: --to DIR), which alone the restore may replace or remove
    (RED40 E1: an editor's save after it was overwritten, and was in no snapshot), but for
    what it left out (named, overwritten with a warning, as before)."""
    if safety is None:
        return None
    base = os.path.relpath(os.path.realpath(target), os.path.realpath(safety.worktree))
    root: bytes | None = safety.root
    if base != ".":
        root = None  # (not in it, or damaged: nothing there is known held)
        with contextlib.suppress(CorruptObject):
            e = Trees(store).at(safety.root, os.fsencode(base))
            root = e.ref if e is not None and e.kind == DIR else None
    return Guard.of(store, safety, root, since)


def _holds_files(target: str) -> bool:
    with contextlib.suppress(OSError):
        return os.path.isdir(target) and bool(os.listdir(target))
    return False


def _saving_holder(store: Store, real: str, mine: gitrepo.Repo | None) -> gitrepo.Repo | None:
    """The worktree holding the --to directory *real* that a restore there saves first
    (_save_first), or None."""
    holder = _repo_holding(real)
    if holder is None:
        return None
    ours = mine is not None and os.path.realpath(mine.toplevel) == os.path.realpath(holder.toplevel)
    if not ours:
        key = identity.known_source(store, holder)
        if key is None or not store.snapshots(key):
            return None
    return holder


def _would_skip_to(
    store: Store, target: str, mine: gitrepo.Repo | None, paths: list[bytes]
) -> list[tuple[bytes, str]]:
    """_would_skip for a --to directory lying in a worktree a restore there saves first:
    *paths* and the answer relative to the directory (UserError, as _save_first, when the
    directory itself would not be saved)."""
    real = os.path.realpath(target)
    holder = _saving_holder(store, real, mine) if _holds_files(target) else None
    if holder is None:
        return []
    base = os.fsencode(os.path.relpath(real, os.path.realpath(holder.toplevel)))
    if base == b".":
        return _would_skip(holder, paths)
    out = []
    for p, why in _would_skip(holder, [base, *(base + b"/" + p for p in paths)]):
        if p == base or base.startswith(p + b"/"):
            raise UserError(
                f"refusing to restore into {_shown(target)}: {output.display(p)} is not "
                f"snapshotted ({why}), so what the restore would overwrite could not be saved "
                "first; name a directory outside it"
            )
        out.append((p[len(base) + 1 :], why))
    return out


def _save_first(
    store: Store,
    snap: Snapshot,
    rels: list[bytes],
    target: str,
    remote: str | None,
    mine: gitrepo.Repo | None,
) -> Snapshot | None:
    """--to DIR where DIR is (in) a worktree is a restore in place by another name: what it
    overwrites is saved first, in a pre-restore snapshot of that worktree, returned with
    what it skipped as paths under DIR. None: DIR lies in no worktree, or in one that is
    neither the current one nor snapshotted already (a first snapshot of a whole home
    directory that a dotfiles repository covers is not what `--to ~/x` asks for)."""
    real = os.path.realpath(target)
    holder = _saving_holder(store, real, mine)
    if holder is None:
        return None
    if remote is not None:
        raise UserError(
            f"restore --remote into {_shown(target)}, which lies in the worktree "
            f"{_shown(holder.toplevel)}: "
            f"what it overwrites could not be saved first; git snapshot pull {remote}, then "
            "restore, or name a directory outside any worktree"
        )
    Restorer(store, never=NEVER).refuse(snap, [split_path(p) for p in rels if p], target)
    safety = worktree.take(
        store,
        holder,
        trigger=PRE_RESTORE,
        message=f"before restoring snapshot {snap.id} into {target}",
    ).snapshot
    base = os.fsencode(os.path.relpath(real, os.path.realpath(holder.toplevel)))
    if base == b".":
        return safety
    below = []
    for path, why in safety.meta.get("skipped_paths", []):
        p = os.fsencode(path)
        if base == p or base.startswith(p + b"/"):  # DIR itself could not be saved
            raise UserError(
                f"refusing to restore into {_shown(target)}: {output.display(p)} is not "
                f"snapshotted ({why}), so what the restore would overwrite could not be saved "
                "first; name a directory outside it"
            )
        if p.startswith(base + b"/"):
            below.append([os.fsdecode(p[len(base) + 1 :]), why])
    moved = copy.copy(safety)
    moved.meta = {**safety.meta, "skipped_paths": below}
    return moved


def _path_for_id(snapshot_id: str, paths: Sequence[str]) -> None:
    """``restore .env``: a first word that is no ID's form and does not start like one
    (a number, latest, @{, or a repository's label: 'myrepo:12') is refused with the
    command that restores it as a PATH."""
    if ":" in snapshot_id or snapshot_id.lstrip().startswith(("latest", "@", "-", *"0123456789")):
        return  # an ID, maybe mistyped: snapids says what is wrong with it
    try:
        snapids.parse(snapshot_id)
    except UserError:
        words = " ".join(output.shell_quote(os.fsencode(p)) for p in (snapshot_id, *paths))
        them = "them from the newest snapshot holding them all" if paths else "it from the newest"
        them += "" if paths else " snapshot holding it"
        raise UserError(
            f"{output.shell_quote(os.fsencode(snapshot_id))} is no snapshot ID (the ID comes "
            f"first, then the paths); to restore {them}: git snapshot restore --newest {words}"
        ) from None


def _newest_holding(
    cwd: str,
    paths: Sequence[str],
    repo_arg: str | None,
    remote: str | None = None,
    to: str | None = None,
) -> str:
    """The id of the newest snapshot of this worktree holding every one of *paths* (passing
    over those restore took itself, as ``latest`` does); in place (no *to*), over those too
    that hold each of them as the worktree does (a snapshot that saved the damage: restoring
    from it would give nothing back), unless none other holds them; then a pre-restore
    snapshot holding them otherwise is named on stderr (_passed_over), as it is in the error
    when only pre-restore snapshots hold them. Each command it prints keeps --repo,
    --remote and --to (*opts*): pasted without them, it restored in place what was asked for
    elsewhere, or from the local store's snapshot of that number (review40 RD1)."""
    in_place = not to
    opts = reach_options(repo_arg, remote) + (f" {output.option('--to', to)}" if to else "")
    with open_store(remote) as store, store.lock():
        where = resolve_repo(store, cwd, repo_arg)
        rels = [snapshot_path(where, cwd, p) for p in paths]
        snaps = worktree_snaps(store, where, rels, paths)
        chosen = snapids.passing_restores(snaps)
        trees = Trees(store)
        top = where.worktree if in_place and where.here else None
        disk = _OnDisk(top, trees)
        other, same = _newest_other(chosen, rels, trees, disk)
        if other is not None:
            return str(other.id)
        # the pre-restore snapshots passed over: one may hold the only other version (RED39
        # G2: the user's unsaved work, after a mistaken restore), named, never taken
        taken = {id(s) for s in chosen}
        passed = [s for s in snaps if id(s) not in taken]
        pre_other, pre_same = _newest_other(passed, rels, trees, disk)
        if same is not None:
            if pre_other is not None:
                output.err(_passed_over(pre_other, paths, opts, only=False))
            return str(same.id)
        held = pre_other or pre_same
        if held is not None:
            raise UserError(_passed_over(held, paths, opts, only=True))
        note = around(store, where.worktree) if where.here and where.worktree else ""
        there = earlier_holding(store, where, rels, paths)  # (RED34 C3)
        missing = [
            p
            for p, rel in zip(paths, rels, strict=True)
            if not any(in_tree(trees, s.root, rel) for s in snaps)
        ]
    if not missing:  # each is in some snapshot, never all in one
        words = "; ".join(
            f"git snapshot restore --newest {output.path_args([os.fsencode(p)])}{opts}"
            for p in paths
        )
        raise UserError(
            f"no one snapshot of this worktree holds all of {', '.join(paths)} (each is in "
            f"some); restore each from the newest holding it: {words}"
        )
    raise UserError(
        f"no snapshot of this worktree holds {', '.join(missing)}"
        + (
            _no_id(paths, missing, opts)
            or there
            or f"; look for {'it' if len(missing) == 1 else 'them'} by name with: "
            f"git snapshot find NAME{note}"
        )
    )


def _no_id(paths: Sequence[str], missing: Sequence[str], opts: str) -> str:
    """': --newest takes no ID ...' when a PATH no snapshot holds is written as an ID (RED40
    D1: ``restore --newest 1 a.txt``, the ID typed by habit, was said to be a path no
    snapshot holds, and a.txt with it); when it came first, with the command that restores
    the rest from that snapshot (*opts*: its --repo, --remote and --to). '' when none is."""
    ids = [p for p in missing if snapids.looks_like_id(p)]
    if not ids:
        return ""
    if ids[0] != paths[0] or len(paths) == 1:
        return ": --newest takes no ID"
    rest = output.path_args([os.fsencode(p) for p in paths[1:]])
    return (
        f": --newest takes no ID; to restore {', '.join(paths[1:])} from snapshot {paths[0]}: "
        f"git snapshot restore {output.shell_quote(os.fsencode(paths[0]))} {rest}{opts}"
    )


def _newest_other(
    snaps: list[Snapshot], rels: list[bytes], trees: Trees, disk: _OnDisk
) -> tuple[Snapshot | None, Snapshot | None]:
    """Of *snaps* (oldest first) holding every path of *rels*: the newest holding them
    otherwise than the worktree does (*disk*), and the newest holding them as it does."""
    same = None
    for s in reversed(snaps):
        found = [trees.at(s.root, rel) for rel in rels]
        if any(e is None for e in found):
            continue
        if not all(disk.same(rel, e) for rel, e in zip(rels, found, strict=True)):
            return s, same
        same = same or s
    return None, same


def _passed_over(pre: Snapshot, paths: Sequence[str], opts: str, only: bool) -> str:
    """The line naming the pre-restore snapshot *pre* that --newest passed over (it holds what
    a restore replaced: the newest of those may hold damage), with its command; *only*: no
    other snapshot holds the PATHs (else all hold them as the worktree does); *opts*: the
    --repo, --remote and --to restore was given."""
    shown = ", ".join(paths)
    words = output.path_args([os.fsencode(p) for p in paths])
    command = f"git snapshot restore {pre.id} {words}{opts}"
    if only:
        return (
            f"only pre-restore snapshots hold {shown}, which --newest passes over (each holds "
            f"what a restore replaced); the newest is pre-restore snapshot {pre.id}: {command}"
        )
    return (
        f"note: every snapshot but the pre-restore ones holds {shown} as the worktree does; "
        f"another version is in pre-restore snapshot {pre.id}, which --newest passes over "
        f"(each holds what a restore replaced): {command}"
    )


class _OnDisk:
    """Whether a restore of a snapshot's entry would leave what the worktree at *top* holds
    at its path as it is (store.restorer.left_as_is, the rule restore counts unchanged by):
    a folder when it is one there and everything the snapshot holds in it is left so (what
    it lacks a restore without --delete keeps; a .git there it never writes). Each path is
    looked at once, and read (hashed) once, only when an entry has its size; a folder's
    answer is kept by its tree key (unchanged across most snapshots)."""

    def __init__(self, top: str | None, trees: Trees) -> None:
        self.top = None if top is None else os.fsencode(top)
        self.trees = trees
        self.stats: dict[bytes, os.stat_result | None] = {}
        self.reads: dict[bytes, bytes | None] = {}
        self.folders: dict[tuple[bytes, bytes, int], bool] = {}

    def same(self, rel: bytes, e: Entry | None) -> bool:
        if self.top is None or e is None:
            return False
        if e.kind != DIR:
            return self._same_entry(rel, e)
        memo = (rel, e.ref, e.mode)  # (its mode is its parent's: not in its tree key)
        if memo not in self.folders:
            self.folders[memo] = self._same_folder(rel, e)
        return self.folders[memo]

    def _same_folder(self, rel: bytes, e: Entry) -> bool:
        if not self._same_entry(rel, e):
            return False
        base = rel + b"/" if rel else b""
        try:
            below = self.trees.below(e.ref, base)
        except CorruptObject:  # damage: restoring from it names it
            return False
        return all(
            self._same_entry(base + path, c) or self._git_there(base + path) for path, c in below
        )

    def _git_there(self, rel: bytes) -> bool:
        """Whether *rel* lies in a .git that is there (restore never writes into one)."""
        parts = rel.split(b"/")
        return any(
            part == GIT and self._stat(b"/".join(parts[: i + 1])) is not None
            for i, part in enumerate(parts)
        )

    def _same_entry(self, rel: bytes, e: Entry) -> bool:
        st = self._stat(rel)
        if st is None:
            return False
        if e.kind == DIR:  # a folder's mode too: a restore puts it back (RED34 C2)
            return stat.S_ISDIR(st.st_mode) and keeps_mode(e, st)
        return left_as_is(e, st, os.path.join(self.top or b"", rel), self._read)

    def _stat(self, rel: bytes) -> os.stat_result | None:
        """What is at *rel*, None when nothing is there as that path: a link (or a file) on
        its way is no folder holding it, even when the path reads through it; a restore
        replaces the link (RED39 G1: lstat of the whole path followed a link in a parent, and
        P/x read through P -> Q counted as the worktree's P/x)."""
        if rel not in self.stats:
            parent, _, _ = rel.rpartition(b"/")
            up = self._stat(parent) if parent else None
            if parent and (up is None or not stat.S_ISDIR(up.st_mode)):
                self.stats[rel] = None
            else:
                try:
                    self.stats[rel] = os.lstat(os.path.join(self.top or b"", rel))
                except OSError:
                    self.stats[rel] = None
        return self.stats[rel]

    def _read(self, path: bytes, st: os.stat_result, dir_fd: int | None) -> bytes | None:
        if path not in self.reads:
            try:
                self.reads[path] = read_at(path, st, dir_fd)
            except OSError:
                self.reads[path] = None
        return self.reads[path]


def _skipped_of(safety: Snapshot | None) -> list[tuple[bytes, str]]:
    """What the pre-restore snapshot *safety* left out, as (path, why)."""
    if safety is None:
        return []
    return [(os.fsencode(p), why) for p, why in safety.meta.get("skipped_paths", [])]


def _would_skip(repo: gitrepo.Repo, paths: list[bytes]) -> list[tuple[bytes, str]]:
    """What a snapshot of *repo* taken now would leave out of *paths* (each path, or the
    first folder on its way, that snapshot.exclude or a CACHEDIR.TAG keeps out), as the
    pre-restore snapshot's skipped_paths name them: what a --dry-run must count as such."""

    from git_snapshot.commands.diff import left_out_stat

    if not paths:
        return []
    skip = left_out_stat(repo)
    top = os.fsencode(repo.toplevel)
    out: dict[bytes, str] = {}
    kept: set[bytes] = set()  # folders looked at and kept: each lstat-ed and matched once
    for path in paths:
        parts = path.split(b"/")
        for i in range(1, len(parts) + 1):
            rel = b"/".join(parts[:i])
            if rel in out:
                break
            if rel in kept:
                continue
            try:
                st: os.stat_result | None = os.lstat(top + b"/" + rel)
            except OSError:
                st = None
            if st is None:
                break  # not on disk: nothing there to save
            if skip(rel, st):
                out[rel] = _why_left_out(top + b"/" + rel, st)
                break
            if i < len(parts):
                kept.add(rel)
            elif stat.S_ISDIR(st.st_mode):
                # a folder deleted or replaced whole: what it holds that a snapshot leaves out
                # keeps it (the pre-restore snapshot names those paths, the restore keeps them)
                _left_out_below(top, rel, skip, out)
    return sorted(out.items())


def _why_left_out(full: bytes, st: os.stat_result) -> str:
    """Why a snapshot leaves out what is at *full*, in the words of its skipped_paths."""

    if stat.S_ISDIR(st.st_mode):
        tagged = os.path.isfile(full + b"/CACHEDIR.TAG")
        return "cache directory (CACHEDIR.TAG)" if tagged else "excluded"
    if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
        return "excluded"
    return (
        "fifo"
        if stat.S_ISFIFO(st.st_mode)
        else "socket"
        if stat.S_ISSOCK(st.st_mode)
        else ("special file")
    )


def _left_out_below(
    top: bytes,
    rel: bytes,
    skip: Callable[[bytes, os.stat_result | None], bool],
    out: dict[bytes, str],
) -> None:
    """Add to *out* each path below the folder *rel* that *skip* leaves out (not below one)."""

    todo = [rel]
    while todo:
        folder = todo.pop()
        try:
            with os.scandir(top + b"/" + folder) as it:
                found = [(e.name, e.stat(follow_symlinks=False)) for e in it]
        except OSError:
            continue  # unreadable: the restore's own listing says so
        for name, st in found:
            path = folder + b"/" + name
            if skip(path, st):
                out[path] = _why_left_out(top + b"/" + path, st)
            elif stat.S_ISDIR(st.st_mode):
                todo.append(path)


def _json(
    report: Report,
    snap: Snapshot,
    safety: Snapshot | None,
    target: str,
    dry_run: bool,
    skipped: list[tuple[bytes, str]],
) -> dict[str, Any]:
    def paths(items: list[bytes]) -> list[str]:
        return [os.fsdecode(p) for p in items]

    return {
        "snapshot": snap.id,
        "target": target,
        "dry_run": dry_run,
        "created": paths(report.created),
        "updated": paths(report.updated),
        "deleted": paths(report.deleted),
        "unchanged": report.unchanged,
        "kept": paths(report.kept),
        "refused": paths(report.refused),
        # a .git below the top, another worktree: there, so left as they are
        "git_dirs": paths(report.git_dirs),
        "git_kept": paths(report.git_kept),
        "worktrees": paths(report.worktrees),
        "damaged": [{"path": os.fsdecode(p), "why": why} for p, why in report.damaged],
        "unwritable": [{"path": os.fsdecode(p), "why": why} for p, why in report.unwritable],
        # restored (or left) without the set-id bits the snapshot holds: never given back
        "setid_left_off": paths(report.setid),
        "pre_restore": safety.id if safety is not None else None,
        # overwritten or deleted, but in no snapshot: the pre-restore one could not hold them
        "not_saved": [
            {"path": os.fsdecode(p), "why": why} for p, why in _unsaved_overwritten(report, skipped)
        ],
    }


def _names(
    store: Store, mine: gitrepo.Repo | None, snaps: list[Snapshot]
) -> Callable[[Snapshot], str]:
    """How the report names *snaps*: by number when of the repository the command runs in,
    else qualified (``name:12``) as restore takes them here: a restore from the repository
    that was at this path before, or into another worktree, names two snapshots of two
    repositories, which may have the same number."""
    here = identity.known_source(store, mine) if mine is not None else None
    labels = qualified(store, snaps)

    def name(s: Snapshot) -> str:
        if s.source == here:
            return str(s.id)
        return f"{labels.get(s.source) or identity.tagged(s.source)}:{s.id}"

    return name


def _print_report(
    report: Report,
    snap: Snapshot,
    safety: Snapshot | None,
    target: str,
    skipped: list[tuple[bytes, str]],
    *,
    dry_run: bool,
    elsewhere: bool,
    names: Callable[[Snapshot], str] = lambda s: str(s.id),
    here: bytes = b"",
    before: str | None = None,
) -> None:
    """The lines of a restore's report: its paths as typed in the folder *here* (from the
    target's top); *before*: the snapshot(s) holding what was there before
    (restored.before), when other than *safety*."""

    def _some(paths: list[bytes], n: int = 5) -> str:
        return first_of([output.display(from_here(here, p)) for p in paths], n)

    verb = "would " if dry_run else ""
    for label, items in (
        ("create", report.created),
        ("update", report.updated),
        ("delete", report.deleted),
    ):
        if dry_run or len(items) <= SHOWN:
            for p in items:
                print(f"{verb}{label} {output.display(from_here(here, p))}")
    unsaved_kept = [p for p in report.kept if _under_any(p, skipped)]
    in_the_way = [p for p in report.kept if not _under_any(p, skipped)]
    if elsewhere and in_the_way:
        print(
            f"kept {len(in_the_way)} path(s) in the way that no snapshot holds (remove them and "
            f"restore again, or restore into an empty folder): {_some(in_the_way)}"
        )
    kept = unsaved_kept if elsewhere else report.kept
    if not elsewhere:  # what it may not read is in the snapshot, maybe: its content now is not
        unread = [p for p in kept if _under_unreadable(p, skipped)]
        kept = [p for p in kept if p not in unread]
        if unread:
            print(
                f"kept {len(unread)} path(s) that cannot be read, so the pre-restore snapshot "
                f"cannot save what they hold now (name a path to overwrite it): {_some(unread)}"
            )
    if kept:
        why = (
            "that no snapshot holds, or folders holding one (name a path to overwrite "
            "it, a folder with --delete to replace what it holds)"
        )
        print(f"kept {len(kept)} path(s) {why}: {_some(kept)}")
    if report.store:
        print(f"left the snapshot store alone, which lies at: {_some(report.store)}")
    if report.refused:
        print(f"left out {len(report.refused)} path(s) under .git: {_some(report.refused)}")
    if report.git_dirs:  # each as the top one: the snapshot's copy only elsewhere
        first = from_here(here, report.git_dirs[0])
        are = "it is" if len(report.git_dirs) == 1 else "they are"
        print(
            f"left {_some(report.git_dirs)} as {are} (a nested repository's or worktree's "
            ".git: restore never writes one that is there); the snapshot's copy: "
            f"git snapshot restore {names(snap)} "
            f"{output.path_args([first])} --to DIR"
        )
    if report.git_kept:
        print(
            f"kept {_some(report.git_kept)}, which the snapshot does not hold (a nested "
            "repository's or worktree's .git: restore never deletes one), and the folders "
            "holding it"
        )
    if report.worktrees:
        first = from_here(here, report.worktrees[0])
        them = "it" if len(report.worktrees) == 1 else "one"
        print(
            f"left {_some(report.worktrees)} as "
            f"{'it is' if len(report.worktrees) == 1 else 'they are'} (another worktree of "
            f"this repository, with snapshots of its own); to restore {them} from this "
            f"snapshot, name it: git snapshot restore {names(snap)} {output.path_args([first])}"
        )
    if report.setid:
        left = "would leave" if dry_run else "left"
        print(output.setid_line(left, len(report.setid), _some(report.setid)))
    where = f" into {_shown(target)}" if elsewhere else ""
    n = len(report.created) + len(report.updated)
    head = "would restore" if dry_run else "restored"
    entries = "entry" if n == 1 else "entries"
    line = f"{head} {n} {entries} from snapshot {names(snap)}{where} ({report.unchanged} unchanged"
    if report.deleted:
        line += f", {len(report.deleted)} deleted"
    line += ")"
    gone = _unsaved_overwritten(report, skipped)
    if safety is not None:
        line += f"; what was there before is in snapshot {before or names(safety)}"
        if gone:
            line += f", except {len(gone)} path(s) it could not hold (below)"
    print(line)
    if gone:  # named, so overwritten: but the pre-restore snapshot holds no copy of them
        shown = first_of([f"{output.display(from_here(here, p))} ({why})" for p, why in gone], 5)
        if dry_run:
            output.err(
                f"warning: what {shown} holds now would be in no snapshot (the "
                "pre-restore snapshot cannot save it): the restore would overwrite it"
            )
        else:
            output.err(
                f"warning: what {shown} held before is in no snapshot (the pre-restore "
                "snapshot could not save it): it was overwritten"
            )


def _unsaved_overwritten(
    report: Report, skipped: list[tuple[bytes, str]]
) -> list[tuple[bytes, str]]:
    """The paths this restore overwrote or deleted that its pre-restore snapshot skipped
    (*skipped*: snapshot.exclude, a cache dir, an unreadable file): named by the user, so
    written, but not in that snapshot, so not undoable (each with why it was skipped)."""
    if not skipped:
        return []
    out = []
    for path in (*report.updated, *report.deleted):
        for s, why in skipped:
            if path == s or path.startswith(s + b"/"):
                out.append((path, why))
                break
    return out


def _under_unreadable(path: bytes, skipped: list[tuple[bytes, str]]) -> bool:
    """Whether *path* is one of the *skipped* paths that could not be read, or lies below one
    (RED39 C4: "that no snapshot holds" was said of it, which its restore's snapshot holds)."""
    return any(
        why.startswith("unreadable") and (path == s or path.startswith(s + b"/"))
        for s, why in skipped
    )


def _under_any(path: bytes, skipped: list[tuple[bytes, str]]) -> bool:
    """Whether *path* is one of the *skipped* paths, lies below one, or holds one."""
    for s, _ in skipped:
        if path == s or path.startswith(s + b"/") or s.startswith(path + b"/"):
            return True
    return False
