"""A restore's writers (store/restorer.py): new files created where nothing was, job by job,
in writer threads or forked writer processes (_Workers, given the directories' descriptors
over a socket). Each file's content is read in storage order (the frames of a span, the
members of a group at once), decompressed, checked against its key, and written unnamed
(O_TMPFILE), given its mode and mtime, and only then linked under its name. Past the
decompression, the per-file work runs in C (_readmany.put, one call per group or span) where
it is built; Writing._put_files_py is its twin, and writes the named way where O_TMPFILE or
/proc is missing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import marshal
import operator
import os
import select
import socket
import sys
import threading
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable

from git_snapshot.store import leftovers
from git_snapshot.store import packs
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.ctree import PURE_ENV
from git_snapshot.store.objects import Entry
from git_snapshot.store.pids import die_with_parent
from git_snapshot.store.pids import ignore_stops

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    import zstandard
else:  # its C backend without the package's costly __init__ (store/zstd.py)
    from git_snapshot.store import zstd as _zstd

    zstandard = _zstd.load()

_NEW_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# the mode bits a restore gives a file: its permissions and the sticky bit (which only narrows
# who may delete); never set-uid or set-gid (stored paths are untrusted input: DESIGN)
_SAFE_MODE = 0o1777
_ZEROS = bytes(512)  # no all-zero block of any file system fits in data without this
JOB_DIRS = 128  # directories (open descriptors) one job may write into (SCM_RIGHTS: <= 253)
SPAN = 1 << 20  # bytes of a pack read at once for the frames of consecutive files of a job
GAP = 16 << 10  # bytes of other objects between two frames still read in one span
DICTS = 4  # packs whose dictionaries each writer thread keeps ready
KEPT_BYTES = 16 << 20  # in all, at most, per writer process
FILE_COST = 8 << 10  # bytes a writer could decompress and write in the time a file costs
MESSAGE = 1 << 20  # the longest message between the restore and a writer process
_MARSHAL = 2  # marshal's format for them: no table of shared objects to build (3 and up)

# Where a file's content lies: pack, offset, frame length, size, place in its group (or -1).
_Loc = tuple[str, int, int, int, int]
# A file or symlink gathered for a job: where its content lies (_NOWHERE for a symlink, None
# while not looked up), its directory, entry, and its path (the report's: made once, as the
# item is).
_Item = tuple["_Loc | None", "_Dir", Entry, bytes]
# ...as a writer gets it: the directory's descriptor (for a writer process: its index among
# the descriptors sent along), name, mode, mtime, content key or link target, and where
# the content lies (None for a symlink).
_Work = tuple[int, bytes, int, int, bytes, "_Loc | None"]
# What a writer hands back for one job: the positions of the names taken meanwhile (written
# the careful way by the calling thread), of the damaged files (with key and why), and where
# it stopped on an error (position, errno, message; a full disk).
_Done = tuple[list[int], list[tuple[int, bytes, str]], "tuple[int, int, str] | None"]
_NOWHERE: _Loc = ("", 0, 0, 0, -1)
# Writing._put_files's answers (_readmany.put's): done; stopped (the restore is gone); failed at a
# file; from this file the named way (no O_TMPFILE or no /proc); the group is to be read
_DONE, _STOPPED, _FAILED, _NAMED, _NEED = range(5)
PUT_INTERFACE = 1  # _readmany.put's arguments and answers (its PUT_INTERFACE, bumped with them)
BATCH = 4 << 20  # decompressed bytes of a span's files held at once before they are written
_SHA256 = hashlib.sha256()  # copied per object: cheaper than looking the digest up each time


def _choose_put() -> Callable[..., tuple[int, int, int, str | None, int]] | None:
    """_readmany.put where it is built for this PUT_INTERFACE (and GIT_SNAPSHOT_PURE_PYTHON
    is not 1), else None: then Writing._put_files_py writes every file, with the same results."""
    if os.environ.get(PURE_ENV) == "1":
        return None
    try:
        from git_snapshot.store import _readmany
    except ImportError:
        return None
    if getattr(_readmany, "PUT_INTERFACE", 0) != PUT_INTERFACE:
        return None
    put: Callable[..., tuple[int, int, int, str | None, int]] = _readmany.put
    return put


# the writers' C loop (Writing._put_files), or None; a test that patches _pwrite_all or _new_file
# to kill a restore at a write sets it to None (the C loop calls neither)
_native_put = _choose_put()
NATIVE = _native_put is not None


def _first(d: tuple[int, bytes, str]) -> int:
    return d[0]


class Writing:
    """The writers' half of restorer.Restorer (the attributes are its own, set there):
    thread-safe, no SQLite, no report."""

    store: Store
    umask: int
    unnamed: bool  # files written with no name first (O_TMPFILE)
    # this process's /proc/self/fd, open (-1: not opened yet, -2: none): _link_unnamed
    proc_fd: int
    temps: leftovers.Run | None  # the record of the temp names this run gives (restore())
    _local: threading.local  # each writer thread's zstd contexts
    # contents of more than one file of the selection, and those kept as a writer read them
    shared: set[bytes]
    kept: dict[bytes, bytes]
    kept_bytes: int

    def _temp_name(self, parent: int, name: bytes) -> bytes:
        """A temp name for *name* in the folder open on *parent*, recorded as this run's
        (leftovers.Run) before it exists: only then may a later run remove it as litter."""
        temps = self.temps
        if temps is None:  # (a Writing not made by Restorer.restore)
            temps = self.temps = leftovers.Run(self.store.path)
        return temps.name(parent, name)[: validate.MAX_NAME]

    def _sweep(self, fd: int) -> list[bytes]:
        """leftovers.sweep of the folder open on *fd*: only what the store's records prove
        the temp files of dead runs (a user's file named like one stays)."""
        return leftovers.sweep(fd, leftovers.dead_runs(self.store.path, fd))

    def _create(self, work: list[_Work], parent_pid: int = 0) -> _Done:
        """Create each file or symlink of *work* where nothing is (thread-safe: no SQLite, no
        report). The frames of files that lie close together in a pack are read at once (a
        span); each file is decompressed and checked against its key before it is created
        (_put_files: in C where it is built).
        *parent_pid*: in a writer process, the restore's (it stops when that one is gone)."""
        taken: list[int] = []
        damaged: list[tuple[int, bytes, str]] = []
        failed = self._create_into(work, parent_pid, taken, damaged)
        damaged.sort(key=_first)  # (a batch's unreadable frames were named before the rest)
        return taken, damaged, failed

    def _create_into(
        self,
        work: list[_Work],
        parent_pid: int,
        taken: list[int],
        damaged: list[tuple[int, bytes, str]],
    ) -> tuple[int, int, str] | None:
        """_create's work; its failure (or None)."""
        read = self.store.reader.frame
        n = len(work)
        i = 0
        while i < n:
            loc = work[i][5]
            if loc is None:  # symlinks, up to the next file
                j = i + 1
                while j < n and work[j][5] is None:
                    j += 1
                _, status, failed = self._put_files(
                    work, i, j, [None] * (j - i), None, parent_pid, taken, damaged
                )
                if status != _DONE:
                    return failed
                i = j
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
                    return failed
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
            datas: list[bytes | None] = []
            first = i
            held = 0
            for k in range(i, j):
                ref = work[k][4]
                _, offset, length, size, _ = work[k][5]  # type: ignore[misc]
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
                    datas.append(None)
                else:
                    datas.append(data)
                    held += size
                if held >= BATCH or k == j - 1:  # written: so much held at most, and the
                    _, status, failed = self._put_files(  # frames after it read only then
                        work, first, k + 1, datas, None, parent_pid, taken, damaged
                    )
                    if status != _DONE:
                        return failed
                    datas = []
                    first = k + 1
                    held = 0
            i = j
        return None

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
        k, status, failed = self._put_files(work, i, j, None, None, parent_pid, taken, damaged)
        if status == _NEED:
            pack, offset, length, _, _ = work[k][5]  # type: ignore[misc]
            why = None
            try:
                content = self.store.reader.group(pack, offset, length)
            except (OSError, zstandard.ZstdError) as exc:
                # every member not kept is damaged; the kept are written
                content, why = b"", str(exc)
            k, status, failed = self._put_files(
                work, k, j, content, why, parent_pid, taken, damaged
            )
        return k, failed

    def _put_files(
        self,
        work: list[_Work],
        i: int,
        j: int,
        content: bytes | list[bytes | None] | None,
        why: str | None,
        parent_pid: int,
        taken: list[int],
        damaged: list[tuple[int, bytes, str]],
    ) -> tuple[int, int, tuple[int, int, str] | None]:
        """Create work[i:j] from *content* as _put_files_py says, in C where it is built
        (_readmany.put) and the files are written unnamed; from a file that cannot be (no
        O_TMPFILE, no /proc), in Python the named way. Where it stopped, why (_DONE...), and
        the failure (_Done's) when it failed."""
        put = _native_put
        if put is not None and self.unnamed and _TMPFILE:
            proc = self.proc_fd
            if proc == -1:
                proc = self.proc_fd = _proc_fds()
            k, status, err, msg, added = put(
                work, i, j, content, why, parent_pid, proc, self.umask, taken, damaged,
                self.kept, self.shared, KEPT_BYTES - self.kept_bytes,
            )  # fmt: skip
            self.kept_bytes += added
            if status == _FAILED:
                return k, status, (k, err, msg or "")
            if status != _NAMED:
                return k, status, None
            self.unnamed = False  # this file and the rest: the named way
            if isinstance(content, list):  # (one item per file from work[i] on)
                content = content[k - i :]
            i = k
        return self._put_files_py(work, i, j, content, why, parent_pid, taken, damaged)

    def _put_files_py(
        self,
        work: list[_Work],
        i: int,
        j: int,
        content: bytes | list[bytes | None] | None,
        why: str | None,
        parent_pid: int,
        taken: list[int],
        damaged: list[tuple[int, bytes, str]],
    ) -> tuple[int, int, tuple[int, int, str] | None]:
        """Create the files and symlinks of work[i:j] where nothing is, and say where it
        stopped and why: (k, _DONE, None) with k = j; (k, _STOPPED, None): the restore
        (*parent_pid*, unless 0) is gone; (k, _FAILED, failure): work[k] could not be
        created (a full disk); (k, _NEED, None): work[k]'s group is to be read, then
        called again from k. The specification of _readmany.put (its C twin).
        *content*: the group (bytes) all of work[i:j] lie in, each at its place in it, or
        None (not read yet); or a list, one item per file of work[i:j]: its own frame's
        content, or None where it was found damaged. *why*: the group could not be read.
        A file whose content is not its key's goes into *damaged* (its position, key and
        why), one whose name was taken meanwhile into *taken*; a group's member whose
        content *shared* holds is kept (self.kept) for the next files of it, while the kept
        hold less than KEPT_BYTES."""
        kept, shared = self.kept, self.shared
        view = memoryview(content) if isinstance(content, bytes) else None
        for k in range(i, j):
            if parent_pid and os.getppid() != parent_pid:
                return k, _STOPPED, None
            parent, name, mode, mtime, ref, loc = work[k]
            try:
                if loc is None:  # a symlink
                    if not self._new_link(parent, name, ref, mtime):
                        taken.append(k)
                    continue
                pack, _, _, size, inner = loc
                holes = False
                data: bytes | memoryview | None
                if isinstance(content, list):
                    data = content[k - i]
                    if data is None:  # found damaged already
                        continue
                    bad = _mismatch(data, ref, pack)
                    if bad is not None:
                        damaged.append((k, ref, bad))
                        continue
                    holes = b"\0" in data and _ZEROS in data
                else:
                    data = kept.get(ref)
                    if data is not None:
                        holes = b"\0" in data and _ZEROS in data
                    elif content is None or view is None:
                        return k, _NEED, None
                    else:
                        end = inner + size
                        if inner < 0 or end > len(content):
                            past = "object lies past the end of its group" if why is None else why
                            damaged.append((k, ref, _unreadable(ref, pack, past)))
                            continue
                        data = view[inner:end]
                        bad = _mismatch(data, ref, pack)
                        if bad is not None:
                            damaged.append((k, ref, bad))
                            continue
                        holes = (
                            content.find(0, inner, end) >= 0
                            and content.find(_ZEROS, inner, end) >= 0
                        )
                        if ref in shared and self.kept_bytes < KEPT_BYTES:
                            data = kept[ref] = bytes(data)  # the next files of it take it
                            self.kept_bytes += size
                if not self._new_file(parent, name, mode, mtime, data, holes):
                    taken.append(k)
            except OSError as exc:  # this file is the one named (a full disk)
                return k, _FAILED, _failure(k, exc)
        return j, _DONE, None

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
            tmp = self._temp_name(parent, name)
            fd = os.open(tmp, _NEW_FLAGS, mode, dir_fd=parent)
        try:
            if tmp:
                leftovers.hold(fd)
            if holes:
                _write_sparse(fd, [bytes(data)], len(data))
            elif data:
                _pwrite_all(fd, data, 0)
            if mode & (self.umask | 0o1000):  # open() gave it mode minus the umask (and sticky)
                os.fchmod(fd, mode)
            os.utime(fd, ns=(mtime, mtime))
            if not tmp:
                try:
                    self._link_unnamed(fd, parent, name)
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

    def _link_unnamed(self, fd: int, parent: int, name: bytes) -> None:
        """Give the unnamed file open on *fd* the name *name* in the folder open on *parent*
        (linkat through /proc/self/fd/FD, which needs no privilege; EEXIST as O_EXCL gives
        it; FileNotFoundError without /proc). The path is taken from this process's
        /proc/self/fd, kept open: one component to walk instead of four (~1 us less per
        file: linkat 8.97 -> 8.02 us of CPU on tmpfs, docs/JOURNAL.md, session 15)."""
        proc = self.proc_fd
        if proc == -1:
            proc = self.proc_fd = _proc_fds()
        if proc >= 0:
            os.link(str(fd), name, src_dir_fd=proc, dst_dir_fd=parent)
        else:
            os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=parent)

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
        # the restore's /proc/self/fd names its own process's files: this one opens its own
        if self.proc_fd >= 0:
            os.close(self.proc_fd)
        self.proc_fd = _proc_fds()
        # malloc's thresholds as a first snapshot's writer fixes them: a group decompressed (2
        # MiB) and freed was otherwise a fresh mapping faulted in page by page; M's restore:
        # its writers' page faults 30-36k -> 19k
        packs.give_back_big_blocks()
        while True:
            msg, fds, _, _ = socket.recv_fds(sock, MESSAGE, JOB_DIRS)
            if not msg:
                return
            try:
                part, held = marshal.loads(msg)
                self.shared.update(held)
                # (unpacked: 3x faster than (fds[w[0]], *w[1:]), ~12 ms of M's writers)
                work = [(fds[n], name, mode, t, key, at) for n, name, mode, t, key, at in part]
                done = self._create(work, parent_pid)
            finally:
                for fd in fds:
                    os.close(fd)
            sock.send(marshal.dumps(done, _MARSHAL))


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


def _proc_fds() -> int:
    """This process's /proc/self/fd, open (-2 where there is none). Opened by each process
    that links unnamed files: inherited by a fork, it would still name the files of the
    process that opened it."""
    try:
        return os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return -2


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


def _can_fork() -> bool:
    """Whether writers may be forked processes: Linux (descriptors passed over a socket), and
    no other thread here that a fork could catch holding a lock."""
    return (
        sys.platform.startswith("linux")
        and hasattr(socket, "send_fds")
        and threading.active_count() == 1
    )


class _Workers:
    """Writer processes, forked once the trees are checked and the contents located. Each
    gets jobs over its own socket, with the descriptors of the directories they write into,
    and answers each in order; it ends when the restore closes its end (or is gone)."""

    def __init__(self, restorer: Writing, n: int) -> None:
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
            # a message is at most the sender's send buffer (net.core.wmem_default: 212,992
            # bytes): room for a job's answer naming 1024 damaged files (~200 bytes each).
            # Linux doubles what is asked, up to twice net.core.wmem_max: at most MESSAGE
            for end in (ours, theirs):
                with contextlib.suppress(OSError):
                    end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, MESSAGE // 2)
            pid = os.fork()
            if pid == 0:  # the writer: never returns
                code = 1
                try:
                    die_with_parent(me)  # never at a file (seconds, a big one) after it died
                    ignore_stops()  # the restore stops it (Ctrl-C reaches the whole group)
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
        ready: list[_Item],
        number: dict[int, int],
        fds: list[int],
        dirs: list[_Dir],
        shared: set[bytes],
    ) -> None:
        """Hand out the files of *ready* (located, in storage order; their directories'
        descriptors *fds*, each numbered in *number*) as share_out splits them. Each part's
        files come back with its answer (take), with *dirs*. Each part names the contents of
        it that *shared* holds (the writers were forked before the plan found them)."""
        for k, part in share_out(ready, self.load, self.owner, dirs):
            self._send(k, part, number, fds, dirs, shared)

    def _send(
        self,
        k: int,
        part: list[_Item],
        number: dict[int, int],
        fds: list[int],
        dirs: list[_Dir],
        shared: set[bytes],
    ) -> None:
        """Send *part* to writer *k* as one message; one longer than its socket takes (the
        send buffer, net.core.wmem_default: 212,992 bytes, not MESSAGE; 1024 files of names
        of 80 bytes are more) goes in two jobs, each of *dirs* counting one more."""
        work = _work(part, number)
        held = list(shared.intersection(map(_KEY, work))) if shared else []
        try:
            socket.send_fds(self.socks[k], [marshal.dumps((work, held), _MARSHAL)], fds)
        except OSError as exc:
            if exc.errno != errno.EMSGSIZE or len(part) < 2:
                raise
            for d in dirs:
                d.jobs += 1
            half = len(part) // 2
            self._send(k, part[:half], number, fds, dirs, shared)
            self._send(k, part[half:], number, fds, dirs, shared)
            return
        self.jobs[k].append((part, dirs))
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


def share_out(
    ready: list[_Item],
    load: list[int],
    owner: dict[tuple[str, int], int],
    dirs: list[_Dir],
) -> list[tuple[int, list[_Item]]]:
    """A job's files (*ready*, located, in storage order) split between the writers
    (processes or threads): the members of one group always to the same writer (*owner*:
    its groups stay in that writer's cache, packs.GROUP_CACHE: handed out whole, each group
    was decompressed by every writer, 2.4 times in all on M with processes, twice on L with
    threads), a new group and the rest to whichever was given the least so far (*load*:
    bytes, and FILE_COST per file). The parts, each with its writer's number; every
    directory of *dirs* counts one more job for each part beyond the first (each part's
    answer is taken on its own). An empty job (all its files found damaged) still goes out
    to writer 0: its answer finishes *dirs*."""
    parts: list[list[_Item]] | None = None
    if _c_share_out is not None:
        parts = _c_share_out(ready, load, owner, _NOWHERE, FILE_COST)
    if parts is None:
        parts = _share_out_py(ready, load, owner)
    given = [(k, part) for k, part in enumerate(parts) if part] or [(0, [])]
    for _ in given[1:]:
        for d in dirs:
            d.jobs += 1
    return given


def _share_out_py(
    ready: list[_Item], load: list[int], owner: dict[tuple[str, int], int]
) -> list[list[_Item]]:
    """share_out's split, one part per writer (*load* and *owner* updated): the
    specification of _ctree.share_out, which share_out takes where it is built."""
    parts: list[list[_Item]] = [[] for _ in load]
    adds = [part.append for part in parts]
    group_pack, group_at = "", -1  # the group of the last member
    two = len(load) == 2
    k = 0
    for item in ready:
        loc = item[0]
        if loc is _NOWHERE or loc is None:  # (None: never handed out unlocated)
            k = (0 if load[0] <= load[1] else 1) if two else load.index(min(load))
            load[k] += FILE_COST
        else:
            if loc[4] < 0:
                k = (0 if load[0] <= load[1] else 1) if two else load.index(min(load))
            elif loc[1] != group_at or loc[0] != group_pack:
                group_pack, group_at = loc[0], loc[1]
                got = owner.get((group_pack, group_at))
                if got is None:
                    got = load.index(min(load))
                    owner[group_pack, group_at] = got
                k = got
            load[k] += loc[3] + FILE_COST
        adds[k](item)
    return parts


def _native(name: str) -> Callable[..., Any] | None:
    """_ctree's *name* where the C module is used (ctree.NATIVE) and has it (a build from
    before it has not: then the twin)."""
    from git_snapshot.store import ctree

    if not ctree.NATIVE:
        return None
    from git_snapshot.store import _ctree

    return getattr(_ctree, name, None)


_c_share_out: Callable[..., list[list[_Item]] | None] | None = _native("share_out")
_c_work: Callable[..., list[_Work] | None] | None = _native("work")


def _work(ready: list[_Item], number: dict[int, int] | None) -> list[_Work]:
    """The job a writer gets: its directories' descriptors (or their *number*s). In C
    (_ctree.work: 0.06 us a file, the twin's maps 0.42 us: ~22 ms of the restoring
    process's CPU on M's 62k files) unless only the twin, its specification, is there."""
    if _c_work is not None:
        got: list[_Work] | None = _c_work(ready, number, _NOWHERE)
        if got is not None:
            return got
    return _work_py(ready, number)


def _work_py(ready: list[_Item], number: dict[int, int] | None) -> list[_Work]:
    """_work's twin (the specification of _ctree.work). Built by C loops (map, zip) when
    every file of it has a location (no symlink)."""
    entries = list(map(_ENTRY, ready))
    locs = list(map(_LOC, ready))
    fds: Iterable[int] = map(_FD, map(_DIR, ready))
    if number is not None:
        fds = map(number.__getitem__, fds)
    if _NOWHERE in locs:  # a symlink: no location
        locs = [None if loc is _NOWHERE else loc for loc in locs]
    return list(
        zip(
            fds,
            map(_NAME, entries),
            map(_MODE, entries),
            map(_MTIME, entries),
            map(_REF, entries),
            locs,
        )
    )


_LOC = operator.itemgetter(0)
_DIR = operator.itemgetter(1)
_ENTRY = operator.itemgetter(2)
_FD = operator.attrgetter("fd")
_KEY = operator.itemgetter(4)  # a _Work's content key (a symlink's target)
# an Entry's fields (objects._Entry: name kind mode mtime_ns size ref)
_NAME = operator.itemgetter(0)
_MODE = operator.itemgetter(2)
_MTIME = operator.itemgetter(3)
_REF = operator.itemgetter(5)


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


def _unreadable(key: bytes, pack: str, exc: Exception | str) -> str:
    """Why an object is damaged, as Store.read_object says it."""
    return f"object {key.hex()[:16]} in pack {pack} is unreadable: {exc}"


class _Dir:
    """A directory being filled: open on *fd* (-1: a dry run's new one); *entry*: its own
    entry in the snapshot (None: the target, given no mode or mtime); *jobs*: jobs not taken
    yet that write into it; *filled*: every entry of it handed out; *mode*: the mode it is
    given once filled (None: it has it, or keeps its own); *was*: the mode it had as the
    restore went into it, looked at again before *mode* is given (None: no look); *own*:
    closed when finished; *rel*: its path, for a report; *fresh*: made by this restore (so
    it is its owner's, and no look at it is needed to give it its mtime); *setgid*: a folder
    made in it is given set-gid (Linux, from a set-gid folder), so mkdir's mode minus the umask
    is not its mode (True: not known)."""

    __slots__ = ("entry", "fd", "filled", "fresh", "jobs", "mode", "own", "rel", "setgid", "was")

    def __init__(
        self,
        fd: int,
        entry: Entry | None,
        mode: int | None = None,
        own: bool = True,
        rel: bytes = b"",
        was: int | None = None,
        fresh: bool = False,
        setgid: bool = True,
    ) -> None:
        self.fd = fd
        self.entry = entry
        self.fresh = fresh
        self.setgid = setgid
        self.rel = rel
        self.jobs = 0
        self.filled = False
        self.mode = mode
        self.was = was
        self.own = own
