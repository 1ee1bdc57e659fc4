"""The walk's entries that are not folders, and how a file's content is read and stored
(store/walker.py's ``_Walker`` takes these methods from ``_Files``): a regular file read
whole or streamed, checked against its stat before and after (READ_TRIES reads before it is
stored as last read and flagged as changed while read), a symlink's target, a special file
skipped; ``learn`` gives the files cache what may be kept of a file read unchanged."""

from __future__ import annotations

import errno
import os
import stat

from git_snapshot.store import filescache
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import CHANGED_WHILE_READ
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import Entry
from git_snapshot.store.reading import SMALL_FILE
from git_snapshot.store.reading import open_file
from git_snapshot.store.safewrite import is_temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import hashlib
    from collections.abc import Callable
else:
    from _collections_abc import Callable  # loaded at Python's start; collections.abc is not

    from git_snapshot import hashes as hashlib  # OpenSSL loaded on first use
if TYPE_CHECKING:
    from typing import Any
    from typing import TypeVar

    from git_snapshot.store.archiver import Classify
    from git_snapshot.store.archiver import Exclude
    from git_snapshot.store.archiver import Options
    from git_snapshot.store.core import Store
    from git_snapshot.store.packs import PackWriter
    from git_snapshot.store.reading import _ReadAhead

    _T = TypeVar("_T")

READ_TRIES = 3
# lstats of an entry found another type than it was lstat'ed as when read (_again), at most
LOOKS = 3


class _Unreadable(Exception):
    pass


class _Files:
    """_Walker's methods for the entries that are not folders (a folder's goes back to
    ``_dir_entry``) and for reading a file's content into the store."""

    if TYPE_CHECKING:  # the walker's state they use (store/walker.py: _Walker.__init__)

        def __init__(self) -> None:
            self.store: Store
            self.writer: PackWriter
            self.opts: Options
            self.damaged: dict[bytes, str]
            self.pending: set[bytes]
            self.ahead: _ReadAhead | None
            self.learned: tuple[bytes, bytes] | None
            self.racy_after: int
            self.misses: int
            self.files: int
            self.bytes: int
            self.changed: list[str]
            self.classify: Classify | None
            self.inherit: int | None
            self.exclude: Exclude | None
            self._skip: Callable[[bytes, str], None]
            self._vanished: Callable[[bytes, bytes], None]
            self.gone: dict[bytes, set[bytes]]
            self._dir_entry: Callable[
                [bytes, bytes, bytes, os.stat_result | None, int], Entry | None
            ]

    def _entry(
        self,
        path: bytes,
        rel: bytes,
        name: bytes,
        de: os.DirEntry[bytes] | None,
        label: int,
        st: os.stat_result | None = None,
        reads: int = READ_TRIES,
        looks: int = LOOKS,
    ) -> Entry | None:
        """The entry of *path* (its lstat *st*, or *de*'s); None when it is left out. *reads*:
        reads of a regular file before it is stored as last read (_file); *looks*: lstats
        left when it turns out another type than it was lstat'ed as (_again)."""
        opts = self.opts
        if rel in opts.overlay_deleted:
            return None
        if is_temp_name(name):  # a restore's temp file, or the user's named like one
            from git_snapshot.store import leftovers  # (not on an unchanged walk's imports)

            store = self.store
            if store is None:  # the split walk's child (no store): splitwalk's dir_entry
                # refuses the folder on this OSError and the parent walks it and judges
                raise OSError(errno.EAGAIN, "a temp-named entry: the parent judges it")
            ours = leftovers.verdict_at(store.path, path)
            if ours is not False:  # the store's record of a run proves it that run's
                if ours:  # a dead run's: a killed restore's goes now
                    leftovers.remove_if_dead(None, path)
                return None  # (None: a live run writes it)
        src = opts.overlay.get(rel) if opts.overlay else None
        try:
            if src is not None:
                st = os.lstat(src)
                path = src
            elif st is not None:
                pass
            elif de is not None:
                st = de.stat(follow_symlinks=False)
            else:  # a directory that only the overlay has
                return self._dir_entry(path, rel, name, None, label)
        except FileNotFoundError:
            self._gone(path, rel)
            return None  # vanished while we looked: nothing to lose
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            return self._dir_entry(path, rel, name, st, label)
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            self._skip(rel, special_kind(mode))
            return None
        if self.exclude is not None and self.exclude(rel, False):
            self._skip(rel, "excluded")
            return None
        ask = self.classify  # (not below an inherited label: what lies there has it)
        lab = label if label == self.inherit else ask(rel, False, label) if ask else 0
        if stat.S_ISLNK(mode):
            try:
                target = os.readlink(path)
            except FileNotFoundError:
                self._gone(path, rel)
                return None
            except OSError as exc:
                if exc.errno == errno.EINVAL:  # no longer a symlink
                    return self._again(path, rel, name, label, looks)
                self._skip(rel, f"unreadable: {exc.strerror}")
                return None
            self.files += 1
            return Entry(
                name, SYMLINK, stat.S_IMODE(mode), st.st_mtime_ns, len(target), target, lab
            )
        try:
            got = self._file(path, rel, st, src is None, reads)
        except _Unreadable as exc:
            self._skip(rel, f"unreadable: {exc}")
            return None
        if got is None:  # gone, or no longer a regular file
            return self._again(path, rel, name, label, looks)
        key, fst, size, flags = got
        self.files += 1
        self.bytes += size
        return Entry(name, FILE, stat.S_IMODE(fst.st_mode), fst.st_mtime_ns, size, key, lab, flags)

    def _again(self, path: bytes, rel: bytes, name: bytes, label: int, looks: int) -> Entry | None:
        """The entry at *path* was not what its lstat said when it was read: replaced by
        another type (a symlink by a file, a file by a symlink or a folder: rename replaces
        atomically, so the name never left), or gone. Taken as it is now; gone, it has
        nothing to lose; still changing after *looks* lstats, left out and said, never
        silently (RED27: it was taken for gone, and a symlink that became a file failed the
        snapshot)."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self._gone(path, rel)
            return None
        except OSError as exc:
            self._skip(rel, f"unreadable: {exc.strerror}")
            return None
        if looks <= 0:
            self._skip(rel, "unreadable: its type kept changing while it was read")
            return None
        return self._entry(path, rel, name, None, label, st, looks=looks - 1)

    def _gone(self, path: bytes, rel: bytes) -> None:
        """The entry at *path* (relative *rel*) went while this walk looked at it: its folder
        is listed again when its entries are done (renamed? walker._Walker._relisted)."""
        here, _, name = rel.rpartition(b"/")
        self.gone.setdefault(here, set()).add(name)
        self._vanished(path.rpartition(b"/")[0], here)

    def _known(self, key: bytes) -> bool:
        return key in self.pending or (self.store.index.has(key) and key not in self.damaged)

    def _file(
        self, path: bytes, rel: bytes, st: os.stat_result, cacheable: bool, tries: int = READ_TRIES
    ) -> tuple[bytes, os.stat_result, int, int] | None:
        """(content key, stat, size stored, flags), or None if the file vanished; sets
        ``learned`` when the files cache may keep what was read (tree() takes it). *tries*:
        reads left (tree() made the first one when _read_listed gave nothing)."""
        self.misses += 1
        for attempt in range(tries):
            got = self._read(path, attempt == tries - 1)
            if got is None:
                return None
            key, fst, size, stable = got
            if stable:
                if cacheable:
                    self.learn(fst, key)
                return key, fst, size, 0
        self.changed.append(os.fsdecode(rel))
        return key, fst, size, CHANGED_WHILE_READ

    def learn(self, fst: os.stat_result, key: bytes) -> None:
        """The files cache may keep *key* for a file read unchanged with the stat *fst*,
        unless it changed too recently to tell a later change by its stat (tree() takes it)."""
        if max(fst.st_mtime_ns, fst.st_ctime_ns) < self.racy_after:
            self.learned = (filescache.pack_stat(fst), key)

    def _read(self, path: bytes, last_try: bool) -> tuple[bytes, os.stat_result, int, bool] | None:
        """Store one file's content; None if it vanished or is no longer a regular file."""
        got = self.ahead.take(path) if self.ahead is not None else None
        if got is not None:  # read whole and hashed in a thread: this read's first try
            after, data, key, stable = got
            if (stable or last_try) and key not in self.pending:
                self.writer.add(BLOB, key, data, dedupe=True)
                self.pending.add(key)
            return key, after, len(data), stable
        try:
            fd = open_file(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a symlink: _entry looks again (_again)
                return None
            raise _Unreadable(exc.strerror) from exc
        try:
            try:
                before = os.fstat(fd)
            except OSError as exc:
                raise _Unreadable(exc.strerror) from exc
            if not stat.S_ISREG(before.st_mode):
                return None
            if before.st_size < SMALL_FILE:
                return self._read_small(fd, before, last_try)
            return self._read_stream(fd, before, last_try)
        finally:
            os.close(fd)

    def _read_small(
        self, fd: int, before: os.stat_result, last_try: bool
    ) -> tuple[bytes, os.stat_result, int, bool]:
        # one read of the size fstat gave, plus one byte: a short read is the end of the
        # file (a buffer of CHUNK per file cost an mmap and a munmap each)
        try:  # (as _source does, without a call per system call)
            data = os.read(fd, before.st_size + 1)
            if len(data) > before.st_size:  # it grew meanwhile: the rest, then read again
                from git_snapshot.store.packfmt import CHUNK  # (the pack code: when it writes)

                chunks = [data]
                while chunk := os.read(fd, CHUNK):
                    chunks.append(chunk)
                data = b"".join(chunks)
            after = os.fstat(fd)
        except OSError as exc:
            raise _Unreadable(exc.strerror) from exc
        stable = _same(before, after) and len(data) == after.st_size
        key = hashlib.sha256(data).digest()
        if (stable or last_try) and key not in self.pending:
            self.writer.add(BLOB, key, data, dedupe=True)
            self.pending.add(key)
        return key, after, len(data), stable

    def _read_stream(
        self, fd: int, before: os.stat_result, last_try: bool
    ) -> tuple[bytes, os.stat_result, int, bool]:
        from git_snapshot.store.packfmt import CHUNK  # (the pack code: when it writes)

        rec = self.writer.begin_stream()
        try:
            while True:
                chunk = _source(os.read, fd, CHUNK)
                if not chunk:
                    break
                rec.write(chunk)
            after = _source(os.fstat, fd)
        except _Unreadable:
            rec.discard()  # not a torn record left in the pack
            raise
        stable = _same(before, after) and rec.size == after.st_size
        key = rec.digest()
        if (stable or last_try) and not self._known(key):
            rec.commit(BLOB)
            self.pending.add(key)
        else:
            rec.discard()
        return key, after, rec.size, stable


def _source(fn: Callable[..., _T], *args: Any) -> _T:
    """Call *fn* on the file being snapshotted: its errors make that file unreadable, whereas
    errors writing the store (a full disk) must fail the snapshot."""
    try:
        return fn(*args)
    except OSError as exc:
        raise _Unreadable(exc.strerror) from exc


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def special_kind(mode: int) -> str:
    """What the walker calls an entry that is neither file, folder nor symlink (the skipped
    line's words; safety.HOLD_NOTHING)."""
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"
