"""Restore a snapshot, or some of its paths, into a directory.

Stored paths are untrusted: every tree is checked (store.validate) before anything is written,
every file is opened relative to a directory file descriptor with O_NOFOLLOW, so a restore
never leaves its target, never writes through a symlink, and never creates device files or
set-id bits. It never writes into the names it is told to leave alone (a repository's .git)
and never writes, replaces or deletes the snapshot store, wherever that lies.

Damaged content does not stop a whole-tree restore: everything intact is written, and the
damaged paths are named at the end (Damaged, a UserError, so no caller can miss them).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import marshal
import os
import select
import socket
import sqlite3
import stat
import sys
import threading
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field

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
from git_snapshot.store.objects import digest_fd
from git_snapshot.store.safewrite import temp_name
from git_snapshot.store.validate import show

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import zstandard
else:  # its C backend without the package's costly __init__ (store/zstd.py)
    from git_snapshot.store import zstd as _zstd

    zstandard = _zstd.load()

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_SAFE_MODE = 0o777  # set-id and sticky bits are never restored
WHOLE = 4 << 20  # a file up to this size is read whole and checked before it is created
# bytes of the trees the plan read and checked, kept for writing as they are stored (about
# 75 bytes an entry: L's 230,000 take 17 MB) and made entries again there, one folder at a
# time: kept as entries (~300 bytes each), they were most of a big restore's peak memory
TREE_BYTES = 32 << 20
_ZEROS = bytes(512)  # no all-zero block of any file system fits in data without this
PARALLEL_MIN = 512  # files: a smaller restore is written by the calling thread alone
JOB_FILES = 256  # new files per job handed to a writer thread (of any directories)
JOB_DIRS = 32  # directories (open descriptors) one job may write into
JOBS_PER_THREAD = 3  # jobs in flight per writer thread: the rest wait for the oldest
SPAN = 1 << 20  # bytes of a pack read at once for the frames of consecutive files of a job
GAP = 16 << 10  # bytes of other objects between two frames still read in one span
SCAN_RATIO = 3  # locate by one pass over the index when it holds at most this many objects
#                 per file to restore (else by key: a big store, a small restore)
LOCATED_MAX = 100_000  # locations kept at once (about 30 MB); beyond, each job looks its up
DICTS = 4  # packs whose dictionaries each writer thread keeps ready
SHARED = 64 << 10  # contents up to this size that several files hold are kept once read
KEPT_BYTES = 16 << 20  # in all, at most, per writer process
SPLIT: bool | None = None  # tests: the plan always (True) or never (False) shared; None: auto
SPLIT_MIN = 8192  # files of a snapshot below which one process checks its trees alone
FRONTIER = 64  # folders of a level checked first: every other one goes to the child

FILE_COST = 8 << 10  # bytes a writer could decompress and write in the time a file costs
JOB_BYTES = 48 << 10  # names and link targets per job (one message to a writer process)
MESSAGE = 1 << 20  # the longest message between the restore and a writer process
_MARSHAL = 2  # marshal's format for them: no table of shared objects to build (3 and up)

# Where a file's content lies: pack, offset, frame length, size, place in its group (or -1).
_Loc = tuple[str, int, int, int, int]
# A file or symlink gathered for a job: its directory, entry and path.
_Item = tuple["_Dir", Entry, bytes]
# ...as a writer gets it: the directory's descriptor (for a writer process: its index among
# the descriptors sent along), name, mode, mtime, content key or link target, and where
# the content lies (None for a symlink).
_Work = tuple[int, bytes, int, int, bytes, "_Loc | None"]
# What a writer hands back for one job: the positions of the names taken meanwhile (written
# the careful way by the calling thread), of the damaged files (with key and why), and where
# it stopped on an error (position, errno, message; a full disk).
_Done = tuple[list[int], list[tuple[int, bytes, str]], "tuple[int, int, str] | None"]
_NOWHERE: _Loc = ("", 0, 0, 0, -1)
_SHA256 = hashlib.sha256()  # copied per object: cheaper than looking the digest up each time
NEVER = frozenset({b".git"})

ADVICE = (
    "see every damaged object with: git snapshot verify --read-data; the next snapshot "
    "stores intact copies again of the files that are still in the worktree"
)


@dataclass
class Report:
    created: list[bytes] = field(default_factory=list)
    updated: list[bytes] = field(default_factory=list)
    deleted: list[bytes] = field(default_factory=list)
    unchanged: int = 0
    kept: list[bytes] = field(default_factory=list)  # in the way, but not ours to remove
    files: int = 0  # files and symlinks written (created or updated)
    damaged: list[tuple[bytes, str]] = field(default_factory=list)  # not restored, and why
    store: list[bytes] = field(default_factory=list)  # the snapshot store (or its way) is there
    refused: list[bytes] = field(default_factory=list)  # held by the snapshot, never written


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
        first = ", ".join(show(p) or "." for p, _ in damaged[:3])
        more = f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
        super().__init__(
            f"{len(damaged)} damaged path(s) could not be {verb} ({first}{more}), everything "
            f"intact was; {ADVICE}"
        )


def split_path(path: str | bytes) -> list[bytes]:
    """A user-given path inside the snapshot as checked components."""
    raw = os.fsencode(path).strip(b"/")
    parts = [p for p in raw.split(b"/") if p not in (b"", b".")]
    if not parts:
        return []
    if b".." in parts:
        raise UserError(f"bad path {show(raw)!r}: paths inside a snapshot cannot use '..'")
    return parts


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


class Restorer:
    def __init__(
        self,
        store: Store,
        *,
        delete: bool = False,
        dry_run: bool = False,
        protect: frozenset[bytes] = frozenset(),
        never: frozenset[bytes] = NEVER,
        replace_dirs: bool = True,
        progress: Callable[[int, int], None] | None = None,
        threads: int | None = None,
        processes: bool | None = None,
    ) -> None:
        """*progress* is told (files done, files selected) as it goes. *protect*: relative
        paths never deleted or overwritten (what the pre-restore
        snapshot could not save); the directories that hold them are never removed either.
        *never*: top-level names never written, replaced or deleted, even when named (a
        repository's .git). *replace_dirs*: whether a non-empty directory in the way of a
        file may be removed (in place, the pre-restore snapshot holds it; elsewhere nothing
        does). *threads*: writer threads for new files (None: one per CPU, at most 4, when
        at least PARALLEL_MIN files are restored; 0: none). *processes*: whether the writers
        are forked processes (None: on Linux, when no other thread runs here), which share no
        GIL, or threads."""
        self.store = store
        self.delete = delete
        self.dry_run = dry_run
        self.never = never
        self.protect = protect | never
        self.guarded = self.protect | {
            p[:i] for p in protect for i in range(len(p)) if p[i : i + 1] == b"/"
        }
        self.replace_dirs = replace_dirs
        self.progress = progress
        self.total = 0  # files (not folders) of the selection, counted while planning
        self.total_hint = 0  # files of the snapshot (whether sharing the plan pays)
        # the plan's folders left to this process, small contents met, the child checking
        # the others, and the root, once _share has forked it
        self.early: tuple[list[tuple[bytes, bytes]], set[bytes], _Planner | None, bytes] | None
        self.early = None
        self.collect = True  # the contents to locate are gathered (not in a planning child)
        self.done = 0
        self.report = Report()
        self.store_root, self.store_keep = store_parts(store)
        self.at = b""  # the path being written, for an error message
        self.trees: dict[bytes, bytes] = {}  # checked while planning, for writing (TREE_BYTES)
        self._cached = 0
        self.umask = _umask()
        self.unnamed = True  # files written with no name first (O_TMPFILE): see _write_entry
        self.threads = threads
        self.processes = processes
        self.workers: _Workers | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.jobs_max = 0  # jobs in flight before the oldest is waited for
        self.want: set[bytes] = set()  # contents of the files read whole (located at once)
        # where they lie (looked up before writing), or where every object lies (_scan)
        self.locs: dict[bytes, _Loc] | restore_locs.Located = {}
        self.job: list[_Item] = []  # new files not handed out yet
        self.job_bytes = 0  # their names and link targets
        self.job_dirs: list[_Dir] = []  # the directories they go into
        # jobs handed to the threads, oldest first, with what they write and the directories
        # they write into (writer processes keep their own: _Workers)
        self.running: deque[tuple[Future[_Done], list[_Item], list[_Dir]]] = deque()
        self.open: set[_Dir] = set()  # directories this restore holds open (closed on errors)
        self._local = threading.local()  # each writer thread's zstd contexts
        # contents of more than one file of the selection (a LICENSE, an empty index.js), as
        # the writers read them: each later file of the same content takes it from here
        # instead of decompressing its group again (on M: 31 contents for 1,713 files,
        # which made 328 group decompressions of 232 groups)
        self.shared: set[bytes] = set()
        self.kept: dict[bytes, bytes] = {}
        self.kept_bytes = 0

    # -- planning: read and check every tree first, so a hostile one writes nothing ----------

    def find(self, snap: Snapshot, parts: list[bytes]) -> tuple[list[Entry], Entry | None]:
        """The entries on the way to a path, and its own entry (None for the root)."""
        chain: list[Entry] = []
        tree = snap.root
        entry: Entry | None = None
        for i, part in enumerate(parts):
            rel = b"".join(p + b"/" for p in parts[:i])
            try:
                listing = validate.read_tree(self.store, tree, rel)
            except CorruptObject as exc:  # a folder on the way: name what cannot be restored
                where = f"the folder {show(rel.rstrip(b'/'))}" if rel else "its top folder"
                raise UserError(
                    f"cannot restore {show(b'/'.join(parts))}: {where} is damaged in snapshot "
                    f"{snap.id} ({exc}); see which snapshots and paths with: "
                    "git snapshot verify --read-data"
                ) from exc
            found = [e for e in listing if e.name == part]
            if not found or (i < len(parts) - 1 and found[0].kind != DIR):
                raise UserError(
                    f"{show(b'/'.join(parts))} is not in snapshot {snap.id}; "
                    f"see: git snapshot show {snap.id}"
                )
            entry = found[0]
            if i < len(parts) - 1:
                chain.append(entry)
                tree = entry.ref
        return chain, entry

    def refuse(
        self, snap: Snapshot, selections: list[list[bytes]]
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        """Each selection with its way and entry (``find``); a UserError for one under the
        names never written or one the snapshot lacks, before anything is written."""
        for parts in selections:
            if parts and parts[0] in self.never:
                raise UserError(
                    f"refusing to restore {show(b'/'.join(parts))}: restore never writes "
                    f"into {show(parts[0])}"
                )
        return [(parts, *self.find(snap, parts)) for parts in selections]

    def _plan(
        self, snap: Snapshot, selections: list[list[bytes]]
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        found = self.refuse(snap, selections)
        for parts, _chain, entry in found:
            # damaged listings are skipped here and named while writing
            if entry is None:
                self._check(snap.root, b"")
            elif entry.kind == DIR:
                self._check(entry.ref, b"/".join(parts) + b"/")
            else:
                self.total += 1
        return found

    def _check(self, tree: bytes, rel: bytes) -> None:
        """Read and check every tree below *tree* (validate.read_tree: an unsafe one raises),
        depth first as validate.walk does; a damaged listing is skipped here and named while
        writing. Counted per tree in C loops rather than per entry: planning runs before any
        writer starts. For a big whole snapshot, _share has checked the first levels already
        and left part of the next one to a forked child, whose answer is taken at the end."""
        seen: set[bytes] = set()  # small contents met once (a second time: shared)
        stack = [(tree, rel)]
        other = None
        if self.early is not None and rel == b"" and tree == self.early[3]:
            stack, seen, other, _ = self.early
            self.early = None
        try:
            self._visit_all(stack, seen)
        except BaseException:
            if other is not None:
                other.kill()
            raise
        if other is not None:
            self._merge(other, seen)

    def _share(self, root: bytes) -> None:
        """Check the first levels of the trees below *root* (breadth first, until a level
        holds FRONTIER folders) and fork a child to check the trees below every other folder
        of that level (the rest, and the index scan, are left to this process: measured on
        M, the child's half and the scan plus the other half take about as long)."""
        seen: set[bytes] = set()
        stack = [(root, b"")]
        while stack and len(stack) < FRONTIER:
            stack = [sub for key, path in stack for sub in self._visit(key, path, seen)]
        other = _Planner.start(self, stack[1::2])
        if other is not None:
            stack = stack[0::2]
        stack.reverse()  # popped from the end: in walk order
        self.early = (stack, seen, other, root)

    def _splitting(self) -> bool:
        """Whether the plan may share its work with a forked child: the snapshot is big, a
        second core is likely idle (the child and its answer cost about 0.25 s more CPU on
        M: on a busy machine that only slows the plan down, as diff's second process does),
        and no other thread runs here (a fork copies one thread: never beside one holding a
        lock)."""
        if SPLIT is not None:
            return SPLIT and hasattr(os, "fork")
        return self.total_hint >= SPLIT_MIN and forked.possible() and forked.idle_core()

    def _visit(
        self, key: bytes, path: bytes, seen: set[bytes], loc: Location | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Read and check one tree, keep it for writing, count it; its folders (key, path).
        *loc*: where it lies (None: in self.locs, or the index is asked)."""
        if loc is None and self.locs:
            loc = self._located(key)
        try:
            data = self.store.read_object(key, loc)
            entries = validate.check_tree(data, path)
        except CorruptObject:  # not UnsafeTree (a UserError): a crafted tree stops all
            return []
        self._keep(key, data)
        dirs = [e for e in entries if e.kind == DIR]
        self.total += len(entries) - len(dirs)  # progress's total: files and links
        small = [e.ref for e in entries if e.kind == FILE and e.size <= SHARED]
        if small:
            shared = self.shared
            shared.update(seen.intersection(small))
            seen.update(small)
            if len(set(small)) != len(small):  # the same content twice in one folder
                once: set[bytes] = set()
                for r in small:
                    if r in once:
                        shared.add(r)
                    once.add(r)
        if self.collect and not self.locs:  # else none to collect: _scan found all
            self.want.update(e.ref for e in entries if e.kind == FILE and e.size <= WHOLE)
        return [(e.ref, path + e.name + b"/") for e in dirs]

    def _plan_part(self, part: list[tuple[bytes, bytes]], budget: int) -> bytes:
        """In the forked child: check the trees below *part* as _check does and answer
        (marshal) the files and links counted, the checked trees' keys and bytes (at most
        *budget* bytes: what the parent may still keep), the small contents met and those
        met twice. The
        parent's SQLite connection is never used here (not across a fork): the trees are
        located through a read-only connection of the child's own, which records nothing (a
        damaged tree is skipped, and recorded by the parent, which reads it again)."""
        import urllib.parse

        index = self.store.index
        uri = f"file:{urllib.parse.quote(index.path)}?mode=ro"
        index.db = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.collect = False
        self.total, self.trees, self._cached = 0, {}, TREE_BYTES - budget
        self.shared = set()
        seen: set[bytes] = set()
        level = part
        while level:  # level by level: each located in a few queries
            where = index.locate_many([key for key, _ in level])
            level = [
                sub for key, path in level for sub in self._visit(key, path, seen, where.get(key))
            ]
        keys, trees = list(self.trees), list(self.trees.values())
        return marshal.dumps((self.total, keys, trees, list(seen), list(self.shared)))

    def _visit_all(self, stack: list[tuple[bytes, bytes]], seen: set[bytes]) -> None:
        """Check the trees of *stack* (key, path; popped from the end) and all below them,
        depth first in walk order."""
        while stack:
            key, path = stack.pop()
            subs = self._visit(key, path, seen)
            if subs:
                subs.reverse()
                stack.extend(subs)

    def _merge(self, other: _Planner, seen: set[bytes]) -> None:
        """Take the child's answer, or check its part here when there is none (it died,
        could not fork its answer, met a damaged or unsafe tree, or sent anything but a
        well-formed answer for the trees it was given)."""
        got = other.take()
        if got is None:
            self._visit_all(list(reversed(other.part)), seen)
            return
        total, keys, trees, theirs, shared = got
        self.total += total
        for key, data in zip(keys, trees):
            self._keep(key, data)
        self.shared.update(shared)
        self.shared.update(seen.intersection(theirs))
        seen.update(theirs)

    def _located(self, key: bytes) -> Location | None:
        loc = self.locs.get(key)
        return None if loc is None else Location(*loc[:4], type=0, inner=loc[4])

    def _keep(self, key: bytes, data: bytes) -> None:
        """Keep a checked tree's bytes for writing, while they fit in TREE_BYTES."""
        if self._cached + len(data) <= TREE_BYTES:
            self.trees[key] = data
            self._cached += len(data)

    def _tree(self, key: bytes, rel: bytes) -> list[Entry]:
        """The entries of a tree to write: made from its bytes kept by the plan (checked
        again: C loops), else read and checked again."""
        data = self.trees.pop(key, None)
        if data is None:
            return validate.read_tree(self.store, key, rel)
        entries = validate.checked(data)
        return entries if entries is not None else validate.check_tree(data, rel)

    # -- execution --------------------------------------------------------------------------

    def restore(self, snap: Snapshot, target: str, paths: list[str | bytes] | None) -> Report:
        """Restore *paths* of *snap* (all of it: None or []) into *target*; raises Damaged,
        after writing everything else, when some paths' data is damaged or missing."""
        selections = [split_path(p) for p in paths] if paths else [[]]
        collecting = gc.isenabled()
        gc.disable()  # no cycles are made here: collections would only rescan the trees
        try:
            with self.store.lock():  # a concurrent gc must not move objects while we read them
                self._restore(snap, target, selections)
        finally:
            if collecting:
                gc.enable()
        if self.report.damaged:
            raise Damaged(self.report.damaged, "restored", self.report)
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
            self.workers = _Workers(self, n)
        top = -1
        try:
            found = self._prepare(snap, selections)
            top = self._open_target(target)
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
                    self.pool = ThreadPoolExecutor(n, thread_name_prefix="restore")
            self._write(snap, top, found)
        except _Failed as failed:
            self.at = failed.path
            raise UserError(self._failed(target, failed.error)) from failed.error
        except OSError as exc:
            raise UserError(self._failed(target, exc)) from exc
        finally:
            self._stop()
            if top >= 0:
                os.close(top)

    def _prepare(
        self, snap: Snapshot, selections: list[list[bytes]]
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        """Locate (a whole snapshot: _scan) and plan. For a big one, the first levels of its
        trees are checked first and every other folder of the next level goes to a forked child
        (_Planner), which checks the trees below them while this process scans the index
        and checks the rest (_share)."""
        self.total_hint = snap.files
        whole = selections == [[]] and not self.dry_run and snap.files >= PARALLEL_MIN
        count = self._scannable(snap.files) if whole else 0
        if count:
            if self._splitting():
                self._share(snap.root)
            try:
                self._scan(count)  # the trees are read with the locations it finds too
            except BaseException:
                if self.early is not None and self.early[2] is not None:
                    self.early[2].kill()
                raise
        return self._plan(snap, selections)

    def _write(
        self, snap: Snapshot, top: int, found: list[tuple[list[bytes], list[Entry], Entry | None]]
    ) -> None:
        for parts, chain, entry in found:
            if entry is None:
                root = _Dir(top, None, own=False)
                self._fill(root, snap.root, b"")
                self._filled(root)
                continue
            fd, own = self._parents(top, parts[:-1], chain)
            try:
                if fd >= 0 and not self.dry_run:
                    leftovers.sweep(fd)
                self._put(fd, entry, b"/".join(parts))
            finally:
                if own and fd >= 0:
                    os.close(fd)
        self._hand_out()
        self._drain(0)

    def _stop(self) -> None:
        """After an error: let the writer threads finish what they started, close the rest."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        if self.workers is not None:
            self.workers.stop()
            self.workers = None
        self.running.clear()
        for d in self.open:
            if d.own and d.fd >= 0:
                os.close(d.fd)
        self.open.clear()

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
                if d.chmod:
                    os.fchmod(d.fd, e.mode & _SAFE_MODE)
                os.utime(d.fd, ns=(e.mtime_ns, e.mtime_ns))
        finally:
            if d.own and d.fd >= 0:
                os.close(d.fd)

    def _scannable(self, files: int) -> int:
        """The objects of the index when _scan pays (else 0): the index holds at most
        SCAN_RATIO objects per file of the snapshot (a store of this tree's snapshots; else
        the files' contents are looked up by key after planning)."""
        count = self.store.index.object_count()
        return count if count <= SCAN_RATIO * files and count <= restore_locs.LIMIT else 0

    def _scan(self, count: int) -> None:
        """Where every object lies, by one pass over the index in storage order: a dict for
        at most LOCATED_MAX objects, else compact (store/restore_locs.py: a third of the
        memory, each lookup ~3x slower)."""
        index = self.store.index
        if count > LOCATED_MAX:
            self.locs = restore_locs.Located(index)
            return
        # one query, one comprehension (it runs before any writer starts): 0.36 -> 0.20 s of
        # CPU on M where a query per pack built a list per pack first
        names = {pack_id: name for pack_id, (name, _) in index.gc_packs().items()}
        rows = index.db.execute(  # (recent: store/index.py; objects' row wins, read last)
            " UNION ALL ".join(
                f"SELECT key, pack, offset, length, size, member FROM {table}"
                for table in index.tables()
            )
        )
        self.locs = {bytes(k): (names[p], o, n, s, i) for k, p, o, n, s, i in rows}

    def _locate_all(self) -> None:
        """Where the contents of the files to be read whole lie, looked up by key in a few
        queries before writing (when _scan did not)."""
        locs: dict[bytes, _Loc] = {}
        self.locs = locs
        for key, loc in self.store.index.locate_many(self.want).items():
            locs[key] = (loc.pack, loc.offset, loc.length, loc.size, loc.inner)

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
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"{what}; make it writable, or restore elsewhere with --to"
        return f"{what}; what was restored before it is in place, nothing is half-written"

    def _parents(self, top: int, parts: list[bytes], chain: list[Entry]) -> tuple[int, bool]:
        fd, own = top, False
        for i, (part, entry) in enumerate(zip(parts, chain)):
            rel = b"/".join(parts[: i + 1])
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
        return fd, own

    def _open_dir(
        self, parent: int, name: bytes, entry: Entry, rel: bytes, new: bool = False
    ) -> tuple[int, bool] | None:
        """Open (creating or replacing what is in the way) the directory *name*, and whether
        it was made just now (so it was empty); None when what is in the way must stay.
        *new*: the parent's listing lacks the name, so it is made without a look first."""
        self.at = rel
        if new and not self.dry_run:
            try:
                os.mkdir(name, (entry.mode & _SAFE_MODE) | stat.S_IRWXU, dir_fd=parent)
            except FileExistsError:
                pass  # something came there meanwhile: the careful way below
            else:
                self.report.created.append(rel)
                return os.open(name, _DIR_FLAGS, dir_fd=parent), True
        st = _lstat(parent, name)
        if st is not None and (st.st_dev, st.st_ino) == self.store_root:
            self.report.store.append(rel)
            return None
        if st is None or not stat.S_ISDIR(st.st_mode):
            if st is not None and not self._remove(parent, name, rel, st):
                return None
            self.report.created.append(rel)
            if self.dry_run:
                return -1, True
            os.mkdir(name, (entry.mode & _SAFE_MODE) | stat.S_IRWXU, dir_fd=parent)
            return os.open(name, _DIR_FLAGS, dir_fd=parent), True
        if not self.dry_run and not st.st_mode & stat.S_IWUSR:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
            return fd, False
        return (os.open(name, _DIR_FLAGS, dir_fd=parent) if parent >= 0 else -1), False

    def _is_never(self, rel: bytes) -> bool:
        return rel.split(b"/", 1)[0] in self.never

    def _put(self, parent: int, e: Entry, rel: bytes) -> None:
        if self._passed(e, rel):
            return
        if e.kind == DIR:
            self._put_dir(parent, e, rel)
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
        if rel in self.protect or (e.kind != DIR and rel in self.guarded):
            self.report.kept.append(rel)
            return True
        return False

    def _put_file(self, parent: int, e: Entry, rel: bytes) -> None:
        """Write a file or symlink over whatever may be at *rel* (the careful way)."""
        self.at = rel
        st = _lstat(parent, e.name)
        if st is not None and (st.st_dev, st.st_ino) in self.store_keep:
            self.report.store.append(rel)
            return
        if st is not None and self._same(parent, e, st):
            if e.kind == FILE and stat.S_IMODE(st.st_mode) != e.mode & _SAFE_MODE:
                self.report.updated.append(rel)  # its mode alone (diff's 'T'): a change
            else:
                self.report.unchanged += 1
            if not self.dry_run and e.kind == FILE:
                self._set_meta(parent, e, st)
            elif not self.dry_run and st.st_mtime_ns != e.mtime_ns:
                # a symlink with its target but another mtime (a restore killed between
                # symlink and utimensat made it): the same restore again gives it its own
                os.utime(e.name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
            return
        if (
            st is not None
            and stat.S_ISDIR(st.st_mode)
            and not self._remove(parent, e.name, rel, st)
        ):
            return
        if not self.dry_run:
            try:
                self._write_entry(parent, e)
            except CorruptObject as exc:
                self.report.damaged.append((rel, str(exc)))
                return
        (self.report.updated if st is not None else self.report.created).append(rel)
        self.report.files += 1

    def _put_dir(self, parent: int, e: Entry, rel: bytes, new: bool = False) -> None:
        opened = self._open_dir(parent, e.name, e, rel, new)
        if opened is None:
            return
        fd, fresh = opened
        mode = e.mode & _SAFE_MODE
        # mkdir gave it mode | u+rwx minus the umask: often its mode already
        d = _Dir(fd, e, chmod=not fresh or (mode | stat.S_IRWXU) & ~self.umask != mode)
        if fd >= 0:
            self.open.add(d)
        self._fill(d, e.ref, rel + b"/", fresh)
        self._filled(d)

    def _write_entry(self, parent: int, e: Entry) -> None:
        """Write *e* to a temp name (ours, see safewrite) and rename it into place. A file is
        written unnamed first (O_TMPFILE, where the file system has it) and given the temp
        name only once whole: a restore killed while it writes (a big file takes seconds)
        leaves nothing behind in the user's folder, where git would show a leftover temp
        file as a new untracked file."""
        tmp = os.fsencode(os.path.basename(temp_name(os.fsdecode(e.name))))[: validate.MAX_NAME]
        if e.kind == SYMLINK:
            os.symlink(e.ref, tmp, dir_fd=parent)
            os.utime(tmp, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
            os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
            return
        fd = _unnamed(parent) if self.unnamed else -1
        if fd >= 0:
            try:
                leftovers.hold(fd)  # once named: no other run takes it for a leftover
                self._fill_file(fd, e)
                try:  # a name for it: linkat through /proc (no privilege needed)
                    os.link(f"/proc/self/fd/{fd}", tmp, dst_dir_fd=parent)
                except FileNotFoundError:
                    self.unnamed = False  # no /proc: written again the named way below
                else:
                    try:
                        os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
                    except BaseException:
                        os.unlink(tmp, dir_fd=parent)
                        raise
                    return
            finally:
                os.close(fd)
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent
        )
        try:
            leftovers.hold(fd)  # until renamed: no other run takes it for a leftover
            try:
                self._fill_file(fd, e)
                os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                os.unlink(tmp, dir_fd=parent)
                raise
        finally:
            os.close(fd)

    def _fill_file(self, fd: int, e: Entry) -> None:
        _write_sparse(fd, validate.stream_blob(self.store, e), e.size)
        os.fchmod(fd, e.mode & _SAFE_MODE)
        os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))

    def _fill(self, d: _Dir, tree: bytes, rel: bytes, fresh: bool = False) -> None:
        """Write the entries of *tree* into the directory *d* (*fresh*: made by this restore,
        so empty). Names nothing holds yet are created directly (_new), by the pool when there
        is one; the rest go the careful way (_put)."""
        try:
            entries = self._tree(tree, rel)
        except CorruptObject as exc:  # the listing is damaged: nothing below can be known
            self.report.damaged.append((rel.rstrip(b"/") or b".", str(exc)))
            return
        fd = d.fd
        writing = fd >= 0 and not self.dry_run
        present = leftovers.sweep(fd) if writing and not fresh else []
        there = set(present)
        # nothing in here is refused or kept (not the top: its names may be; no protected
        # path below): a new file goes into the job without _new's checks
        plain = writing and rel != b"" and rel[:-1] not in self.guarded and not self._is_never(rel)
        added = 0
        for e in entries:
            if not writing or e.name in there:
                self._put(fd, e, rel + e.name)
            elif e.kind == DIR:
                path = rel + e.name
                if not self._passed(e, path):
                    self._put_dir(fd, e, path, new=True)
            elif plain and (e.kind != FILE or e.size <= WHOLE):
                job = self.job
                job.append((d, e, rel + e.name))
                self.job_bytes += len(e.name) + len(e.ref)
                dirs = self.job_dirs
                if not dirs or dirs[-1] is not d:
                    dirs.append(d)
                    d.jobs += 1
                added += 1
                if len(job) >= JOB_FILES or len(dirs) >= JOB_DIRS or self.job_bytes >= JOB_BYTES:
                    self._hand_out()
            else:
                self._new(d, e, rel + e.name)
        if added:
            self.done += added
            if self.progress:
                self.progress(self.done, self.total)
        if self.delete and fd >= 0:
            if self.dry_run:
                present = [os.fsencode(n) for n in os.listdir(fd)]
            self._delete_extra(fd, rel, present, {e.name for e in entries})

    def _new(self, d: _Dir, e: Entry, path: bytes) -> None:
        """Create a file or symlink where nothing was when the directory was listed: put in
        the job being gathered (handed out by _hand_out). A file over WHOLE is streamed to a
        temp file and renamed (the careful way) at once."""
        if self._passed(e, path):
            return
        if e.kind == FILE and e.size > WHOLE:
            self.at = path
            self._put_file(d.fd, e, path)
            return
        self.job.append((d, e, path))
        self.job_bytes += len(e.name) + len(e.ref)
        dirs = self.job_dirs
        if not dirs or dirs[-1] is not d:
            dirs.append(d)
            d.jobs += 1
        if len(self.job) >= JOB_FILES or len(dirs) >= JOB_DIRS or self.job_bytes >= JOB_BYTES:
            self._hand_out()

    def _hand_out(self) -> None:
        """Hand the gathered files to a writer (or write them here without any): located (a
        few queries unless _locate_all did it), checked against the index, sorted in storage
        order. Only this thread reads the index."""
        items, dirs = self.job, self.job_dirs
        if not items:
            return
        self.job, self.job_dirs, self.job_bytes = [], [], 0
        locs = self.locs
        ready: list[tuple[_Loc, _Item]] = []
        unknown: list[_Item] = []  # not located yet (a few queries)
        for item in items:
            e = item[1]
            if e.kind != FILE:
                ready.append((_NOWHERE, item))
                continue
            loc = locs.get(e.ref)
            if loc is None:
                unknown.append(item)
            elif loc[3] != e.size:
                self._misplaced(item, loc)
            else:
                ready.append((loc, item))
        if unknown:
            found = self.store.index.locate_many([e.ref for _, e, _ in unknown])
            for item in unknown:
                where = found.get(item[1].ref)
                loc = None
                if where is not None:
                    loc = (where.pack, where.offset, where.length, where.size, where.inner)
                if loc is None or loc[3] != item[1].size:
                    self._misplaced(item, loc)
                else:
                    ready.append((loc, item))
        ready.sort(key=_first)
        if self.workers is not None:  # descriptors go along, each job numbers its own
            number: dict[int, int] = {}
            fds: list[int] = []
            for d in dirs:
                if d.fd not in number:
                    number[d.fd] = len(fds)
                    fds.append(d.fd)
            self.workers.send(ready, number, fds, dirs, self.shared)
        else:
            work = _work(ready, None)
            todo = [item for _, item in ready]
            if self.pool is None:
                self._took(self._create(work), todo, dirs)
                return
            self.running.append((self.pool.submit(self._create, work), todo, dirs))
        self._drain(self.jobs_max)

    def _misplaced(self, item: _Item, loc: _Loc | None) -> None:
        """A file whose content the index lacks, or holds at another size: damaged."""
        at = None if loc is None else Location(*loc[:4], type=0, inner=loc[4])
        self.report.damaged.append((item[2], validate.located_problem(item[1], at) or ""))

    def _drain(self, most: int) -> None:
        """Take the oldest jobs' results until at most *most* are running."""
        if self.workers is not None:
            while self.workers.running > most:
                self._took(*self.workers.take())
            return
        while len(self.running) > most:
            job, todo, dirs = self.running.popleft()
            self._took(job.result(), todo, dirs)

    def _create(self, work: list[_Work], parent_pid: int = 0) -> _Done:
        """Create each file or symlink of *work* where nothing is (thread-safe: no SQLite, no
        report). The frames of files that lie close together in a pack are read at once (a
        span); each file is decompressed and checked against its key before it is created.
        *parent_pid*: in a writer process, the restore's (it stops when that one is gone)."""
        taken: list[int] = []
        damaged: list[tuple[int, bytes, str]] = []
        read = self.store.reader.frame
        n = len(work)
        i = 0
        at = 0
        try:
            while i < n:
                if parent_pid and os.getppid() != parent_pid:
                    break  # the restore was killed: stop as it did
                at = i
                parent, name, mode, mtime, ref, loc = work[i]
                if loc is None:  # a symlink
                    if not self._new_link(parent, name, ref, mtime):
                        taken.append(i)
                    i += 1
                    continue
                pack, start, length, _, inner = loc
                if inner >= 0:  # in a group: its members that follow, at once
                    j = i + 1
                    while j < n:
                        after = work[j][5]
                        if after is None or after[1] != start or after[0] != pack:
                            break
                        j += 1
                    stopped, failed = self._members(work, i, j, taken, damaged, parent_pid)
                    if failed is not None or stopped < j:  # (stopped: nobody is left to answer)
                        return taken, damaged, failed
                    i = j
                    continue
                end = start + length
                j = i + 1
                while j < n:  # the span: the next frames of the same pack close behind
                    after = work[j][5]
                    if after is None or after[0] != pack or after[4] >= 0:
                        break
                    stop = after[1] + after[2]
                    if after[1] - end > GAP or stop - start > SPAN:
                        break
                    end = max(end, stop)
                    j += 1
                try:
                    dctx = self._dctx(pack)
                except (OSError, zstandard.ZstdError) as exc:  # every frame of it needs that
                    for k in range(i, j):
                        key = work[k][4]
                        damaged.append((k, key, _unreadable(key, pack, exc)))
                    i = j
                    continue
                try:
                    span: memoryview | None = memoryview(read(pack, start, end - start))
                except (OSError, zstandard.ZstdError):
                    span = None  # read the frames one by one: each is named if damaged
                for k in range(i, j):
                    if parent_pid and os.getppid() != parent_pid:
                        return taken, damaged, None  # nobody is left to answer
                    at = k
                    parent, name, mode, mtime, ref, loc = work[k]
                    _, offset, length, size, _ = loc  # type: ignore[misc]
                    try:
                        if span is None:
                            frame: bytes | memoryview = read(pack, offset, length)
                        else:
                            frame = span[offset - start : offset - start + length]
                        data = dctx.decompress(frame, max_output_size=size)
                        if len(data) != size:
                            raise zstandard.ZstdError("object has the wrong size")
                    except (OSError, zstandard.ZstdError) as exc:
                        damaged.append((k, ref, _unreadable(ref, pack, exc)))
                        continue
                    why = _mismatch(data, ref, pack)
                    if why is not None:
                        damaged.append((k, ref, why))
                        continue
                    holes = b"\0" in data and _ZEROS in data
                    if not self._new_file(parent, name, mode, mtime, data, holes):
                        taken.append(k)
                i = j
        except OSError as exc:  # a full disk: the path goes into the one-line error
            return taken, damaged, _failure(at, exc)
        return taken, damaged, None

    def _members(
        self,
        work: list[_Work],
        i: int,
        j: int,
        taken: list[int],
        damaged: list[tuple[int, bytes, str]],
        parent_pid: int,
    ) -> tuple[int, tuple[int, int, str] | None]:
        """Create the files of work[i:j], whose contents lie in one group: decompressed once
        (unless every one of them was kept), each member checked against its key as a view
        of it (no copy), then created. A name taken meanwhile goes into *taken* (the careful
        way then). Where it stopped (*j*, or before the first file once the restore is gone),
        and the failure of the file it could not create (a full disk), as _create gives it."""
        kept, shared, new_file, getppid = self.kept, self.shared, self._new_file, os.getppid
        content: bytes | None = None
        view = memoryview(b"")
        why: Exception | None = None  # the group cannot be read
        k = i
        while k < j:
            if parent_pid and getppid() != parent_pid:
                return k, None
            parent, name, mode, mtime, ref, loc = work[k]
            pack, offset, length, size, inner = loc  # type: ignore[misc]
            data: bytes | memoryview | None = kept.get(ref)
            holes = False
            if data is None:
                if content is None:
                    try:
                        content = self.store.reader.group(pack, offset, length)
                    except (OSError, zstandard.ZstdError) as exc:
                        why = exc  # every member not kept is damaged; the kept are written
                        content = b""
                    view = memoryview(content)
                end = inner + size
                if end > len(content):
                    if why is None:
                        why = zstandard.ZstdError("object lies past the end of its group")
                    damaged.append((k, ref, _unreadable(ref, pack, why)))
                    k += 1
                    continue
                data = view[inner:end]
                bad = _mismatch(data, ref, pack)
                if bad is not None:
                    damaged.append((k, ref, bad))
                    k += 1
                    continue
                holes = content.find(0, inner, end) >= 0 and content.find(_ZEROS, inner, end) >= 0
                if ref in shared and self.kept_bytes < KEPT_BYTES:
                    data = kept[ref] = bytes(data)  # the next files of this content take it
                    self.kept_bytes += size
            elif b"\0" in data:
                holes = _ZEROS in data
            try:
                if not new_file(parent, name, mode, mtime, data, holes):
                    taken.append(k)
            except OSError as exc:  # this file, not the group's first, is the one named
                return k, _failure(k, exc)
            k += 1
        return j, None

    def _dctx(self, pack: str) -> zstandard.ZstdDecompressor:
        """This thread's decompressor for the frames of *pack* (with its dictionary)."""
        cache: dict[str, zstandard.ZstdDecompressor] | None = getattr(self._local, "d", None)
        if cache is None:
            cache = self._local.d = {}
        dctx = cache.get(pack)
        if dctx is None:
            content = self.store.reader.dictionary(pack)
            if content is None:
                dctx = zstandard.ZstdDecompressor()
            else:
                zdict = zstandard.ZstdCompressionDict(
                    content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
                )
                dctx = zstandard.ZstdDecompressor(dict_data=zdict)
            cache[pack] = dctx
            if len(cache) > DICTS:
                del cache[next(iter(cache))]
        return dctx

    def _took(self, done: _Done, todo: list[_Item], dirs: list[_Dir]) -> None:
        """Enter a job's results in the report and the damage in the index (SQLite stays in
        this thread); names taken meanwhile go the careful way; then the directories the job
        wrote into whose last job it was are finished."""
        taken, damaged, failed = done
        if failed is not None:
            at, code, why = failed
            raise _Failed(todo[at][2], OSError(code, why))
        if taken or damaged:
            skip = set(taken).union(k for k, _, _ in damaged)
            made = [path for k, (_, _, path) in enumerate(todo) if k not in skip]
        else:
            made = [path for _, _, path in todo]
        self.report.created.extend(made)
        self.report.files += len(made)
        for k, key, why in damaged:
            self.report.damaged.append((todo[k][2], why))
            with contextlib.suppress(sqlite3.Error, UserError):
                self.store.index.mark_damaged(key, why, group=" is unreadable: " in why)
        for k in taken:
            d, e, path = todo[k]
            self.at = path
            self._put_file(d.fd, e, path)
        for d in dirs:
            d.jobs -= 1
            if d.filled and not d.jobs:
                self._finish(d)

    def _new_file(
        self,
        parent: int,
        name: bytes,
        mode: int,
        mtime: int,
        data: bytes | memoryview,
        holes: bool = False,
    ) -> bool:
        """Create *name* holding *data*; False when the name is taken. *holes*: *data* may
        hold a whole all-zero block (left as a hole). The file is written unnamed (O_TMPFILE),
        given its mode and mtime, and only then linked under its name (linkat fails like
        O_EXCL when the name is taken): a restore killed at any point leaves no file cut
        short, or with the wrong mtime, under a real name. Where the file system has no
        O_TMPFILE (or there is no /proc to link it through), a temp name (held with flock
        while written) is linked to the name instead, then removed."""
        mode &= _SAFE_MODE
        fd = _unnamed(parent, mode) if self.unnamed else -1
        tmp = b""
        if fd < 0:
            self.unnamed = False
            tmp = os.fsencode(os.path.basename(temp_name(os.fsdecode(name))))[: validate.MAX_NAME]
            fd = os.open(tmp, _NEW_FLAGS, mode, dir_fd=parent)
        try:
            if tmp:
                leftovers.hold(fd)
            if holes:
                _write_sparse(fd, [bytes(data)], len(data))
            elif data:
                _pwrite_all(fd, data, 0)
            if mode & self.umask:  # open() gave it mode minus the umask
                os.fchmod(fd, mode)
            os.utime(fd, ns=(mtime, mtime))
            if not tmp:
                try:
                    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=parent)
                except FileExistsError:
                    return False
                except FileNotFoundError:  # no /proc: the named way, from now on
                    self.unnamed = False
                    return self._new_file(parent, name, mode, mtime, data, holes)
                return True
            try:
                os.link(tmp, name, src_dir_fd=parent, dst_dir_fd=parent, follow_symlinks=False)
            except FileExistsError:
                return False
            return True
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=parent)
            os.close(fd)

    def _new_link(self, parent: int, name: bytes, target: bytes, mtime: int) -> bool:
        try:
            os.symlink(target, name, dir_fd=parent)
        except FileExistsError:
            return False
        os.utime(name, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)
        return True

    def serve(self, sock: socket.socket, parent_pid: int) -> None:
        """A writer process's life: run the jobs that come, answer each, until the restore
        closes its end (done, failed or killed)."""
        while True:
            msg, fds, _, _ = socket.recv_fds(sock, MESSAGE, JOB_DIRS)
            if not msg:
                return
            try:
                part, held = marshal.loads(msg)
                self.shared.update(held)
                work = [(fds[w[0]], *w[1:]) for w in part]
                done = self._create(work, parent_pid)
            finally:
                for fd in fds:
                    os.close(fd)
            sock.send(marshal.dumps(done, _MARSHAL))

    def _delete_extra(
        self, fd: int, rel: bytes, present: Iterable[bytes], keep: set[bytes]
    ) -> None:
        for name in sorted(present):
            path = rel + name
            if name in keep or self._is_never(path):
                continue
            if path in self.protect:
                self.report.kept.append(path)
                continue
            st = _lstat(fd, name)
            if st is not None and self._remove(fd, name, path, st, in_way=False):
                self.report.deleted.append(path)

    def _same(self, parent: int, e: Entry, st: os.stat_result) -> bool:
        if e.kind == SYMLINK:
            return stat.S_ISLNK(st.st_mode) and os.readlink(e.name, dir_fd=parent) == e.ref
        if not stat.S_ISREG(st.st_mode) or st.st_size != e.size:
            return False
        fd = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
        try:
            return digest_fd(fd) == e.ref
        finally:
            os.close(fd)

    def _set_meta(self, parent: int, e: Entry, st: os.stat_result) -> None:
        if stat.S_IMODE(st.st_mode) != e.mode & _SAFE_MODE or st.st_mtime_ns != e.mtime_ns:
            if st.st_nlink > 1:
                # a hard link: its inode is shared with other paths, maybe outside the target
                # (a pnpm store): a copy of its own takes the mode and mtime
                with contextlib.suppress(CorruptObject):  # the bytes there are right already
                    self._write_entry(parent, e)
                return
            fd = os.open(e.name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=parent)
            try:
                os.fchmod(fd, e.mode & _SAFE_MODE)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)

    def _remove(
        self, parent: int, name: bytes, rel: bytes, st: os.stat_result, in_way: bool = True
    ) -> bool:
        """Remove what is at *rel* (in the way of the snapshot's entry, or extra under
        --delete); False, and reported, when it must stay."""
        if (st.st_dev, st.st_ino) in self.store_keep:
            self.report.store.append(rel)
            return False
        if rel in self.guarded or (
            in_way
            and not self.replace_dirs
            and stat.S_ISDIR(st.st_mode)
            and not _empty_dir(parent, name)
        ):
            self.report.kept.append(rel)
            return False
        # a folder in the way: what it holds is not in the snapshot, so it is named as deleted
        named = in_way and stat.S_ISDIR(st.st_mode)
        if self.dry_run:
            if named:
                fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
                try:
                    children = sorted(map(os.fsencode, os.listdir(fd)))
                finally:
                    os.close(fd)
                self.report.deleted.extend(rel + b"/" + child for child in children)
            return True
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=parent)
            return True
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        try:
            os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
            stayed = False
            for child in sorted(map(os.fsencode, os.listdir(fd))):
                cst = _lstat(fd, child)
                if cst is None:
                    continue
                if not self._remove(fd, child, rel + b"/" + child, cst, False):
                    stayed = True
                elif named:
                    self.report.deleted.append(rel + b"/" + child)
        finally:
            os.close(fd)
        if stayed:
            return False
        os.rmdir(name, dir_fd=parent)
        return True


_TMPFILE = getattr(os, "O_TMPFILE", 0)


def _unnamed(parent: int, mode: int = 0o600) -> int:
    """A new file with no name in the directory open on *parent* (O_TMPFILE), or -1 where
    the file system or the platform has none."""
    if not _TMPFILE:
        return -1
    try:
        return os.open(".", os.O_WRONLY | _TMPFILE | os.O_CLOEXEC, mode, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return -1
        raise


def _write_sparse(fd: int, chunks: Iterable[bytes], size: int) -> None:
    """Write *chunks* from offset 0, leaving holes for the whole blocks that are all zero
    (a sparse file stays sparse); the file ends up *size* bytes long."""
    bs = os.fstat(fd).st_blksize or 4096
    zero = bytes(bs)
    pos = 0
    for chunk in chunks:
        _pwrite_sparse(fd, chunk, pos, bs, zero)
        pos += len(chunk)
    os.ftruncate(fd, size)


def _pwrite_sparse(fd: int, data: bytes, pos: int, bs: int, zero: bytes) -> None:
    """Write *data* at file offset *pos*, skipping each aligned all-zero block."""
    i, n, search = 0, len(data), 0
    while True:
        p = data.find(zero, search)
        if p < 0:
            break
        b = p + (-(pos + p)) % bs  # the first block boundary at or after p
        if b + bs > n:
            break
        end = b
        while end + bs <= n and data[end : end + bs] == zero:
            end += bs
        if end == b:  # the zeros at p fill no whole block: write them with the rest
            search = b + 1
            continue
        _pwrite_all(fd, data[i:b], pos + i)
        i = search = end
    _pwrite_all(fd, data[i:], pos + i)


def _pwrite_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    if not data:
        return
    n = os.pwrite(fd, data, offset)
    if n == len(data):  # the common case: no view, no loop
        return
    view, offset = memoryview(data)[n:], offset + n
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


class _Failed(Exception):
    """An OSError writing *path* (in a writer thread, which cannot set Restorer.at)."""

    def __init__(self, path: bytes, error: OSError) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


def _first(pair: tuple[_Loc, _Item]) -> _Loc:
    """Storage order: objects of one pack by offset (a pack is then read front to back)."""
    return pair[0]


def _work(ready: list[tuple[_Loc, _Item]], number: dict[int, int] | None) -> list[_Work]:
    """The job a writer gets: its directories' descriptors (or their *number*s)."""
    return [
        (
            d.fd if number is None else number[d.fd],
            e.name,
            e.mode,
            e.mtime_ns,
            e.ref,
            None if loc is _NOWHERE else loc,
        )
        for loc, (d, e, _) in ready
    ]


def _can_fork() -> bool:
    """Whether writers may be forked processes: Linux (descriptors passed over a socket), and
    no other thread here that a fork could catch holding a lock."""
    return (
        sys.platform.startswith("linux")
        and hasattr(socket, "send_fds")
        and threading.active_count() == 1
    )


# A planning child's answer: files and links counted, the checked trees' keys and bytes, the
# small contents met and those met twice.
_Answer = tuple[int, list[bytes], list[bytes], list[bytes], list[bytes]]


class _Planner:
    """The forked child checking *part* (folders: key, path) of a plan (store/forked.py),
    killed and reaped once its answer is read, or at once when the plan fails here."""

    def __init__(self, child: forked.Child, part: list[tuple[bytes, bytes]]) -> None:
        self.child, self.part = child, part

    @staticmethod
    def start(restorer: Restorer, part: list[tuple[bytes, bytes]]) -> _Planner | None:
        """The child, forked; None when there is nothing to share or no fork or pipe."""
        if not part:
            return None
        budget = max(TREE_BYTES - restorer._cached, 0)

        def work(w: int) -> None:
            try:
                data = restorer._plan_part(part, budget)
            except BaseException:
                data = marshal.dumps(None)
            forked.write_all(w, data)

        child = forked.start(work)
        return None if child is None else _Planner(child, part)

    def take(self) -> _Answer | None:
        """The child's answer, once it has ended; None unless whole and well formed."""
        return _answer(self.child.read_all())

    def kill(self) -> None:
        self.child.stop()


def _answer(data: bytes) -> _Answer | None:
    """A planning child's answer when it has the form _plan_part gives, each tree's bytes
    those of its key (so the tree the child checked); None otherwise."""
    try:
        got = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if type(got) is not tuple or len(got) != 5:
        return None
    total, keys, trees, seen, shared = got
    if type(total) is not int or total < 0:
        return None
    lists = (keys, trees, seen, shared)
    if any(type(x) is not list for x in lists) or len(keys) != len(trees):
        return None
    if set(map(type, keys + trees + seen + shared)) - {bytes}:
        return None
    sha256 = hashlib.sha256
    if any(sha256(tree).digest() != key for key, tree in zip(keys, trees)):
        return None
    return total, keys, trees, seen, shared


class _Workers:
    """Writer processes, forked once the trees are checked and the contents located. Each
    gets jobs over its own socket, with the descriptors of the directories they write into,
    and answers each in order; it ends when the restore closes its end (or is gone)."""

    def __init__(self, restorer: Restorer, n: int) -> None:
        self.socks: list[socket.socket] = []
        self.pids: list[int] = []
        self.jobs: list[deque[tuple[list[_Item], list[_Dir]]]] = []  # each one's, oldest first
        self.running = 0  # jobs handed out and not taken
        # what each writer was given so far (bytes, and FILE_COST per file), and the writer
        # of each group met: a group's members always go to it, a new group to the least
        # loaded (by hash of the group, one writer of M's restore did 1.1-1.4x the other's CPU)
        self.load = [0] * n
        self.owner: dict[tuple[str, int], int] = {}
        me = os.getpid()
        for _ in range(n):
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            pid = os.fork()
            if pid == 0:  # the writer: never returns
                code = 1
                try:
                    ours.close()
                    for sock in self.socks:  # the others' ends: they must see EOF, not us
                        sock.close()
                    restorer.serve(theirs, me)
                    code = 0
                finally:
                    os._exit(code)
            theirs.close()
            self.socks.append(ours)
            self.pids.append(pid)
            self.jobs.append(deque())

    def send(
        self,
        ready: list[tuple[_Loc, _Item]],
        number: dict[int, int],
        fds: list[int],
        dirs: list[_Dir],
        shared: set[bytes],
    ) -> None:
        """Hand out the files of *ready* (in storage order; their directories' descriptors
        *fds*, each numbered in *number*): the members of one group always to the same writer
        (its groups stay in that writer's cache, packs.GROUP_CACHE: handed out by directory,
        each group was decompressed by every writer, 2.4 times in all on M), a new group and
        the rest to whichever was given the least so far (self.load). Each part's files come
        back with its answer (take), with *dirs*, which count one more job for each part
        beyond the first. Each part names the contents of it that *shared* holds (the
        writers were forked before the plan found them)."""
        n = len(self.socks)
        parts: list[tuple[list[_Work], list[_Item]]] = [([], []) for _ in range(n)]
        load, owner = self.load, self.owner
        group: tuple[str, int] = ("", -1)  # the group of the last member
        k = 0
        for loc, it in ready:
            d, e, _ = it
            if loc is _NOWHERE:
                k = min(range(n), key=load.__getitem__)
                load[k] += FILE_COST
                work: _Work = (number[d.fd], e.name, e.mode, e.mtime_ns, e.ref, None)
            else:
                if loc[4] < 0:
                    k = min(range(n), key=load.__getitem__)
                elif loc[1] != group[1] or loc[0] != group[0]:
                    group = (loc[0], loc[1])
                    got = owner.get(group)
                    if got is None:
                        got = owner[group] = min(range(n), key=load.__getitem__)
                    k = got
                load[k] += loc[3] + FILE_COST
                work = (number[d.fd], e.name, e.mode, e.mtime_ns, e.ref, loc)
            into = parts[k]
            into[0].append(work)
            into[1].append(it)
        # an empty job (all its files found damaged) still goes out: its answer finishes dirs
        given = [(k, w, t) for k, (w, t) in enumerate(parts) if w] or [(0, [], [])]
        for _ in given[1:]:
            for d in dirs:
                d.jobs += 1
        for k, part, part_todo in given:
            held = [w[4] for w in part if w[4] in shared]
            socket.send_fds(self.socks[k], [marshal.dumps((part, held), _MARSHAL)], fds)
            self.jobs[k].append((part_todo, dirs))
            self.running += 1

    def take(self) -> tuple[_Done, list[_Item], list[_Dir]]:
        """The answer of a writer done with its oldest job (waits for one)."""
        busy = [sock for sock, jobs in zip(self.socks, self.jobs) if jobs]
        readable, _, _ = select.select(busy, [], [])
        k = self.socks.index(readable[0])
        msg = self.socks[k].recv(MESSAGE)
        if not msg:
            raise OSError(errno.EPIPE, "a writer process ended before its work was done")
        todo, dirs = self.jobs[k].popleft()
        self.running -= 1
        done: _Done = marshal.loads(msg)
        return done, todo, dirs

    def stop(self) -> None:
        """Close our ends (each writer finishes the job it runs, then ends) and reap them."""
        for sock in self.socks:
            sock.close()
        for pid in self.pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _failure(k: int, exc: OSError) -> tuple[int, int, str]:
    """_Done's failure: the file work[k] could not be created, and why."""
    return k, exc.errno or 0, exc.strerror or str(exc)


def _mismatch(data: bytes | memoryview, key: bytes, pack: str) -> str | None:
    """Why *data* read from *pack* is not the object *key* (None: it is)."""
    h = _SHA256.copy()
    h.update(data)
    if h.digest() == key:
        return None
    return f"object {key.hex()[:16]} in pack {pack} does not match its hash"


def _unreadable(key: bytes, pack: str, exc: Exception) -> str:
    """Why an object is damaged, as Store.read_object says it."""
    return f"object {key.hex()[:16]} in pack {pack} is unreadable: {exc}"


class _Dir:
    """A directory being filled: open on *fd* (-1: a dry run's new one); *entry*: its own
    entry in the snapshot (None: the target, given no mode or mtime); *jobs*: jobs not taken
    yet that write into it; *filled*: every entry of it handed out; *chmod*: its mode must be
    set (mkdir gave it another); *own*: closed when finished."""

    __slots__ = ("chmod", "entry", "fd", "filled", "jobs", "own")

    def __init__(self, fd: int, entry: Entry | None, chmod: bool = True, own: bool = True) -> None:
        self.fd = fd
        self.entry = entry
        self.jobs = 0
        self.filled = False
        self.chmod = chmod
        self.own = own


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
