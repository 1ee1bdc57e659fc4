"""How a walk reads a small file whole: beside it in threads (_ReadAhead), for the split walk's
and a rebuild's readers (read_whole), and inline (_read_listed)."""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import hashlib
    from typing import Any
else:
    from git_snapshot import hashes as hashlib  # OpenSSL loaded on first use

SMALL_FILE = 4 << 20  # read whole below this, stream above


class _ReadAhead:
    """A first walk's small files, read whole (read_whole) and hashed by a few threads (the
    system calls, SHA-256 and the copy release the GIL) just ahead of the walk, which takes
    each result in its own order and does everything else as before (the writer, the checks
    of ``_read``). Folder by folder: the walk pushes the small regular files of the folder it
    lists, in the order it will take them, and pops the folder when it is done (what it did
    not take is dropped); the innermost folder's files are read first, and at most FILES
    files or BYTES bytes are read and not taken yet. A read that fails or finds anything
    unusual (not a regular file, grown, gone) gives nothing: the walk reads that file itself,
    as before, with the same errors. First snapshot of M (interleaved, machine shared): the
    walking thread 5.8-6.8 -> 4.5-4.9 s CPU, the process 13.2-15.7 -> 14.3-15.8 s (the reads
    move to other threads, they do not vanish: a gain where the walking thread is the longest
    one, as with more cores or a busy machine)."""

    FILES = 32
    BYTES = 4 << 20

    def __init__(self, threads: int) -> None:
        from git_snapshot.store.packs import _Pool

        self._pool = _Pool(threads)
        # per folder pushed: files not yet handed to the threads (the next one last), paths
        # handed
        self._folders: list[tuple[list[tuple[bytes, int]], list[bytes]]] = []
        self._jobs: dict[bytes, tuple[Any, int]] = {}  # path -> (future, size)
        self._bytes = 0

    def push(self, files: list[tuple[bytes, int]]) -> None:
        files.reverse()
        self._folders.append((files, []))
        self._fill()

    def pop(self) -> None:
        _, handed = self._folders.pop()
        for path in handed:
            job = self._jobs.pop(path, None)
            if job is not None:  # not taken (excluded, gone, a folder now): dropped
                job[0].cancel()
                self._bytes -= job[1]
        self._fill()

    def _fill(self) -> None:
        jobs = self._jobs
        while len(jobs) < self.FILES and self._bytes < self.BYTES:
            for folder in reversed(self._folders):
                if folder[0]:
                    break
            else:
                return
            todo, handed = folder
            path, size = todo.pop()
            jobs[path] = (self._pool.submit(_read_ahead, path), size)
            handed.append(path)
            self._bytes += size

    def take(self, path: bytes) -> tuple[os.stat_result, bytes, bytes, bool] | None:
        """What was read of *path* (fstat after the read, data, SHA-256, unchanged while
        read); None: read it."""
        job = self._jobs.pop(path, None)
        if job is None:
            if self._folders:  # not handed yet: the walk reads it, so the threads never do
                todo = self._folders[-1][0]
                if todo and todo[-1][0] == path:
                    todo.pop()
            return None
        self._bytes -= job[1]
        self._fill()
        try:
            got: tuple[os.stat_result, bytes, bytes, bool] | None = job[0].result()
        except OSError:
            return None
        return got

    def close(self) -> None:
        for fut, _ in self._jobs.values():
            fut.cancel()
        self._jobs.clear()
        self._folders.clear()
        self._pool.shutdown()


_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
_NOATIME = getattr(os, "O_NOATIME", 0)


def open_file(path: bytes) -> int:
    """A descriptor of the file at *path* opened as a walk reads a file: never through a
    symlink, never waiting on a FIFO, without touching its access time when this process may
    (O_NOATIME needs ownership; else without it). Raises what os.open raises."""
    try:
        return os.open(path, _OPEN | _NOATIME)
    except PermissionError:  # O_NOATIME needs ownership
        return os.open(path, _OPEN)


def _read_ahead(path: bytes) -> tuple[os.stat_result, bytes, bytes, bool] | None:
    """A small regular file read whole (_read_whole) and its SHA-256. A read during which it
    changed is the walk's first try of that file (it tries again, as after its own)."""
    got = _read_whole(path, SMALL_FILE)
    return None if got is None else (got[0], got[1], hashlib.sha256(got[1]).digest(), got[2])


def read_whole(path: bytes, limit: int) -> tuple[os.stat_result, bytes] | None:
    """(fstat after the read, content) of the regular file at *path* if it is smaller than
    *limit*, read as ``_Walker._read`` reads it, for the threads that read ahead of a walk
    (rebuild.Ahead; _ReadAhead through _read_whole); None if it is anything else, cannot be
    read, or changed while it was read (then the walk reads it itself, and says so)."""
    got = _read_whole(path, limit)
    return None if got is None or not got[2] else (got[0], got[1])


def _read_whole(path: bytes, limit: int) -> tuple[os.stat_result, bytes, bool] | None:
    """read_whole's read, and whether the file was unchanged while read. Opened only once
    lstat says it is a regular file (opening a device may do something), then fstat'ed before
    and after one read of its size plus one byte; unchanged: the same device, inode, mode,
    size, mtime and ctime before and after, and as many bytes as the size."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size >= limit:
            return None
        fd = open_file(path)
    except OSError:
        return None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode) or before.st_size >= limit:
            return None
        data = os.read(fd, before.st_size + 1)
        after = os.fstat(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    return after, data, len(data) == after.st_size and _stat_id(before) == _stat_id(after)


def _read_listed(path: bytes, st: os.stat_result) -> bytes | None:
    """The content of the small regular file at *path* if it is as it was listed with the
    lstat *st*: one read of its size plus one byte, then fstat, which must give the same
    device, inode, mode, size, mtime and ctime, with as many bytes as that size (the checks
    of ``_Walker._read`` with the listing's lstat as the stat before: a file changed since it
    was listed fails them). None on anything else, errors included: the caller reads it the
    careful way (``_Walker._file``), which retries and names what went wrong. One call, one
    system call fewer per file than that way (the walking thread of a first snapshot)."""
    try:
        fd = open_file(path)
    except OSError:
        return None
    try:
        data = os.read(fd, st.st_size + 1)
        after = os.fstat(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if (
        len(data) == st.st_size
        and after.st_size == st.st_size
        and after.st_mtime_ns == st.st_mtime_ns
        and after.st_ctime_ns == st.st_ctime_ns
        and after.st_ino == st.st_ino
        and after.st_dev == st.st_dev
        and after.st_mode == st.st_mode
    ):
        return data
    return None


def _stat_id(st: os.stat_result) -> tuple[int, int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


_UNREAD: Any = object()


# the most bytes a ListedReads batch reads (listed sizes): what a folder holds read at once; a
# file bigger than this is not read in a batch (nor is one of SMALL_FILE or more: streamed)
BATCH_BYTES = SMALL_FILE - 1


class ListedReads:
    """A folder's small files read and hashed a batch at a time by ``readmany.read`` (C, the
    GIL let go once per batch of at most ``BATCH_BYTES``), for a walk that reads them as
    listed (``_Walker._built``'s inline read): ``take(i)`` gives entry *i*'s (content,
    SHA-256), or None where ``_read_listed`` would have given None (the walk then reads it the
    careful way). A batch is the entries of *todo* from the one taken up to the next folder
    (what is not a regular file is skipped): only the batch holding the file taken is in
    memory, and none while a subfolder is walked."""

    __slots__ = ("_at", "_got", "_names", "_pre", "_read", "_stats", "_todo")

    def __init__(
        self, read: Any, pre: bytes, names: list[bytes], stats: list[Any], todo: list[int]
    ) -> None:
        self._read, self._pre, self._names, self._stats, self._todo = read, pre, names, stats, todo
        self._at = 0  # the next of todo to read
        self._got: dict[int, tuple[bytes, bytes] | None] = {}

    def take(self, i: int) -> tuple[bytes, bytes] | None:
        got: tuple[bytes, bytes] | None = self._got.pop(i, _UNREAD)
        if got is _UNREAD:
            got = self._next(i)
        return got

    def _next(self, i: int) -> tuple[bytes, bytes] | None:
        """Read the batch that starts at entry *i* (the entries before it that were not
        taken are skipped: never read)."""
        todo = self._todo
        try:
            at = todo.index(i, self._at)
        except ValueError:  # (taken twice, or not in todo: read as before)
            data = _read_listed(self._pre + self._names[i], self._stats[i])
            return None if data is None else (data, hashlib.sha256(data).digest())
        got = self._read(self._pre, self._names, self._stats, todo, at, BATCH_BYTES)
        self._at = at + len(got)
        self._got = dict(zip(todo[at : self._at], got))
        answer: tuple[bytes, bytes] | None = self._got.pop(i)
        return answer
