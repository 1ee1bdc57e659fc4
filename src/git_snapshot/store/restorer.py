"""Restore a snapshot, or some of its paths, into a directory.

Stored paths are untrusted: every tree is checked (store.validate) before anything is written,
every file is opened relative to a directory file descriptor with O_NOFOLLOW, so a restore
never leaves its target, never writes through a symlink, and never creates device files or
set-id bits. It never writes into the names it is told to leave alone (a repository's .git),
nor into a ``.git`` below the top that is there (a nested repository's or worktree's: one that
is gone is restored whole, the snapshot being its only copy), nor into the other worktrees it
is told of, and never writes, replaces or deletes the snapshot store, wherever that lies.

Damaged content does not stop a whole-tree restore: everything intact is written, and the
damaged paths are named at the end (Damaged, a UserError, so no caller can miss them).
"""

from __future__ import annotations

import contextlib
import errno
import operator
import os
import sqlite3
import stat
import threading
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable

from git_snapshot.ctx import gc_paused
from git_snapshot.errors import UserError
from git_snapshot.store import forked
from git_snapshot.store import leftovers
from git_snapshot.store import restore_locs
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.restore_guard import CHANGED
from git_snapshot.store.restore_guard import CREATED
from git_snapshot.store.restore_guard import Guard
from git_snapshot.store.restore_guard import ReadAt
from git_snapshot.store.restore_guard import holds as holds
from git_snapshot.store.restore_guard import moved
from git_snapshot.store.restore_guard import read_at as read_at
from git_snapshot.store.restore_guard import unmoved
from git_snapshot.store.restore_plan import GIT
from git_snapshot.store.restore_plan import LOCATED_MAX
from git_snapshot.store.restore_plan import PARALLEL_MIN
from git_snapshot.store.restore_plan import WHOLE
from git_snapshot.store.restore_plan import Planning
from git_snapshot.store.restore_write import _NOWHERE
from git_snapshot.store.restore_write import _SAFE_MODE
from git_snapshot.store.restore_write import JOB_DIRS
from git_snapshot.store.restore_write import Writing
from git_snapshot.store.restore_write import _can_fork
from git_snapshot.store.restore_write import _Dir
from git_snapshot.store.restore_write import _Done
from git_snapshot.store.restore_write import _Item
from git_snapshot.store.restore_write import _Loc
from git_snapshot.store.restore_write import _native
from git_snapshot.store.restore_write import _proc_fds
from git_snapshot.store.restore_write import _unnamed
from git_snapshot.store.restore_write import _work
from git_snapshot.store.restore_write import _Workers
from git_snapshot.store.restore_write import _write_sparse
from git_snapshot.store.restore_write import share_out
from git_snapshot.store.validate import show
from git_snapshot.words import first_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:  # concurrent.futures (8 ms with logging) only where writer threads run
    from concurrent.futures import Future
    from concurrent.futures import ThreadPoolExecutor

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
JOB_FILES = 1024  # new files per job handed to a writer thread (of any directories)
JOBS_PER_THREAD = 3  # jobs in flight per writer thread: the rest wait for the oldest
JOB_BYTES = 192 << 10  # names and link targets per job (one message to a writer process)
NEVER = frozenset({b".git"})

ADVICE = (
    "see every damaged object with: git snapshot verify --read-data; the next snapshot "
    "stores intact copies again of the files that are still in the worktree"
)


class Report:
    """What a restore did. A plain class, not a dataclass: dataclasses (with inspect and
    ast, ~10 ms) was the restore's costliest import. Compared and shown as a dataclass was,
    by the attributes __init__ makes, in its order (one list of them: a field added there
    is compared and shown too)."""

    def __init__(self) -> None:
        self.created: list[bytes] = []
        self.updated: list[bytes] = []
        self.deleted: list[bytes] = []
        self.unchanged = 0
        self.kept: list[bytes] = []  # in the way, but not ours to remove
        self.files = 0  # files and symlinks written (created or updated)
        self.damaged: list[tuple[bytes, str]] = []  # not restored, and why
        self.store: list[bytes] = []  # the snapshot store (or its way) is there
        self.refused: list[bytes] = []  # held by the snapshot, never written
        # a .git below the top that is there (a nested repository's, a worktree's), left as
        # it is as the top one; held by the snapshot too
        self.git_dirs: list[bytes] = []
        # such a .git the snapshot does not hold, in a folder --delete (or a file's way)
        # empties: kept, with the folders holding it
        self.git_kept: list[bytes] = []
        # other worktrees of the repository lying in the target (Restorer's *apart*), left
        # as they are: they have snapshots of their own
        self.worktrees: list[bytes] = []
        # paths that could not be written (a file in the way with chattr +i, a folder that
        # refuses the user: EPERM/EACCES), left as they were, and why
        self.unwritable: list[tuple[bytes, str]] = []
        # written (or left) without set-id bits the snapshot holds (restored_mode): never
        # counted unchanged, and said (RED32 B5)
        self.setid: list[bytes] = []
        # a dry run's: paths it may not look at (in a folder listed but not searched), which
        # the pre-restore snapshot cannot read either, so the restore keeps them (RED32 C7)
        self.unreadable: list[bytes] = []

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        got = ", ".join(f"{n}={v!r}" for n, v in vars(self).items())
        return f"Report({got})"


class Damaged(CorruptObject):
    """Some paths could not be restored or exported because their stored data is damaged or
    missing; everything else was written. *report* says what was done."""

    def __init__(
        self,
        damaged: list[tuple[bytes, str]],
        verb: str,
        report: Report | None = None,
        written: int = 0,
    ) -> None:
        self.damaged = damaged
        self.report = report
        self.written = written  # entries written (export)
        first = first_of([show(p) or "." for p, _ in damaged])
        super().__init__(
            f"{len(damaged)} damaged path(s) could not be {verb} ({first}), everything "
            f"intact was; {ADVICE}"
        )


class Unwritable(UserError):
    """Some paths could not be written (a file in the way immutable, a folder that refuses
    the user); they are as they were and everything else was written. *report* says what was
    done."""

    def __init__(self, report: Report) -> None:
        self.report = report
        gone = report.unwritable
        first = first_of([f"{show(p)} ({why})" for p, why in gone])
        super().__init__(
            f"{len(gone)} path(s) could not be written and are as they were: {first};"
            f" everything else was restored; {redo(gone)}"
        )


# what lets a restore write a path it could not
WRITABLE = "give yourself access to them and their folders (chmod u+rwX, chattr -i)"


def redo(unwritable: list[tuple[bytes, str]]) -> str:
    """What writes the *unwritable* paths: access to them, or (changed while the restore
    ran: RED40 E1) the same command again, whose pre-restore snapshot saves them first."""
    changed = sum(why in (CHANGED, CREATED) for _, why in unwritable)
    again = "run the same command again: its pre-restore snapshot saves what they hold first"
    if changed == len(unwritable):
        return again
    return f"{WRITABLE}, then restore them again" + (f" ({again})" if changed else "")


class Stopped(UserError):
    """The restore stopped part way on an error writing (a full disk, a folder it may not
    write): what it wrote is in place, nothing half-written. Its line is the command's to
    complete: an in-place restore's names the pre-restore snapshot holding what it wrote
    over (RED34 D5)."""


class NotAllRestored(UserError):
    """Some paths of the snapshot were left as they were in the target (what the pre-restore
    snapshot could not save, a repository's .git that is there, the store); everything else
    was written. *report* says what was done. (The API's: a script cannot read the command's
    "kept N path(s) in the way" line, RED31.)"""

    def __init__(self, report: Report, kept: list[bytes]) -> None:
        self.report = report
        left = [
            *((p, "in the way, holding what no snapshot could save") for p in kept),
            *((p, "a repository's .git, there already") for p in report.git_dirs),
            *((p, "the snapshot store") for p in report.store),
            *((p, "another worktree") for p in report.worktrees),
            *((p, "never written here") for p in report.refused),
        ]
        first = first_of([f"{show(p) or '.'} ({why})" for p, why in left])
        super().__init__(
            f"{len(left)} path(s) were not restored and are as they were: {first}; "
            f"everything else was restored ({report.files} file(s) written)"
        )

    @staticmethod
    def check(restorer: Restorer, snap: Snapshot) -> None:
        """Raise it when *restorer* left a path *snap* holds as it was in the target (not an
        extra that --delete kept: that one is no path of the snapshot's)."""
        report = restorer.report
        kept = [p for p in report.kept if restorer.holds(snap, p)]
        if kept or report.git_dirs or report.store or report.worktrees or report.refused:
            raise NotAllRestored(report, kept)


def split_path(path: str | bytes) -> list[bytes]:
    """A user-given path inside the snapshot as checked components."""
    raw = os.fsencode(path).strip(b"/")
    parts = [p for p in raw.split(b"/") if p not in (b"", b".")]
    if not parts:
        return []
    if b".." in parts:
        raise UserError(f"bad path {show(raw)!r}: paths inside a snapshot cannot use '..'")
    return parts


def restored_mode(e: Entry) -> int:
    """The mode bits a restore gives *e*: its own and the sticky bit, never set-uid, set-gid
    only on a folder others cannot write into (RED32 B5). Set-gid on a folder gives no
    privilege at exec: it sets the group of what is made in it (the 2775 shared-group
    folder), a group the restoring user is in (else chmod clears it); where anyone may write,
    such a folder is what kernel bugs of set-gid inheritance were exploited through."""
    mode = e.mode & _SAFE_MODE
    if e.kind == DIR and e.mode & _SETGID_DIR == stat.S_ISGID:
        mode |= stat.S_ISGID
    return mode


_SETGID_DIR = stat.S_ISGID | stat.S_IWOTH  # set-gid, and whether others may write


def left_off(e: Entry) -> int:
    """The set-id bits of *e* that a restore does not give it (restored_mode)."""
    return e.mode & 0o7777 & ~restored_mode(e) if e.mode & 0o6000 else 0


def keeps_mode(e: Entry, st: os.stat_result) -> bool:
    """Whether what lstat found (*st*) has the mode a restore gives the file or folder *e*
    (a symlink's is not its own: always), or its own whole (set-id bits there already: left
    as they are)."""
    if e.kind == SYMLINK:
        return True
    mode = stat.S_IMODE(st.st_mode)
    return mode == restored_mode(e) or mode == e.mode & 0o7777


def left_as_is(e: Entry, st: os.stat_result, name: bytes, read: ReadAt) -> bool:
    """Whether a restore of *e* over what lstat found (*st*) at *name* leaves it as it is,
    its mtime aside: the same content (holds) with the mode the restore gives it
    (keeps_mode). ``restore`` counts such a path unchanged; ``restore --newest`` passes over
    a snapshot holding every PATH so (restoring from it would change nothing)."""
    return keeps_mode(e, st) and holds(e, st, name, None, read)


def store_parts(store: Store) -> tuple[tuple[int, int], set[tuple[int, int]]]:
    """(the store's own directory, everything that must stay for the store to stay where
    it is found: the directory, the directories above it and the symlinks on its way)."""
    st = os.stat(store.path)
    root = (st.st_dev, st.st_ino)
    keep = {root}
    for path in {os.path.abspath(store.path), os.path.realpath(store.path)}:
        parts = path.split("/")
        for i in range(2, len(parts) + 1):
            try:
                pst = os.lstat("/".join(parts[:i]))
            except OSError:
                continue
            keep.add((pst.st_dev, pst.st_ino))
    return root, keep


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


class Restorer(Planning, Writing):
    """A restore: its plan (store/restore_plan.py), the careful way for what is in the way, the
    jobs handed to the writers (store/restore_write.py), the report."""

    def __init__(
        self,
        store: Store,
        *,
        delete: bool = False,
        dry_run: bool = False,
        protect: frozenset[bytes] = frozenset(),
        never: frozenset[bytes] = NEVER,
        apart: frozenset[bytes] = frozenset(),
        replace_dirs: bool = True,
        keep_files: bool = False,
        progress: Callable[[int, int], None] | None = None,
        threads: int | None = None,
        processes: bool | None = None,
        guard: Guard | None = None,
    ) -> None:
        """*progress* is told (files done, files selected) as it goes. *protect*: relative
        paths never deleted or overwritten (what the pre-restore snapshot could not save); the
        directories that hold them are never removed either. *never*: top-level names never
        written, replaced or deleted, even when named (a repository's .git); a ``.git``
        below the top is never written, replaced or deleted either when it is there.
        *apart*: folders (other worktrees of the repository) that a restore of a folder
        holding them leaves as they are, not deleted, written nor replaced; named (or a path
        below), one is restored. *replace_dirs*: whether a non-empty directory in the way of
        a file may be removed (in place, the pre-restore snapshot holds it; elsewhere
        nothing does). *keep_files*: whether a file or symlink in the way whose content is
        not the snapshot's is kept (elsewhere than in a worktree saved first, nothing holds
        it). *threads*: writer threads for new files (None: one per CPU, at most 4, when at
        least PARALLEL_MIN files are restored; 0: none). *processes*: whether the writers
        are forked processes (None: on Linux, when no other thread runs here), which share
        no GIL, or threads. *guard*: the pre-restore snapshot (in place): only what it holds
        as it is on disk is replaced or removed (RED40 E1)."""
        self.store = store
        self.guard = guard
        self.delete = delete
        self.dry_run = dry_run
        self.never = never
        self.target: str | None = None  # once restore() runs
        self.apart = apart
        self.protect = protect | never
        self.guarded = self.protect | {
            p[:i] for p in protect | apart for i in range(len(p)) if p[i : i + 1] == b"/"
        }
        self.replace_dirs = replace_dirs
        self.keep_files = keep_files
        self.progress = progress
        self.total = 0  # files (not folders) of the selection, counted while planning
        self.total_hint = 0  # files of the snapshot (whether sharing the plan pays)
        # the plan's folders left to this process, small contents met, the child checking
        # the others, and the root, once _share has forked it
        self.early = None
        self.idle = None
        self.collect = True  # the contents to locate are gathered (not in a planning child)
        self.done = 0
        self.report = Report()
        self.began = False  # whether it began to write (what an interrupt leaves: the command)
        self.store_root, self.store_keep = store_parts(store)
        self.at = b""  # the path being written, for an error message
        self.trees: dict[bytes, bytes] = {}  # checked while planning, for writing (TREE_BYTES)
        self._cached = 0
        self.umask = _umask()
        self.unnamed = True  # files written with no name first (O_TMPFILE): see _write_entry
        self.proc_fd = -1  # /proc/self/fd, open while writing (Writing._link_unnamed)
        self.temps: leftovers.Run | None = None  # its temp names' record, while restore() runs
        self.threads = threads
        self.processes = processes
        self.workers: _Workers | None = None
        # writer threads, one pool of one thread each (share_out gives each its part of a
        # job), and what each was given so far and the writer of each group met
        self.pools: list[ThreadPoolExecutor] = []
        self.load: list[int] = []
        self.owner: dict[tuple[str, int], int] = {}
        self.jobs_max = 0  # jobs in flight before the oldest is waited for
        self.dirs_max = JOB_DIRS  # folders a job may write into (_job_dirs)
        self.want: set[bytes] = set()  # contents of the files read whole (located at once)
        # where they lie (looked up before writing), or where every object lies (_scan)
        self.locs: dict[bytes, _Loc] | restore_locs.Located = {}
        self.job: list[_Item] = []  # new files not handed out yet
        self.job_unlocated = False  # some of them not located yet (_locate)
        self.job_bytes = 0  # their names and link targets
        self.job_dirs: list[_Dir] = []  # the directories they go into
        # jobs handed to the threads, oldest first, with what they write and the directories
        # they write into (writer processes keep their own: _Workers)
        self.running: deque[tuple[Future[_Done], list[_Item], list[_Dir]]] = deque()
        self.taking: list[_Item] = []  # the files of the job being taken (_drain)
        self.open: set[_Dir] = set()  # directories this restore holds open (closed on errors)
        # parent folders of named paths to give their mode (and mtime) once all is written:
        # path -> (mode, mtime or None, the mode it was left with or None), reopened then
        # (one descriptor each would run out); see _parents
        self.parents_back: dict[bytes, tuple[int, int | None, int | None]] = {}
        self.top = -1  # the target, open while writing
        self.named: set[bytes] = set()  # the named folders (_Dir gives them their modes)
        self._local = threading.local()  # each writer thread's zstd contexts
        # contents of more than one file of the selection (a LICENSE, an empty index.js), as
        # the writers read them: each later file of the same content takes it from here
        # instead of decompressing its group again (on M: 31 contents for 1,713 files,
        # which made 328 group decompressions of 232 groups)
        self.shared: set[bytes] = set()
        self.kept: dict[bytes, bytes] = {}
        self.kept_bytes = 0

    # -- execution --------------------------------------------------------------------------

    def restore(self, snap: Snapshot, target: str, paths: list[str | bytes] | None) -> Report:
        """Restore *paths* of *snap* (all of it: None or []) into *target*; raises Damaged,
        after writing everything else, when some paths' data is damaged or missing."""
        selections = [split_path(p) for p in paths] if paths else [[]]
        with gc_paused():  # no cycles are made here: collections would only rescan the trees
            # the record of the temp names it gives (made before the writer processes fork)
            self.temps = None if self.dry_run else leftovers.Run(self.store.path)
            try:
                with self.store.lock():  # no concurrent gc moves objects while we read them
                    self._restore(snap, target, selections)
            finally:
                # the locations (M's: 70k tuples) dropped while the collector is off: kept,
                # they were in its youngest generation (no collection ran) when it came back
                # on, and its first collection went through them all (10-18 ms on M, after
                # the last write, the writers done)
                self.locs = {}
                if self.temps is not None:
                    self.temps.close()
        if self.report.damaged:
            raise Damaged(self.report.damaged, "restored", self.report)
        if self.report.unwritable:
            raise Unwritable(self.report)
        return self.report

    def _restore(self, snap: Snapshot, target: str, selections: list[list[bytes]]) -> None:
        n = self.threads if self.threads is not None else min(os.cpu_count() or 1, 4)
        forking = self.processes if self.processes is not None else _can_fork()
        if (
            n > 1
            and forking
            and selections == [[]]
            and not self.dry_run
            and (self.threads or snap.files >= PARALLEL_MIN)
        ):
            # writer processes forked before the plan hold none of its memory (the checked
            # trees, the locations): forked after it, each started as big as this process
            # (peak RSS of a restore of L: 156 MB, a writer's)
            self.idle = forked.idle_core()  # (restore_plan._splitting: before they start)
            self.workers = _Workers(self, n)
        top = -1
        self.target = target
        try:
            found = self._prepare(snap, selections)
            top = self.top = self._open_target(target)
        except BaseException:
            self._stop()
            raise
        parallel = n > 1 and not self.dry_run and (self.threads or self.total >= PARALLEL_MIN)
        if not self.locs and not self.dry_run and PARALLEL_MIN <= len(self.want) <= LOCATED_MAX:
            self._locate_all()
        self.want = set()
        try:
            if self.workers is not None:
                self.jobs_max = n * JOBS_PER_THREAD
            elif parallel:
                self.jobs_max = n * JOBS_PER_THREAD
                if forking:
                    self.workers = _Workers(self, n)
                else:
                    from concurrent.futures import ThreadPoolExecutor

                    self.pools = [
                        ThreadPoolExecutor(1, thread_name_prefix="restore") for _ in range(n)
                    ]
                    self.load = [0] * n
            self.dirs_max = _job_dirs(self.jobs_max)
            if not self.dry_run:  # before any writer thread starts: opened once
                self.proc_fd = _proc_fds()
                self.began = True
            self._write(snap, top, found)
        except _Failed as failed:
            self.at = failed.path
            raise Stopped(self._failed(target, failed.error)) from failed.error
        except OSError as exc:
            raise Stopped(self._failed(target, exc)) from exc
        finally:
            self._stop()
            if top >= 0:
                os.close(top)
            self.top = -1
            if self.proc_fd >= 0:
                os.close(self.proc_fd)
            self.proc_fd = -1

    def _write(
        self, snap: Snapshot, top: int, found: list[tuple[list[bytes], list[Entry], Entry | None]]
    ) -> None:
        self.named = {
            b"/".join(parts) for parts, _, entry in found if entry is None or entry.kind == DIR
        }
        top_setgid = _setgid(top)  # (one look at the target for every path named)
        for parts, chain, entry in found:
            if entry is None:
                root = _Dir(top, None, own=False, setgid=top_setgid)
                self._fill(root, snap.root, b"")
                self._filled(root)
                continue
            fd, own, setgid = self._parents(top, top_setgid, parts[:-1], chain)
            try:
                if fd >= 0 and not self.dry_run:
                    self._sweep(fd)
                self._put(fd, entry, b"/".join(parts), setgid)
            finally:
                if own and fd >= 0:
                    os.close(fd)
        self._hand_out()
        self._drain(0)
        self._put_back()

    def _stop(self) -> None:
        """After an error: let the writer threads finish what they started, close the rest."""
        # the files of the jobs not taken: each written or not, as the writer got to it
        unsure = [*self.taking, *(item for _, todo, _ in self.running for item in todo)]
        self.taking = []
        if self.workers is not None:
            unsure += [item for jobs in self.workers.jobs for todo, _ in jobs for item in todo]
        for pool in self.pools:
            pool.shutdown(wait=True, cancel_futures=True)
        self.pools = []
        if self.workers is not None:
            self.workers.stop()
            self.workers = None
        self.running.clear()
        self._made(unsure)
        for d in self.open:
            if d.own and d.fd >= 0:
                os.close(d.fd)
        self.open.clear()
        with contextlib.suppress(OSError):  # the error that stopped it is the one to tell
            self._put_back()

    def _made(self, items: list[_Item]) -> None:
        """Enter in the report the files of *items* (handed to writers that stopped) that are
        there, as a writer makes them: a stopped restore's report says what it wrote (the
        pre-restore snapshot's record, restored.wrote). Each went where nothing was."""
        for _, d, e, path in items:
            try:
                st = _lstat(d.fd, e.name) if d.fd >= 0 and not self.dry_run else None
            except OSError:
                continue
            if st is not None and _made_as(e, st):
                self.report.created.append(path)
                self.report.files += 1

    def _filled(self, d: _Dir) -> None:
        """Every entry of *d* was handed out: finish it now, or when its last job is taken."""
        d.filled = True
        if not d.jobs:
            self._finish(d)

    def _finish(self, d: _Dir) -> None:
        """Give a directory its mode and mtime, after its contents, and close it."""
        self.open.discard(d)
        try:
            e = d.entry
            if e is not None and d.fd >= 0 and not self.dry_run:
                mode = d.mode
                try:
                    if d.fresh and mode is None and d.was is None:
                        # made here, with its mode: its mtime alone, with no look first (an
                        # fstat a folder: 9k on M)
                        os.utime(d.fd, ns=(e.mtime_ns, e.mtime_ns))
                    elif not _give_dir(d.fd, mode, e.mtime_ns, d.was):
                        # chmodded while the restore wrote into it: that mode is in no snapshot
                        self._not_updated(d.rel)
                        self.report.unwritable.append((d.rel, CHANGED))
                except PermissionError as exc:  # another's folder: what only its owner may set
                    self._refused_meta(d, mode, exc)
        finally:
            if d.own and d.fd >= 0:
                os.close(d.fd)

    def _refused_meta(self, d: _Dir, mode: int | None, exc: PermissionError) -> None:
        """Name the folder *d* whose mode (and then its mtime, set after it) or whose mtime
        could not be set. One whose mode stays is no update: _put_dir counted its mode put
        back (review39 RC: "update a" and "NOT WRITTEN a" of one run)."""
        what = "mtime"
        if mode is not None and stat.S_IMODE(os.fstat(d.fd).st_mode) != mode:
            what = "mode and mtime"
            self._not_updated(d.rel)
        self.report.unwritable.append((d.rel, f"its {what}: {exc.strerror}"))

    def _not_updated(self, rel: bytes) -> None:
        """*rel* is not updated after all: its mode, the change _put_dir counted, stays."""
        with contextlib.suppress(ValueError):
            self.report.updated.remove(rel)

    def _open_target(self, target: str) -> int:
        """The target directory, made if missing (-1 for a dry run into a new directory)."""
        real = os.path.realpath(target)
        if _inside(real, os.path.realpath(self.store.path)):
            raise UserError(
                f"refusing to restore into {target}: that is inside the snapshot store; "
                "name another directory"
            )
        try:
            if not self.dry_run:
                os.makedirs(target, exist_ok=True)
            # the target is the user's own choice: it may be reached through a symlink
            return os.open(target, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            if self.dry_run:
                return -1
            raise UserError(f"cannot restore into {target}: it vanished; try again") from None
        except (FileExistsError, NotADirectoryError):
            raise UserError(
                f"cannot restore into {target}: it is a file, or below one; name a directory"
            ) from None
        except OSError as exc:
            raise UserError(
                f"cannot restore into {target}: {exc.strerror}; name a directory you can write"
            ) from exc

    def _failed(self, target: str, exc: OSError) -> str:
        where = os.path.join(target, os.fsdecode(self.at)) if self.at else target
        what = f"restore stopped at {show(os.fsencode(where))}: {exc.strerror}"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"{what}; free space on that disk and restore again (nothing is half-written)"
        if exc.errno == errno.EACCES:  # its mode, or a folder's above it (r without x: 644)
            return (
                f"{what}; give yourself access to it and the folders above it (chmod u+rwX), "
                "or restore elsewhere with --to"
            )
        if exc.errno in (errno.EPERM, errno.EROFS):
            return f"{what}; make it writable, or restore elsewhere with --to"
        return f"{what}; what was restored before it is in place, nothing is half-written"

    def _parents(
        self, top: int, setgid: bool, parts: list[bytes], chain: list[Entry]
    ) -> tuple[int, bool, bool]:
        """The folder of a named path, opened (made where missing) from the target open on
        *top* (*setgid*: its _Dir.setgid): its descriptor, whether it is to be closed, and
        whether a folder made in it is given set-gid (_Dir.setgid)."""
        fd, own = top, False
        for i, (part, entry) in enumerate(zip(parts, chain)):
            rel = b"/".join(parts[: i + 1])
            before = None if self.dry_run else _lstat(fd, part)
            opened = self._open_dir(fd, part, entry, rel)
            if opened is None:
                why = (
                    "the snapshot store is there"
                    if rel in self.report.store
                    else "something no snapshot holds is in the way there; move it aside and "
                    "restore again"
                )
                raise UserError(f"cannot restore below {show(rel)}: {why}")
            if own and fd >= 0:  # a dry run's missing folders have no descriptor (-1)
                os.close(fd)
            fd, own = opened[0], True
            setgid = _inherits(setgid, opened[2])
            if fd >= 0 and not self.dry_run:
                self._back_later(rel, entry, None if opened[1] else before, fd)
        return fd, own, setgid

    def _back_later(self, rel: bytes, entry: Entry, st: os.stat_result | None, fd: int) -> None:
        """Note the parent folder *rel* of a named path (open on *fd*): one this restore made
        (*st* None) gets the snapshot's mode and mtime, an existing one _open_dir made
        writable its own mode back, once everything is written (_put_back). Not a folder a
        named folder holds or is: that one is the named folder's (_Dir)."""
        parts = rel.split(b"/")
        if rel in self.parents_back or any(
            b"/".join(parts[:i]) in self.named for i in range(len(parts) + 1)
        ):
            return
        back: tuple[int, int | None, int | None]  # (mode, mtime, the mode it was left with)
        if st is None:
            back = (restored_mode(entry), entry.mtime_ns, None)
        elif stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IWUSR:
            # (a chmod by another meanwhile stays: in no snapshot); the mode _open_dir left
            # it with, as it is (u+rwx; a set-gid bit the kernel cleared then stays cleared)
            back = (stat.S_IMODE(st.st_mode), None, stat.S_IMODE(os.fstat(fd).st_mode))
        else:
            return
        self.parents_back[rel] = back

    def _put_back(self) -> None:
        """Give the parent folders _back_later noted their modes (and mtimes): the deepest
        first (a parent's mode may forbid going through it); one gone or replaced meanwhile
        is no longer the one noted."""
        back, self.parents_back = self.parents_back, {}
        for rel in sorted(back, reverse=True):
            fd = self._reopen(rel)
            if fd < 0:
                continue
            try:
                # (one _open_dir could not make writable has its mode: no error, review39 RC)
                _give_dir(fd, *back[rel])
            finally:
                os.close(fd)

    def _reopen(self, rel: bytes) -> int:
        """The folder *rel* below the target, opened again without following a symlink; -1
        when it is not there (or not a folder) any more."""
        fd = self.top
        try:
            for part in rel.split(b"/"):
                parent = fd
                try:
                    fd = os.open(part, _DIR_FLAGS, dir_fd=parent)
                finally:
                    if parent != self.top:
                        os.close(parent)
        except (FileNotFoundError, NotADirectoryError):
            return -1
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symlink now: not the folder noted
                return -1
            raise
        return fd

    def _open_dir(
        self, parent: int, name: bytes, entry: Entry, rel: bytes, new: bool = False
    ) -> tuple[int, bool, os.stat_result | None] | None:
        """Open (creating or replacing what is in the way) the directory *name*, whether it
        was made just now (so it was empty), and the lstat of the folder that was there
        (None when made); None when what is in the way must stay. *new*: the parent's
        listing lacks the name, so it is made without a look first."""
        self.at = rel
        if new and not self.dry_run:
            try:
                os.mkdir(name, restored_mode(entry) | stat.S_IRWXU, dir_fd=parent)
            except FileExistsError:
                pass  # something came there meanwhile: the careful way below
            else:
                self.report.created.append(rel)
                return os.open(name, _DIR_FLAGS, dir_fd=parent), True, None
        try:
            st = self._lstat_kept(parent, name, rel)
        except _Unlooked:
            return None
        if st is not None and (st.st_dev, st.st_ino) == self.store_root:
            self.report.store.append(rel)
            return None
        if st is None or not stat.S_ISDIR(st.st_mode):
            if st is not None and self.keep_files:
                self.report.kept.append(rel)
                return None
            if st is not None and not self._remove(parent, name, rel, st):
                return None
            # a file or symlink in the way is overwritten (as a folder in a file's way): named
            # so, the pre-restore snapshot's gaps and a --dry-run's keeping see it
            if not self.dry_run:  # (named once made: if refused, it is named unwritable)
                os.mkdir(name, restored_mode(entry) | stat.S_IRWXU, dir_fd=parent)
            (self.report.updated if st is not None else self.report.created).append(rel)
            if self.dry_run:
                return -1, True, None
            return os.open(name, _DIR_FLAGS, dir_fd=parent), True, None
        if not self.dry_run and not st.st_mode & stat.S_IWUSR:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            # another's folder: what it refuses is named path by path (RED39 C4)
            with contextlib.suppress(PermissionError):
                os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
            return fd, False, st
        return (os.open(name, _DIR_FLAGS, dir_fd=parent) if parent >= 0 else -1), False, st

    def holds(self, snap: Snapshot, rel: bytes) -> bool:
        """Whether *snap* holds the path *rel*."""
        try:
            return self.find(snap, rel.split(b"/"))[1] is not None
        except UserError:
            return False

    def _is_never(self, rel: bytes) -> bool:
        return rel.split(b"/", 1)[0] in self.never

    def _put(self, parent: int, e: Entry, rel: bytes, setgid: bool = True) -> None:
        """Write *e* at *rel* in the folder open on *parent* (*setgid*: a folder made there is
        given set-gid, _Dir.setgid)."""
        if self._passed(e, rel):
            return
        if e.name == GIT and rel != GIT and _lstat(parent, GIT) is not None:
            # a nested repository's git directory (or a worktree's .git file) is left as the
            # top one: the snapshot's would rewind its refs, reflog and index
            self.report.git_dirs.append(rel)
            return
        if e.kind == DIR:
            self._put_dir(parent, e, rel, setgid=setgid)
            return
        self._put_file(parent, e, rel)

    def _passed(self, e: Entry, rel: bytes) -> bool:
        """Count *e* for progress; True (and reported) when it must not be written."""
        if e.kind != DIR and self.progress:
            self.done += 1
            self.progress(self.done, self.total)
        if self._is_never(rel):
            self.report.refused.append(rel)
            return True
        if rel in self.apart:
            self.report.worktrees.append(rel)
            return True
        if rel in self.protect or (e.kind != DIR and rel in self.guarded):
            self.report.kept.append(rel)
            return True
        return False

    def _put_file(self, parent: int, e: Entry, rel: bytes) -> None:
        """Write a file or symlink over whatever may be at *rel* (the careful way)."""
        self.at = rel
        try:
            st = self._lstat_kept(parent, e.name, rel)
        except _Unlooked:
            return
        except PermissionError as exc:  # a folder it may not search: this path named, not a stop
            if self.dry_run:
                raise
            self.report.unwritable.append((rel, exc.strerror or str(exc)))
            return
        if st is not None and (st.st_dev, st.st_ino) in self.store_keep:
            self.report.store.append(rel)
            return
        if st is not None and holds(e, st, e.name, parent, read_at):
            kept = keeps_mode(e, st)
            if not kept and self._changed(parent, e.name, rel, st, restored_mode(e)):
                return  # chmodded since the pre-restore snapshot: its mode is in none
            if not self.dry_run and e.kind == FILE:
                try:
                    self._set_meta(parent, e, st, kept)
                except PermissionError as exc:  # chattr +i: its mode and mtime stay
                    self.report.unwritable.append((rel, exc.strerror or str(exc)))
                    return
                except _Moved:  # saved over while its copy was written: left as it is
                    self.report.unwritable.append((rel, CHANGED))
                    return
            if not kept:
                self.report.updated.append(rel)  # its mode alone (diff's 'T'): a change
                self._left_off(e, rel)
            elif left_off(e) and (
                stat.S_IMODE(st.st_mode) != e.mode & 0o7777 or self._copied(e, st)
            ):
                self.report.setid.append(rel)  # as restored, but not as the snapshot has it
            else:
                self.report.unchanged += 1
            if not self.dry_run and e.kind != FILE and st.st_mtime_ns != e.mtime_ns:
                # a symlink with its target but another mtime (a restore killed between
                # symlink and utimensat made it): the same restore again gives it its own
                os.utime(e.name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
            return
        if st is not None and self.keep_files and not stat.S_ISDIR(st.st_mode):
            self.report.kept.append(rel)  # nothing holds what it holds: never overwritten
            return
        if (
            st is not None
            and not stat.S_ISDIR(st.st_mode)
            and self._changed(parent, e.name, rel, st, restored_mode(e) if e.kind == FILE else None)
        ):
            return
        if (
            st is not None
            and stat.S_ISDIR(st.st_mode)
            and not self._remove(parent, e.name, rel, st)
        ):
            return
        there = None if st is None or stat.S_ISDIR(st.st_mode) else st  # (a folder: removed)
        if not self.dry_run:
            try:
                self._write_entry(parent, e, there, look=True)
            except _Moved:  # replaced or made there since the look above: left as it is
                self.report.unwritable.append((rel, CHANGED if there is not None else CREATED))
                return
            except CorruptObject as exc:
                self.report.damaged.append((rel, str(exc)))
                return
            except PermissionError as exc:
                # a file it would replace (chattr +i), or a folder that refuses it (RED39 C4:
                # a stop there said nothing of all it had written): left as it was (the temp
                # is gone), named, and the restore goes on
                self.report.unwritable.append((rel, exc.strerror or str(exc)))
                return
            except BaseException:
                # Ctrl-C (SIGTERM) is raised as the rename returns: written all the same
                if self._wrote(parent, e):
                    self._written(e, rel, st)
                raise
        self._written(e, rel, st)

    def _changed(
        self, parent: int, name: bytes, rel: bytes, st: os.stat_result, mode: int | None = None
    ) -> bool:
        """Whether what lstat found (*st*) at *rel* is not what the pre-restore snapshot holds
        (its guard), its mode but for *mode* (the one the restore gives it) among it: then it
        is left as it is, and named (RED40 E1)."""
        why = None if self.guard is None else self.guard.why(rel, st, name, parent, mode)
        if why is not None:
            self.report.unwritable.append((rel, why))
        return why is not None

    def _last_look(self, parent: int, name: bytes, there: os.stat_result | None) -> None:
        """Raise _Moved when *name* is no longer what was looked at (*there*; None: nothing),
        just before the rename that replaces it: the restore's temp file may have taken
        seconds to write, and an editor's save meanwhile is in no snapshot."""
        if self.guard is not None and moved(parent, name, there):
            raise _Moved

    def _written(self, e: Entry, rel: bytes, st: os.stat_result | None) -> None:
        (self.report.updated if st is not None else self.report.created).append(rel)
        self.report.files += 1
        self._left_off(e, rel)

    def _wrote(self, parent: int, e: Entry) -> bool:
        """Whether *e* is in place (after an error or an interrupt writing it)."""
        try:
            st = _lstat(parent, e.name)
            return st is not None and holds(e, st, e.name, parent, read_at)
        except OSError:
            return False

    def _left_off(self, e: Entry, rel: bytes) -> None:
        """Note *rel* when the restore gives *e* less than its set-id bits."""
        if e.mode & 0o6000 and left_off(e):
            self.report.setid.append(rel)

    def _copied(self, e: Entry, st: os.stat_result) -> bool:
        """Whether _set_meta writes a copy of the file *e* holding its content already (a
        hard link whose mtime is not the snapshot's): the copy has the restored mode."""
        return not self.dry_run and st.st_nlink > 1 and st.st_mtime_ns != e.mtime_ns

    def _put_dir(
        self, parent: int, e: Entry, rel: bytes, new: bool = False, setgid: bool = True
    ) -> None:
        """Restore the folder *e* at *rel* in the folder open on *parent* (*new*: its listing
        lacks the name; *setgid*: a folder made there is given set-gid, _Dir.setgid)."""
        try:
            opened = self._open_dir(parent, e.name, e, rel, new)
        except PermissionError as exc:  # a folder that refuses it: named, as a file is
            if self.dry_run:
                raise
            self.report.unwritable.append((rel, exc.strerror or str(exc)))
            return
        if opened is None:
            return
        fd, fresh, before = opened
        mode: int | None = restored_mode(e)
        theirs = False  # its own mode stays
        if before is not None and not keeps_mode(e, before):
            theirs = self._changed(parent, e.name, rel, before, mode)
            if theirs:
                # chmodded since the pre-restore snapshot: that mode is in none, so it stays
                # (given back, when _open_dir made it writable)
                mode = None if before.st_mode & stat.S_IWUSR else stat.S_IMODE(before.st_mode)
            else:
                # its mode put back (chmod 755 of a 0700 folder): a change, as a file's mode
                # alone is, never "unchanged" while diff names it (RED34 C2)
                self.report.updated.append(rel)
        # mkdir gave it mode | u+rwx minus the umask: often its mode already (mkdir never
        # sets set-gid from its mode, and adds it in a set-gid folder: then fchmod at _finish)
        if (
            fresh
            and not setgid
            and mode is not None
            and (mode | stat.S_IRWXU) & ~self.umask == mode
            and not mode & stat.S_ISGID
        ):
            mode = None
        if e.mode & 0o6000 and left_off(e) and not theirs:
            if not fresh and fd >= 0 and stat.S_IMODE(os.fstat(fd).st_mode) == e.mode & 0o7777:
                mode = None  # its set-id bits there already: left as they are
            else:
                self.report.setid.append(rel)
        was = None  # a chmod while it is filled is kept too: looked at before its mode is set
        if self.guard is not None and not fresh and fd >= 0 and mode is not None:
            was = stat.S_IMODE(os.fstat(fd).st_mode)
        d = _Dir(fd, e, mode, rel=rel, was=was, fresh=fresh, setgid=_inherits(setgid, before))
        if fd >= 0:
            self.open.add(d)
        self._fill(d, e.ref, rel + b"/", fresh)
        self._filled(d)

    def _write_entry(
        self, parent: int, e: Entry, there: os.stat_result | None = None, look: bool = False
    ) -> None:
        """Write *e* to a temp name (ours, see safewrite) and rename it into place. A file is
        written unnamed first (O_TMPFILE, where the file system has it) and given the temp
        name only once whole: a restore killed while it writes (a big file takes seconds)
        leaves nothing behind in the user's folder, where git would show a leftover temp
        file as a new untracked file. *look*: raise _Moved, the temp name gone, when what is
        at the name is no longer *there* (None: nothing) just before the rename."""
        tmp = self._temp_name(parent, e.name)
        if e.kind == SYMLINK:
            try:
                os.symlink(e.ref, tmp, dir_fd=parent)
                os.utime(tmp, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
                if look:
                    self._last_look(parent, e.name, there)
                os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
            except FileExistsError:
                raise  # (the temp name is taken: not ours to remove)
            except BaseException:
                _drop(parent, tmp)
                raise
            return
        fd = _unnamed(parent) if self.unnamed else -1
        if fd >= 0:
            try:
                leftovers.hold(fd)  # once named: no other run takes it for a leftover
                self._fill_file(fd, e)
                linked = False
                try:  # a name for it: linkat through /proc (no privilege needed), then its own
                    self._link_unnamed(fd, parent, tmp)
                    linked = True
                    if look:
                        self._last_look(parent, e.name, there)
                    os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
                    return
                except FileExistsError:
                    if linked:
                        _drop(parent, tmp)
                    raise  # (not linked: the temp name is taken, not ours to remove)
                except FileNotFoundError:
                    if linked:
                        _drop(parent, tmp)
                        raise
                    self.unnamed = False  # no /proc: written again the named way below
                except BaseException:  # Ctrl-C (SIGTERM taken as one) as a call returned
                    _drop(parent, tmp)
                    raise
            finally:
                os.close(fd)
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent
        )
        try:
            leftovers.hold(fd)  # until renamed: no other run takes it for a leftover
            self._fill_file(fd, e)
            if look:
                self._last_look(parent, e.name, there)
            os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            _drop(parent, tmp)
            raise
        finally:
            os.close(fd)

    def _fill_file(self, fd: int, e: Entry) -> None:
        _write_sparse(fd, validate.stream_blob(self.store, e), e.size)
        os.fchmod(fd, restored_mode(e))
        os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))

    def _fill(self, d: _Dir, tree: bytes, rel: bytes, fresh: bool = False) -> None:
        """Write the entries of *tree* into the directory *d* (*fresh*: made by this restore,
        so empty). Names nothing holds yet are created directly (_new), by the writers when there
        are any; the rest go the careful way (_put)."""
        try:
            entries = self._tree(tree, rel)
        except CorruptObject as exc:  # the listing is damaged: nothing below can be known
            self.report.damaged.append((rel.rstrip(b"/") or b".", str(exc)))
            return
        fd = d.fd
        writing = fd >= 0 and not self.dry_run
        present = self._sweep(fd) if writing and not fresh else []
        there = set(present)
        # nothing in here is refused or kept (not the top: its names may be; no protected
        # path below): a new file goes into the job without _new's checks
        plain = writing and rel != b"" and rel[:-1] not in self.guarded and not self._is_never(rel)
        got = _gather(entries, d, rel, self.locs, WHOLE) if plain and not there else None
        if got is not None:
            # the common case (a folder made here, no symlink, no big or set-id file): its
            # files go into the job as _gather found them, located; its folders made after
            items, subs, size, located = got
            added = len(items)
            if items:
                self._add(d, items, size, located)
            for e in subs:
                path = rel + e.name
                if not self._passed(e, path):
                    self._put_dir(fd, e, path, new=True, setgid=d.setgid)
        else:
            added = self._fill_each(d, entries, rel, there, plain)
        if added:
            self.done += added
            if self.progress:
                self.progress(self.done, self.total)
        if self.delete and fd >= 0:
            if self.dry_run:
                present = [os.fsencode(n) for n in os.listdir(fd)]
            self._delete_extra(fd, rel, present, {e.name for e in entries})

    def _fill_each(
        self, d: _Dir, entries: list[Entry], rel: bytes, there: set[bytes], plain: bool
    ) -> int:
        """_fill's entries one by one (*there*: the names in the folder; *plain*: nothing in
        it is refused or kept); how many went into the job without _new's checks."""
        fd = d.fd
        writing = fd >= 0 and not self.dry_run
        added = 0
        for e in entries:
            if not writing or e.name in there or e.name == GIT:  # (_put looks at a .git)
                self._put(fd, e, rel + e.name, d.setgid)
            elif e.kind == DIR:
                path = rel + e.name
                if not self._passed(e, path):
                    self._put_dir(fd, e, path, new=True, setgid=d.setgid)
            elif plain and (e.kind != FILE or e.size <= WHOLE):
                if e.mode & 0o6000:
                    self._left_off(e, rel + e.name)
                self._job_add(d, e, rel + e.name)
                added += 1
            else:
                self._new(d, e, rel)
        return added

    def _new(self, d: _Dir, e: Entry, rel: bytes) -> None:
        """Create a file or symlink where nothing was when the directory was listed: put in
        the job being gathered (handed out by _hand_out). A file over WHOLE is streamed to a
        temp file and renamed (the careful way) at once. *rel*: the folder's path, with a
        trailing "/" (b"" for the top)."""
        path = rel + e.name
        if self._passed(e, path):
            return
        if e.kind == FILE and e.size > WHOLE:
            self.at = path
            self._put_file(d.fd, e, path)
            return
        self._left_off(e, path)
        self._job_add(d, e, path)

    def _job_add(self, d: _Dir, e: Entry, path: bytes) -> None:
        """Put the file or symlink *e* of *d* (at *path*) in the job being gathered; hand the
        job out once full."""
        self.job.append((None if e.kind == FILE else _NOWHERE, d, e, path))
        self.job_bytes += len(e.name) + len(e.ref)
        self.job_unlocated = True
        self._job_took(d)

    def _add(self, d: _Dir, items: list[_Item], size: int, located: bool) -> None:
        """Put *items* (_gather's: the files of the folder *d* made here, *size* bytes of
        names and keys, each *located* or not) in the job being gathered, as _job_add puts
        one; a folder of more than a job's files goes in one at a time."""
        if len(self.job) + len(items) > JOB_FILES or self.job_bytes + size > JOB_BYTES:
            self._hand_out()  # (an empty job: nothing happens)
            if len(items) > JOB_FILES or size > JOB_BYTES:
                for item in items:
                    self._job_add(d, item[2], item[3])
                return
        self.job.extend(items)
        self.job_bytes += size
        if not located:
            self.job_unlocated = True
        self._job_took(d)

    def _job_took(self, d: _Dir) -> None:
        """After files of *d* went into the job being gathered (_job_add, _add): *d* counted
        among the job's folders (once a job), and the job handed out once full."""
        dirs = self.job_dirs
        if not dirs or dirs[-1] is not d:
            dirs.append(d)
            d.jobs += 1
        if len(self.job) >= JOB_FILES or len(dirs) >= self.dirs_max or self.job_bytes >= JOB_BYTES:
            self._hand_out()

    def _hand_out(self) -> None:
        """Hand the gathered files to a writer (or write them here without any): located (a
        few queries unless _scan or _locate_all did it), checked against the index, sorted in
        storage order. Only this thread reads the index."""
        items, dirs = self.job, self.job_dirs
        if not items:
            return
        self.job, self.job_dirs, self.job_bytes = [], [], 0
        ready = items
        if self.job_unlocated:
            self.job_unlocated = False
            ready = self._locate(items)
        ready = _in_storage_order(ready)
        if self.workers is not None:  # descriptors go along, each job numbers its own
            number: dict[int, int] = {}
            fds: list[int] = []
            for d in dirs:
                if d.fd not in number:
                    number[d.fd] = len(fds)
                    fds.append(d.fd)
            self.workers.send(ready, number, fds, dirs, self.shared)
        elif not self.pools:
            self.taking = ready
            self._took(self._create(_work(ready, None)), ready, dirs)
            return
        else:  # writer threads: each its part, as writer processes (its groups in its cache)
            for k, part in share_out(ready, self.load, self.owner, dirs):
                job = self.pools[k].submit(self._create, _work(part, None))
                self.running.append((job, part, dirs))
        self._drain(self.jobs_max)

    def _locate(self, items: list[_Item]) -> list[_Item]:
        """*items* with where each file's content lies (in self.locs, else looked up in a
        few queries); a file whose content the index lacks, or holds at another size, is
        named damaged (_misplaced) and left out."""
        locs = self.locs
        ready: list[_Item] = []
        unknown: list[_Item] = []  # not located yet (a few queries)
        for item in items:
            if item[0] is not None:
                ready.append(item)
                continue
            e = item[2]
            loc = locs.get(e.ref)
            if loc is None:
                unknown.append(item)
            elif loc[3] != e.size:
                self._misplaced(item, loc)
            else:
                ready.append((loc, *item[1:]))
        if unknown:
            found = self.store.index.locate_many([item[2].ref for item in unknown])
            for item in unknown:
                where = found.get(item[2].ref)
                loc = None
                if where is not None:
                    loc = (where.pack, where.offset, where.length, where.size, where.inner)
                if loc is None or loc[3] != item[2].size:
                    self._misplaced(item, loc)
                else:
                    ready.append((loc, *item[1:]))
        return ready

    def _misplaced(self, item: _Item, loc: _Loc | None) -> None:
        """A file whose content the index lacks, or holds at another size: damaged."""
        at = None if loc is None else Location(*loc[:4], type=0, inner=loc[4])
        self.report.damaged.append((item[3], validate.located_problem(item[2], at) or ""))

    def _drain(self, most: int) -> None:
        """Take the oldest jobs' results until at most *most* are running."""
        # the job being taken, until _took has its files in the report (_stop: a stop then)
        if self.workers is not None:
            while self.workers.running > most:
                done, self.taking, dirs = self.workers.take()
                self._took(done, self.taking, dirs)
            return
        while len(self.running) > most:
            job, self.taking, dirs = self.running.popleft()
            self._took(job.result(), self.taking, dirs)

    def _took(self, done: _Done, todo: list[_Item], dirs: list[_Dir]) -> None:
        """Enter a job's results in the report and the damage in the index (SQLite stays in
        this thread); names taken meanwhile go the careful way; then the directories the job
        wrote into whose last job it was are finished."""
        taken, damaged, failed = done
        refused: list[int] = []
        if failed is not None:
            at, code, why = failed
            if code not in (errno.EACCES, errno.EPERM):  # a full disk: the restore stops
                raise _Failed(todo[at][3], OSError(code, why))
            # a folder that refuses it (RED39 C4): that file named, as one that cannot be
            # written over is, and the job's files not tried yet written the careful way
            # (_put_file), each named if refused too
            self.report.unwritable.append((todo[at][3], why))
            refused = [at]
            taken = [*taken, *range(at + 1, len(todo))]
        if taken or damaged or refused:
            skip = set(taken).union(k for k, _, _ in damaged).union(refused)
            made = [item[3] for k, item in enumerate(todo) if k not in skip]
        else:  # each path as the job's items hold it
            made = list(map(_PATH, todo))
        self.report.created.extend(made)
        self.report.files += len(made)
        self.taking = []  # (before its folders may be closed: _stop looks in them)
        for k, _key, why in damaged:
            self.report.damaged.append((todo[k][3], why))
        with contextlib.suppress(sqlite3.Error, UserError):
            self.store.index.mark_damaged_each(
                [(key, why, " is unreadable: " in why) for _, key, why in damaged]
            )
        for k in taken:
            _, d, e, path = todo[k]
            self.at = path
            self._put_file(d.fd, e, path)
        for d in dirs:
            d.jobs -= 1
            if d.filled and not d.jobs:
                self._finish(d)

    def _delete_extra(
        self, fd: int, rel: bytes, present: Iterable[bytes], keep: set[bytes]
    ) -> None:
        for name in sorted(present):
            path = rel + name
            if name in keep or self._is_never(path):
                continue
            if path in self.apart:
                self.report.worktrees.append(path)
                continue
            if path in self.protect:
                self.report.kept.append(path)
                continue
            try:
                st = self._lstat_kept(fd, name, path)
            except _Unlooked:
                continue
            try:
                removed = st is not None and self._remove(fd, name, path, st, in_way=False)
            except BaseException:  # Ctrl-C as the unlink (rmdir) returns: gone all the same
                if not self.dry_run and _gone(fd, name):
                    self.report.deleted.append(path)
                raise
            if removed:
                self.report.deleted.append(path)

    def _lstat_kept(self, parent: int, name: bytes, rel: bytes) -> os.stat_result | None:
        """_lstat; but a dry run whose restore saves what is in the way first (not
        *keep_files*) that may not look at *rel* (its folder listed but not searched) keeps
        it, as the restore does: the pre-restore snapshot cannot read it either, so it is in
        the restore's *protect*. Noted (report.kept, report.unreadable: the command's second
        dry run protects it) and raised as _Unlooked."""
        self.at = rel  # (an error here is about this path, not the last one written)
        try:
            return _lstat(parent, name)
        except PermissionError:
            if not self.dry_run or self.keep_files:
                raise
        self.report.kept.append(rel)
        self.report.unreadable.append(rel)
        raise _Unlooked

    def _set_meta(self, parent: int, e: Entry, st: os.stat_result, kept: bool) -> None:
        """Give the file *e* (its content there already) its mode, unless *kept* (keeps_mode),
        and its mtime; _Moved when its copy (a hard link's) would replace a save made since
        *st*."""
        if not kept or st.st_mtime_ns != e.mtime_ns:
            if st.st_nlink > 1:
                # a hard link: its inode is shared with other paths, maybe outside the target
                # (a pnpm store): a copy of its own takes the mode and mtime, renamed over it
                # only while it is still what was looked at (_Moved: review40 RE1)
                with contextlib.suppress(CorruptObject):  # the bytes there are right already
                    self._write_entry(parent, e, st, look=True)
                return
            fd = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
            try:
                if self.guard is not None and not unmoved(os.fstat(fd), st):
                    raise _Moved  # chmodded, saved in place, linked since *st*: in no snapshot
                if not kept:  # (kept with set-id bits there: a chmod would clear them)
                    os.fchmod(fd, restored_mode(e))
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)

    def _empty(self, fd: int, rel: bytes, gone: list[bytes]) -> bool:
        """Remove what the folder *rel* (open on *fd*) holds, each path gone into *gone*;
        whether some of it stayed."""
        stayed = False
        for child in sorted(map(os.fsencode, os.listdir(fd))):
            path = rel + b"/" + child
            try:
                cst = self._lstat_kept(fd, child, path)
            except _Unlooked:
                stayed = True
                continue
            except PermissionError:
                if not self.dry_run:
                    raise
                # the restore makes the folder searchable first (above): a dry run
                # cannot, and takes it as removed
                gone.append(path)
                continue
            if cst is None:
                continue
            try:
                removed = self._remove(fd, child, path, cst, False)
            except BaseException:
                # Ctrl-C is raised as the unlink (rmdir) returns: gone all the same
                if not self.dry_run and _gone(fd, child):
                    gone.append(path)
                raise
            if removed:
                gone.append(path)
            else:
                stayed = True
        return stayed

    def _remove(
        self, parent: int, name: bytes, rel: bytes, st: os.stat_result, in_way: bool = True
    ) -> bool:
        """Remove what is at *rel* (in the way of the snapshot's entry, or extra under
        --delete); False, and reported, when it must stay (or some of what it holds: a folder
        is emptied as far as it may be, and what went of it is named). A dry run walks it
        alike, removing nothing."""
        if (st.st_dev, st.st_ino) in self.store_keep:
            self.report.store.append(rel)
            return False
        if name == GIT:  # a repository's git directory below the top: never removed
            self.report.git_kept.append(rel)
            return False
        if rel in self.guarded or (
            in_way
            and not self.replace_dirs
            and stat.S_ISDIR(st.st_mode)
            and not _empty_dir(parent, name)
        ):
            self.report.kept.append(rel)
            return False
        if self._changed(parent, name, rel, st):  # not the pre-restore snapshot's (RED40 E1)
            return False
        if not stat.S_ISDIR(st.st_mode):
            if not self.dry_run:
                if self.guard is not None and moved(parent, name, st):
                    self.report.unwritable.append((rel, CHANGED))
                    return False
                os.unlink(name, dir_fd=parent)
            return True
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except PermissionError:
            if not self.dry_run:  # (a restore makes it readable first, see below)
                raise
            return True  # a dry run cannot look in: taken as removed whole
        try:
            if self.guard is not None and not self.dry_run:
                now = os.fstat(fd)
                if (now.st_ino, now.st_mode) != (st.st_ino, st.st_mode):
                    # chmodded (or another folder) since the guard's look: its mode is in no
                    # snapshot, and the chmod below would take it
                    self.report.unwritable.append((rel, CHANGED))
                    return False
            left = None  # the mode it is left with to be emptied (the kernel may clear set-gid)
            if not self.dry_run:
                os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
                left = stat.S_IMODE(os.fstat(fd).st_mode)
            gone: list[bytes] = []
            try:
                stayed = self._empty(fd, rel, gone)
            except BaseException:  # what went before the error went: a stopped run says so
                if not self.dry_run:
                    self.report.deleted.extend(gone)
                raise
            # a folder in the way: what it holds is not in the snapshot, so it is named as
            # deleted; so is what went of one that stays (its own name is not)
            if in_way or stayed:
                self.report.deleted.extend(gone)
            if not stayed and not self.dry_run:
                try:
                    os.rmdir(name, dir_fd=parent)
                except OSError as exc:
                    if not in_way:  # it stays: what went of it is named
                        self.report.deleted.extend(gone)
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or self.guard is None:
                        raise
                    # made in it since it was emptied: kept, named
                    self.report.unwritable.append((rel, CHANGED))
                    stayed = True
            if stayed and left is not None:  # emptied as far as it could be: its mode back,
                # unless another chmodded it meanwhile (that mode is in no snapshot)
                _give_dir(fd, stat.S_IMODE(st.st_mode), None, left)
        finally:
            os.close(fd)
        return not stayed


class _Moved(Exception):
    """What is at a path changed between the restore's look and its rename (_last_look)."""


def _setgid(fd: int) -> bool:
    """Whether the folder open on *fd* has set-gid (True for none: a dry run's new one)."""
    return fd < 0 or bool(os.fstat(fd).st_mode & stat.S_ISGID)


def _inherits(setgid: bool, st: os.stat_result | None) -> bool:
    """Whether a folder made in a folder gets set-gid (_Dir.setgid): *st*, the lstat of what
    was there when opened, has it, or (None) it was made here in a folder that gave it set-gid
    (Linux: a folder made in a set-gid folder is set-gid)."""
    return setgid if st is None else bool(st.st_mode & stat.S_ISGID)


class _Unlooked(Exception):
    """A dry run may not look at a path, which the restore keeps (Restorer._lstat_kept)."""


def _give_dir(fd: int, mode: int | None, mtime: int | None, was: int | None = None) -> bool:
    """Give the folder open on *fd* *mode* and *mtime* (None: as it is), each only where it
    differs: a folder the user does not own that has them already is no error (only its owner
    may set them; RED39 C4). *was*: the mode the restore left it with; another now is a
    chmod since, in no snapshot: that mode is left as it is, and False returned."""
    st = os.fstat(fd)
    now = stat.S_IMODE(st.st_mode)
    kept = was is None or now == was
    if mode is not None and now != mode and kept:
        os.fchmod(fd, mode)
    if mtime is not None and st.st_mtime_ns != mtime:
        os.utime(fd, ns=(mtime, mtime))
    return kept


class _Failed(Exception):
    """An OSError writing *path* (in a writer thread, which cannot set Restorer.at)."""

    def __init__(self, path: bytes, error: OSError) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


# Storage order: objects of one pack by offset (a pack is then read front to back); a C
# key, not a Python function called per file
_first = operator.itemgetter(0)
# a job's item's path, for C loops (map): the paths made
_PATH = operator.itemgetter(3)

# _gather's answer: the files as a job's items, the folders, the files' names' and keys'
# bytes, whether every file was located
_Gathered = tuple[list[_Item], list[Entry], int, bool]


def _gather_py(
    entries: list[Entry],
    d: _Dir,
    rel: bytes,
    locs: dict[bytes, _Loc] | restore_locs.Located,
    whole: int,
) -> _Gathered | None:
    """The entries of a folder *d* (at *rel*) made by the restore, split for _fill: its
    files as the job's items (_Item: its path is *rel* and its name), each with where its
    content lies when *locs* holds that at the file's size (else None: _locate looks again,
    and names it damaged), its folders, and the bytes of the files' names and keys; None
    when it holds what goes the way of one entry at a time (_fill_each): a .git, a symlink,
    a file over *whole* bytes or with set-id bits. The specification of _ctree.gather,
    which _gather is when built."""
    items: list[_Item] = []
    subs: list[Entry] = []
    size = 0
    located = True
    for e in entries:
        if e.name == GIT:
            return None
        if e.kind == DIR:
            subs.append(e)
            continue
        if e.kind != FILE or e.mode & 0o6000 or e.size > whole:
            return None
        loc = locs.get(e.ref)
        if loc is not None and loc[3] != e.size:
            loc = None
        if loc is None:
            located = False
        items.append((loc, d, e, rel + e.name))
        size += len(e.name) + len(e.ref)
    return items, subs, size, located


def _in_storage_order_py(items: list[_Item]) -> list[_Item]:
    """A job's located items in storage order (objects of one pack by offset: a pack is
    then read front to back, a group's members one after another); the specification of
    _ctree.in_storage_order, which gives None for a location of another shape."""
    return sorted(items, key=_first)


_gather: Callable[..., _Gathered | None] = _native("gather") or _gather_py
_c_order = _native("in_storage_order")


def _in_storage_order(items: list[_Item]) -> list[_Item]:
    if _c_order is not None:
        got: list[_Item] | None = _c_order(items)
        if got is not None:
            return got
    return _in_storage_order_py(items)


def _job_dirs(jobs: int) -> int:
    """The folders one job may write into: JOB_DIRS, fewer where the folders of *jobs* jobs
    in flight and the one being gathered, each open here until its last job is taken, could
    come near the soft limit of open files: half of it for them (1024, the usual one, and
    2 writers: 73 a job; M's restore had 893 folders open at once with 128)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, ValueError, OSError):
        return 32
    if soft == resource.RLIM_INFINITY:
        return JOB_DIRS
    return max(8, min(JOB_DIRS, soft // 2 // (jobs + 1)))


def _umask() -> int:
    """The process's umask, read without changing it (Linux), else set and put back."""
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii", errors="replace") as f,
    ):
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _drop(parent: int, tmp: bytes) -> None:
    """Remove the temp name *tmp* after an error or an interrupt, which may have come as the
    rename that took it away returned (Ctrl-C's KeyboardInterrupt is raised there): gone
    already is fine, and never replaces the error being raised (RED32 C3: it turned Ctrl-C
    into 'restore stopped at f502.txt: No such file or directory')."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp, dir_fd=parent)


def _made_as(e: Entry, st: os.stat_result) -> bool:
    """Whether what lstat found (*st*) is the file or symlink *e* as a writer makes it (one
    of its size, a symlink), there where nothing was: made by the restore."""
    if e.kind == SYMLINK:
        return stat.S_ISLNK(st.st_mode)
    return stat.S_ISREG(st.st_mode) and st.st_size == e.size


def _gone(parent: int, name: bytes) -> bool:
    try:
        return _lstat(parent, name) is None
    except OSError:
        return False


def _empty_dir(parent: int, name: bytes) -> bool:
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        return not os.listdir(fd)
    finally:
        os.close(fd)


def _lstat(parent: int, name: bytes) -> os.stat_result | None:
    if parent < 0:
        return None
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None
