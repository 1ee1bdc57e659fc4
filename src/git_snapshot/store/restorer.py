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
import os
import sqlite3
import stat
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.errors import UserError
from git_snapshot.store import leftovers
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

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_SAFE_MODE = 0o777  # set-id and sticky bits are never restored
WHOLE = 4 << 20  # a file up to this size is read whole and checked before it is created
TREE_CACHE = 200_000  # entries of the trees the plan read, kept for writing (bounded memory)
_ZEROS = bytes(512)  # no all-zero block of any file system fits in data without this
PARALLEL_MIN = 512  # files: a smaller restore is written by the calling thread alone
JOB_FILES = 128  # new files per job handed to a writer thread
PENDING_DIRS = 64  # directories (open fds) whose jobs may be in flight at once

# What a writer thread hands back for one job: the paths it created, the entries whose name
# was taken meanwhile (written the careful way by the calling thread), the damaged ones.
_Done = tuple[list[bytes], list[tuple[Entry, bytes]], list[tuple[bytes, bytes, str]]]
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
    ) -> None:
        """*progress* is told (files done, files selected) as it goes. *protect*: relative
        paths never deleted or overwritten (what the pre-restore
        snapshot could not save); the directories that hold them are never removed either.
        *never*: top-level names never written, replaced or deleted, even when named (a
        repository's .git). *replace_dirs*: whether a non-empty directory in the way of a
        file may be removed (in place, the pre-restore snapshot holds it; elsewhere nothing
        does). *threads*: writer threads for new files (None: one per CPU, at most 4, when
        at least PARALLEL_MIN files are restored; 0: none)."""
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
        self.done = 0
        self.report = Report()
        self.store_root, self.store_keep = store_parts(store)
        self.at = b""  # the path being written, for an error message
        self.trees: dict[bytes, list[Entry]] = {}  # checked while planning, for writing
        self._cached = 0
        self.umask = _umask()
        self.threads = threads
        self.pool: ThreadPoolExecutor | None = None
        # directories whose new files are being written by the pool: (fd, entry, jobs)
        self.pending: deque[tuple[int, Entry, list[Future[_Done]]]] = deque()

    # -- planning: read and check every tree first, so a hostile one writes nothing ----------

    def find(self, snap: Snapshot, parts: list[bytes]) -> tuple[list[Entry], Entry | None]:
        """The entries on the way to a path, and its own entry (None for the root)."""
        chain: list[Entry] = []
        tree = snap.root
        entry: Entry | None = None
        for i, part in enumerate(parts):
            rel = b"".join(p + b"/" for p in parts[:i])
            found = [e for e in validate.read_tree(self.store, tree, rel) if e.name == part]
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

    def _plan(
        self, snap: Snapshot, selections: list[list[bytes]]
    ) -> list[tuple[list[bytes], list[Entry], Entry | None]]:
        for parts in selections:
            if parts and parts[0] in self.never:
                raise UserError(
                    f"refusing to restore {show(b'/'.join(parts))}: restore never writes "
                    f"into {show(parts[0])}"
                )
        found = [(parts, *self.find(snap, parts)) for parts in selections]
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
        walk = validate.walk(self.store, tree, rel, damaged=lambda path, exc: None, seen=self._keep)
        for _, e in walk:
            self.total += e.kind != DIR  # progress's total, for free: the walk is done anyway

    def _keep(self, key: bytes, entries: list[Entry]) -> None:
        if self._cached + len(entries) <= TREE_CACHE:
            self.trees[key] = entries
            self._cached += len(entries)

    def _tree(self, key: bytes, rel: bytes) -> list[Entry]:
        entries = self.trees.pop(key, None)
        return entries if entries is not None else validate.read_tree(self.store, key, rel)

    # -- execution --------------------------------------------------------------------------

    def restore(self, snap: Snapshot, target: str, paths: list[str | bytes] | None) -> Report:
        """Restore *paths* of *snap* (all of it: None or []) into *target*; raises Damaged,
        after writing everything else, when some paths' data is damaged or missing."""
        selections = [split_path(p) for p in paths] if paths else [[]]
        with self.store.lock():  # a concurrent gc must not move objects while we read them
            found = self._plan(snap, selections)
            top = self._open_target(target)
            n = self.threads if self.threads is not None else min(os.cpu_count() or 1, 4)
            if n > 1 and not self.dry_run and (self.threads or self.total >= PARALLEL_MIN):
                self.pool = ThreadPoolExecutor(n, thread_name_prefix="restore")
            try:
                self._write(snap, top, found)
                self._settle(0)
            except _Failed as failed:
                self.at = failed.path
                raise UserError(self._failed(target, failed.error)) from failed.error
            except OSError as exc:
                raise UserError(self._failed(target, exc)) from exc
            finally:
                self._stop()
                if top >= 0:
                    os.close(top)
        if self.report.damaged:
            raise Damaged(self.report.damaged, "restored", self.report)
        return self.report

    def _write(
        self, snap: Snapshot, top: int, found: list[tuple[list[bytes], list[Entry], Entry | None]]
    ) -> None:
        for parts, chain, entry in found:
            if entry is None:
                jobs = self._fill(top, snap.root, b"")
                self._settle(0)
                for job in jobs:
                    self._took(top, job.result(), marked=False)
                continue
            fd, own = self._parents(top, parts[:-1], chain)
            try:
                if fd >= 0 and not self.dry_run:
                    leftovers.sweep(fd)
                self._put(fd, entry, b"/".join(parts))
            finally:
                if own and fd >= 0:
                    os.close(fd)

    def _stop(self) -> None:
        """After an error: let the writer threads finish what they started, close the rest."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        while self.pending:
            os.close(self.pending.popleft()[0])

    def _settle(self, most: int) -> None:
        """Finish the oldest directories written by the pool until at most *most* are left:
        take their jobs' results, then give each its mode and mtime (after its contents)."""
        while len(self.pending) > most:
            fd, e, jobs = self.pending[0]
            for job in jobs:
                self._took(fd, job.result(), marked=False)
            self.pending.popleft()
            try:
                os.fchmod(fd, e.mode & _SAFE_MODE)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
            finally:
                os.close(fd)

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
        self, parent: int, name: bytes, entry: Entry, rel: bytes
    ) -> tuple[int, bool] | None:
        """Open (creating or replacing what is in the way) the directory *name*, and whether
        it was made just now (so it was empty); None when what is in the way must stay."""
        self.at = rel
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
            self.report.unchanged += 1
            if not self.dry_run and e.kind == FILE:
                self._set_meta(parent, e, st)
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

    def _put_dir(self, parent: int, e: Entry, rel: bytes) -> None:
        opened = self._open_dir(parent, e.name, e, rel)
        if opened is None:
            return
        fd, fresh = opened
        try:
            jobs = self._fill(fd, e.ref, rel + b"/", fresh)
            if jobs:  # mode and mtime once the pool wrote the files (_settle)
                self.pending.append((fd, e, jobs))
                fd = -1
                self._settle(PENDING_DIRS)
            elif fd >= 0 and not self.dry_run:
                os.fchmod(fd, e.mode & _SAFE_MODE)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
        finally:
            if fd >= 0:
                os.close(fd)

    def _write_entry(self, parent: int, e: Entry) -> None:
        """Write *e* to a temp name (ours, see safewrite) and rename it into place."""
        tmp = os.fsencode(os.path.basename(temp_name(os.fsdecode(e.name))))[: validate.MAX_NAME]
        if e.kind == SYMLINK:
            os.symlink(e.ref, tmp, dir_fd=parent)
            os.utime(tmp, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
            os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
            return
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=parent
        )
        try:
            leftovers.hold(fd)  # until renamed: no other run takes it for a leftover
            try:
                _write_sparse(fd, validate.stream_blob(self.store, e), e.size)
                os.fchmod(fd, e.mode & _SAFE_MODE)
                os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
                os.rename(tmp, e.name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                os.unlink(tmp, dir_fd=parent)
                raise
        finally:
            os.close(fd)

    def _fill(self, fd: int, tree: bytes, rel: bytes, fresh: bool = False) -> list[Future[_Done]]:
        """Write the entries of *tree* into the directory open on *fd* (*fresh*: made by this
        restore, so empty). Names nothing holds yet are created directly (_put_new), by the
        pool when there is one (its jobs are returned); the rest go the careful way (_put)."""
        try:
            entries = self._tree(tree, rel)
        except CorruptObject as exc:  # the listing is damaged: nothing below can be known
            self.report.damaged.append((rel.rstrip(b"/") or b".", str(exc)))
            return []
        writing = fd >= 0 and not self.dry_run
        present = leftovers.sweep(fd) if writing and not fresh else []
        there = set(present)
        jobs = []
        if writing:
            new = [e for e in entries if e.kind != DIR and e.name not in there]
            jobs = self._put_new(fd, rel, new)
        for e in entries:
            if not writing or e.kind == DIR or e.name in there:
                self._put(fd, e, rel + e.name)
        if self.delete and fd >= 0:
            if self.dry_run:
                present = [os.fsencode(n) for n in os.listdir(fd)]
            self._delete_extra(fd, rel, present, {e.name for e in entries})
        return jobs

    def _put_new(self, parent: int, rel: bytes, entries: list[Entry]) -> list[Future[_Done]]:
        """Create files and symlinks where nothing was when the directory was listed: in
        storage order, each read whole and checked first, then created under its own name
        (O_EXCL: if something appeared there meanwhile, that name goes the careful way).
        With a pool, the jobs doing it are returned (the index is only read here: SQLite
        stays in this thread)."""
        todo = [(e, rel + e.name) for e in entries if not self._passed(e, rel + e.name)]
        small = {e.ref for e, _ in todo if e.kind == FILE and e.size <= WHOLE}
        locs = self.store.index.locate_many(small) if small else {}
        todo.sort(key=lambda t: _order(locs.get(t[0].ref)))
        items: list[tuple[Entry, bytes, Location | None]] = []
        for e, path in todo:
            if e.kind == FILE and e.ref not in small:
                self.at = path
                self._put_file(parent, e, path)  # big: streamed to a temp file, then renamed
                continue
            loc = locs.get(e.ref)
            problem = validate.located_problem(e, loc) if e.kind == FILE else None
            if problem:
                self.report.damaged.append((path, problem))
                continue
            items.append((e, path, loc))
        if self.pool is None:
            if items:
                self._took(parent, self._create(parent, items), marked=True)
            return []
        return [
            self.pool.submit(self._create, parent, items[i : i + JOB_FILES])
            for i in range(0, len(items), JOB_FILES)
        ]

    def _create(self, parent: int, items: list[tuple[Entry, bytes, Location | None]]) -> _Done:
        """Create each item where nothing is (thread-safe: no SQLite, no report)."""
        made: list[bytes] = []
        taken: list[tuple[Entry, bytes]] = []
        damaged: list[tuple[bytes, bytes, str]] = []
        for e, path, loc in items:
            try:
                if e.kind == SYMLINK:
                    ok = self._new_link(parent, e)
                else:
                    try:
                        data = self.store.read_object(e.ref, loc)
                    except CorruptObject as exc:
                        damaged.append((path, e.ref, str(exc)))
                        continue
                    if len(data) != e.size:  # the index said otherwise: checked by _put_new
                        damaged.append((path, e.ref, f"content of {len(data)} bytes"))
                        continue
                    ok = self._new_file(parent, e, data)
            except OSError as exc:  # a full disk: the path goes into the one-line error
                raise _Failed(path, exc) from exc
            (made.append(path) if ok else taken.append((e, path)))
        return made, taken, damaged

    def _took(self, parent: int, done: _Done, marked: bool) -> None:
        """Enter a job's results in the report; names taken meanwhile go the careful way.
        *marked*: the damage was recorded in the index (not so by a writer thread: SQLite
        stays in this thread, so it is recorded here)."""
        made, taken, damaged = done
        self.report.created.extend(made)
        self.report.files += len(made)
        for path, key, why in damaged:
            self.report.damaged.append((path, why))
            if not marked:
                with contextlib.suppress(sqlite3.Error, UserError):
                    self.store.index.mark_damaged(key, why)
        for e, path in taken:
            self.at = path
            self._put_file(parent, e, path)

    def _new_file(self, parent: int, e: Entry, data: bytes) -> bool:
        """Create *e* holding *data*; False when its name is taken."""
        mode = e.mode & _SAFE_MODE
        try:
            fd = os.open(e.name, _NEW_FLAGS, mode, dir_fd=parent)
        except FileExistsError:
            return False
        try:
            if _ZEROS in data:
                _write_sparse(fd, [data], len(data))
            elif data:
                _pwrite_all(fd, data, 0)
            if mode & self.umask:  # open() gave it mode minus the umask
                os.fchmod(fd, mode)
            os.utime(fd, ns=(e.mtime_ns, e.mtime_ns))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(e.name, dir_fd=parent)
            raise
        finally:
            os.close(fd)
        return True

    def _new_link(self, parent: int, e: Entry) -> bool:
        try:
            os.symlink(e.ref, e.name, dir_fd=parent)
        except FileExistsError:
            return False
        os.utime(e.name, ns=(e.mtime_ns, e.mtime_ns), dir_fd=parent, follow_symlinks=False)
        return True

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
        if self.dry_run:
            return True
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=parent)
            return True
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        try:
            os.fchmod(fd, stat.S_IMODE(st.st_mode) | stat.S_IRWXU)
            stayed = False
            for child in map(os.fsencode, os.listdir(fd)):
                cst = _lstat(fd, child)
                if cst is not None and not self._remove(fd, child, rel + b"/" + child, cst, False):
                    stayed = True
        finally:
            os.close(fd)
        if stayed:
            return False
        os.rmdir(name, dir_fd=parent)
        return True


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


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


class _Failed(Exception):
    """An OSError writing *path* (in a writer thread, which cannot set Restorer.at)."""

    def __init__(self, path: bytes, error: OSError) -> None:
        super().__init__(path, error)
        self.path = path
        self.error = error


def _order(loc: Location | None) -> tuple[str, int]:
    """Storage order: objects of one pack by offset (a pack is then read front to back)."""
    return ("", 0) if loc is None else (loc.pack, loc.offset)


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
