"""Temp files that a killed restore or export left beside its output, and their removal.

Each temp file is locked (flock) by the process writing it for as long as it lives, so the
next run removes exactly the leftovers of dead runs and never a file still being written.

A name that looks like a temp file (safewrite.is_temp_name) proves nothing: a repository may
track one, a user may copy a worktree holding a killed restore's leftover. In a folder that
is not the store's, a temp file is the tool's only when the store's record of the run that
named it says so (Run): a restore records its tag and each folder it gives a temp name in,
before the name exists, and holds the record (flock) while it runs. verdict() reads that
record; anything it does not prove is the user's: snapshotted, restored, never removed.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.store.safewrite import TEMP_MARK
from git_snapshot.store.safewrite import is_temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Iterable
    from typing import Any
    from typing import TypeVar

    T = TypeVar("T")


def hold(fd: int) -> None:
    """Mark the temp file open on *fd* as in use (until it is closed)."""
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def sweep(dir_fd: int, match: Callable[[bytes], bool] = is_temp_name) -> list[bytes]:
    """Remove the leftovers matching *match* in the directory open on *dir_fd*; returns the
    names the directory holds afterwards."""
    names = [os.fsencode(n) for n in os.listdir(dir_fd)]
    left = []
    for name in names:
        if not (match(name) and remove_if_dead(dir_fd, name)):
            left.append(name)
    return left


def remove_if_dead(dir_fd: int | None, name: bytes, links: bool = True) -> bool:
    """Remove the temp file *name* (relative to *dir_fd*, or a full path with None) unless a
    live run holds it; True when it is gone. A temp symlink cannot be held: it is removed
    only with *links* (by the restore of its own directory, never by a concurrent snapshot)."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode) or (not links and stat.S_ISLNK(st.st_mode)):
            return False  # never ours, or not ours to judge
        if stat.S_ISREG(st.st_mode):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
            try:
                hold(fd)  # fails while a live run writes it
                os.unlink(name, dir_fd=dir_fd)
            finally:
                os.close(fd)
        else:
            os.unlink(name, dir_fd=dir_fd)
    except BlockingIOError:
        return False
    except FileNotFoundError:
        return True
    except OSError:
        return False  # not ours to force: the restore or export goes on without it
    return True


RUNS = "temps"  # the store's folder of Run records, one per run, named by the run's tag
_MARK = TEMP_MARK.encode()
_TAG = 6  # of a temp name's 12 hex digits, the first are its run's tag, the rest random
_MAX_NAME = 255


class Run:
    """The temp names one run (a restore) gives in folders outside the store. Its record,
    RUNS/<tag> in the store, lists each folder (device, inode) it gives one in, written
    before the name exists; the run holds it (flock) while it lives and removes it when it
    ends. A kill leaves it, unheld: the proof that the run's temp files in those folders
    are leftovers. Without a writable store a run keeps no record: a kill's leftovers are
    then taken for the user's (kept and snapshotted, never removed)."""

    def __init__(self, store_path: str) -> None:
        self.fd = -1
        self.path = ""
        self.tag = os.urandom(_TAG // 2).hex()
        self.noted: set[tuple[int, int]] = set()
        self.failed = False  # a record write failed: none after it (see name)
        import threading

        self.lock = threading.Lock()  # writer threads name temp files too
        self.runs = runs = os.path.join(store_path, RUNS)
        try:
            os.makedirs(runs, mode=0o700, exist_ok=True)
            _make_spare(runs)
            for _ in range(16):
                path = os.path.join(runs, self.tag)
                try:
                    fd = _new_record(runs, self.tag)
                except FileExistsError:  # a dead run's record: its proof stays
                    self.tag = os.urandom(_TAG // 2).hex()
                    continue
                self.fd, self.path = fd, path
                break
        except OSError:
            pass  # a read-only store: temp names with no record (never removed as ours)
        _reap()
        self.pid = os.getpid()
        self.janitor = 0  # its pid (_janitor), 0: none
        self.done = -1  # the writing end of the janitor's pipe
        if self.fd >= 0:
            self._watch()

    def _watch(self) -> None:
        """Fork the janitor (_janitor) that removes this run's temp names if it is killed
        (SIGKILL: no finally runs) between naming a temp file and renaming it, and wait
        until it has left our process group and closed what it inherited (a lock we let go
        of would stay held by its copy), JANITOR_START at most. Without a pipe, a process
        (EAGAIN, ENOMEM, a subinterpreter) or its word in time, none: the next run's
        clean_runs stays the fallback."""
        path = os.path.abspath(self.path)
        pipes: list[int] = []
        try:
            r, w = os.pipe()  # (close-on-exec, all: a program the run starts has none)
            pipes += (r, w)
            ready, tell = os.pipe()
            pipes += (ready, tell)
            pid = os.fork()
        except (OSError, RuntimeError):  # (RuntimeError: a subinterpreter cannot fork)
            for fd in pipes:
                os.close(fd)
            return
        if pid == 0:
            _janitor(r, tell, path, self.tag.encode())  # never returns
        os.close(r)
        os.close(tell)
        self.janitor, self.done = pid, w
        started = b""  # (also when it died)
        try:
            import select  # (a restore's or export's, not the hook's)

            poll = select.poll()
            poll.register(ready, select.POLLIN)
            if poll.poll(JANITOR_START * 1000):
                started = os.read(ready, 1)
        except OSError:
            pass
        finally:
            os.close(ready)
        if not started:  # (held up: killed, as it has done nothing yet; reaped as _dismiss says)
            with contextlib.suppress(OSError):
                os.kill(pid, _SIGKILL)
            self._dismiss()

    def name(self, dir_fd: int, name: bytes) -> bytes:
        """A temp name for *name* in the folder open on *dir_fd*, recorded first."""
        if self.fd >= 0 and not self.failed:
            st = os.fstat(dir_fd)
            folder = (st.st_dev, st.st_ino)
            if folder not in self.noted:
                with self.lock:
                    if folder not in self.noted and not self.failed:
                        line = _line(dir_fd, folder)
                        try:  # on a full disk, with the room the spare gave back
                            _spared(self.runs, _append, self.fd, line)
                        except OSError:  # the disk stays full: a restore goes on, its
                            # names unrecorded from now on (still held: nothing it recorded
                            # is taken for a dead run's), a kill's leftovers kept as the user's
                            self.failed = True
                        else:
                            self.noted.add(folder)
        tag = f"{self.tag}{os.urandom((12 - _TAG) // 2).hex()}-".encode()
        return (_MARK + tag + name)[:_MAX_NAME]

    def close(self) -> None:
        """The run is over (its temp files renamed or removed): its record goes, then those
        of dead runs whose leftovers can be handled (clean_runs)."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = -1
            self._dismiss()
            _clean_folder(os.path.dirname(self.path))

    def _dismiss(self) -> None:
        """The run ended, its record gone: its janitor is told so (it ends at once, writer
        processes, which hold the pipe too, ended or not) and reaped here, JANITOR_END at
        most (its wake-up and exit: 2-3 ms of wall time on a loaded machine). Not reaped,
        it is a child of this process that a caller's wait() may collect, and a zombie for
        as long as this process lives (or forever, once orphaned, under a PID 1 that reaps
        nothing: a container's); one held up longer (stopped, traced) is reaped by the next
        run of this process (_reap)."""
        if self.done < 0 or os.getpid() != self.pid:
            return  # (a forked child's copy of the run: the janitor is not its own)
        with contextlib.suppress(OSError):
            os.write(self.done, b"\0")
        os.close(self.done)
        self.done = -1
        pid, self.janitor = self.janitor, 0
        if not _ended(pid, JANITOR_END):
            _ENDING.append(pid)


_ENDING: list[int] = []  # janitors told the run ended, not reaped yet (this process's)


def _reap() -> None:
    """Reap the janitors of _ENDING that have ended (a zombie each until then)."""
    for pid in _ENDING[:]:
        if _ended(pid, 0):
            _ENDING.remove(pid)


def _ended(pid: int, wait: float) -> bool:
    """Whether the janitor *pid* has ended (reaped here), waited for *wait* seconds at most."""

    def reaped() -> bool:
        try:
            return os.waitpid(pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True  # (reaped by someone else: SIGCHLD ignored, a wait of the caller's)

    return _until(reaped, wait)


def _until(done: Callable[[], bool], wait: float) -> bool:
    """Whether *done*() came true, asked again after ever longer pauses (0.5 ms to 0.25 s)
    for *wait* seconds at most."""
    end = time.monotonic() + wait
    pause = 0.0005
    while not done():
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
    return True


JANITOR_WAIT = 30.0  # seconds a janitor waits for a dead run's record to be let go
JANITOR_END = 1.0  # seconds a run waits for its janitor, told it ended, to end
JANITOR_START = 10.0  # seconds a run waits for its janitor's word (ms, on a loaded machine)
_SIGKILL = 9  # signal.SIGKILL, without importing signal (and enum)


def _janitor(pipe: int, tell: int, path: str, tag: bytes) -> None:
    """The janitor of the run whose record is at *path*, in a forked child: it outlives a
    SIGKILL of the run and of its process group. It leaves the run's session and process
    group (a kill of the group, a terminal's Ctrl-C, Ctrl-\\ or hang-up reaches it no
    more), keeps no descriptor but /dev/null and the reading end of *pipe* (not the
    record's: its lock must go with the run; not the caller's terminal or pipes: a caller
    reading the run's output to its end must not wait for the janitor), says so on *tell*
    (the run waits for it), and waits. A byte: the run ended (Run.close, its record gone).
    End of file, no byte: every holder of the writing end (the run, its forked writers) is
    gone, the run killed: once its record is let go (JANITOR_WAIT at most), its temp names
    are removed as clean_runs would (_clean_run), and only those. Only system calls and
    this module's code run here: no lock another thread may have held at the fork, no
    logging, no import; it ends with os._exit."""
    try:
        os.setsid()
        os.chdir("/")  # (a folder it would keep busy)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in {0, 1, 2} - {pipe, tell, null}:  # (a caller's closed stdio: a pipe there)
            os.dup2(null, fd)
        _close_all_but({0, 1, 2, pipe, tell})  # the record, the store's, the caller's
        os.write(tell, b"1")
        os.close(tell)
        if os.read(pipe, 1):
            return  # the run ended
        _clean_run(path, tag, JANITOR_WAIT)
    except BaseException:  # nothing to tell anyone (the next run's clean_runs is there)
        pass
    finally:
        os._exit(0)


def _close_all_but(keep: set[int]) -> None:
    """Close each descriptor of this process but *keep*: those /proc lists, else those below
    the limit of open files. (Not closerange(N, 2**30): without close_range, a kernel's
    before 5.9 or a sandbox's, that is a billion close() calls, minutes.)"""
    try:
        fds: Iterable[int] = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(max(os.sysconf("SC_OPEN_MAX"), *keep) + 1)
    for fd in fds:
        if fd not in keep:
            with contextlib.suppress(OSError):  # (listdir's own, closed)
                os.close(fd)


def _new_record(runs: str, tag: str) -> int:
    """The record RUNS/<tag>, made and held (flock): FileExistsError if the name is taken.
    Where the file system can, it is made unnamed, held and given its first byte (an empty
    line) before it is named, so an unheld record holding that line is a dead run's even
    when it names no folder yet (removed at once); one made by name is empty and unheld for
    a moment, so such a record is judged only when a minute old (_clean_run)."""
    dir_fd = os.open(runs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        flags = os.O_TMPFILE | os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
        try:
            fd = os.open(".", flags, 0o600, dir_fd=dir_fd)
        except (OSError, AttributeError):  # no O_TMPFILE here
            fd = -1
        if fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                _spared(runs, _append, fd, b"\n")
                os.link(f"/proc/self/fd/{fd}", tag, dst_dir_fd=dir_fd)  # (linkat, following)
                return fd
            except FileNotFoundError:  # no /proc: named below
                os.close(fd)
            except BaseException:
                os.close(fd)
                raise
        fd = _spared(runs, os.open, tag, _RECORD_FLAGS, 0o600, dir_fd=dir_fd)
        fcntl.flock(fd, fcntl.LOCK_EX)  # (a reader's LOCK_SH lasts a moment)
        return fd
    finally:
        os.close(dir_fd)


SPARE = "spare"  # in RUNS: room a record's write takes when the store's disk is full
SPARE_BYTES = 256 << 10  # ~1,500 folders' lines
_NO_ROOM = (errno.ENOSPC, errno.EDQUOT)


def _make_spare(runs: str) -> None:
    """Put the spare in place if it is missing and the disk has room for four of it (it
    never takes the last space a restore needs). Never fails. Made unnamed and linked once
    whole: a kill leaves no part of one."""
    path = os.path.join(runs, SPARE)
    try:
        if os.stat(path).st_size >= SPARE_BYTES:
            return
        os.unlink(path)  # a part (no such file is ever written): made again below
    except FileNotFoundError:
        pass
    except OSError:
        return
    try:
        fs = os.statvfs(runs)
        if fs.f_bavail * fs.f_frsize < 4 * SPARE_BYTES:
            return
        fd = os.open(runs, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except (OSError, AttributeError):  # no O_TMPFILE here: no spare
        return
    try:
        os.posix_fallocate(fd, 0, SPARE_BYTES)  # real blocks, not a hole
        # linkat(AT_SYMLINK_FOLLOW), which os.link uses only with a folder's fd
        dir_fd = os.open(runs, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:  # (exists: another run made it meanwhile)
            os.link(f"/proc/self/fd/{fd}", SPARE, dst_dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _spared(runs: str, write: Callable[..., T], *args: Any, **kw: Any) -> T:
    """*write*(*args) (a record's), once more after giving up the spare if the disk is full."""
    try:
        return write(*args, **kw)
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        try:
            os.unlink(os.path.join(runs, SPARE))
        except OSError:
            raise exc from None  # no spare left: the disk stays full for us
    return write(*args, **kw)


def _line(dir_fd: int, folder: tuple[int, int]) -> bytes:
    """A record's line for the folder open on *dir_fd*: ``dev ino PATH-in-hex``, the path
    where a later clean_runs finds the folder again (none where /proc cannot say)."""
    try:
        path = os.readlink(f"/proc/self/fd/{dir_fd}".encode())
    except OSError:
        return b"%d %d\n" % folder
    return b"%d %d %s\n" % (*folder, path.hex().encode())


def _append(fd: int, line: bytes) -> None:
    """Append *line* to the record open on *fd* whole, or raise with none of it there: a
    short write (a nearly full disk) is continued, and its part cut off if the rest fails
    (a part would join the next line into one naming another folder)."""
    start = os.lseek(fd, 0, os.SEEK_END)  # the record's only writer (under Run.lock)
    done = 0
    try:
        while done < len(line):
            done += os.write(fd, line[done:])
    except OSError:
        if done:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, start)
        raise


_RECORD_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC


def verdict(store_path: str, folder: os.stat_result, name: bytes) -> bool | None:
    """Whose is the temp-named (is_temp_name) file *name* of the folder whose stat is
    *folder*: True when the record of a dead run names its tag and that folder (a leftover,
    to remove), None when a live run's does (being written: neither remove nor store it),
    False when no record does: the user's."""
    tag = name[len(_MARK) : len(_MARK) + _TAG]
    try:
        fd = os.open(
            os.path.join(os.fsencode(store_path), RUNS.encode(), tag),
            os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,  # (a FIFO: no wait)
        )
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False  # no run writes anything else
        data = b"\n"
        while chunk := os.read(fd, 1 << 16):
            data += chunk
        line = b"\n%d %d" % (folder.st_dev, folder.st_ino)
        if line + b"\n" not in data and line + b" " not in data:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def verdict_at(store_path: str, path: bytes) -> bool | None:
    """verdict() for the temp-named entry at *path*; a folder is never a run's: False."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            return False
        folder = os.stat(os.path.dirname(path) or b".")
    except OSError:
        return False
    return verdict(store_path, folder, os.path.basename(path))


def dead_runs(store_path: str, dir_fd: int) -> Callable[[bytes], bool]:
    """sweep()'s *match* for the folder open on *dir_fd*: the leftovers of dead runs."""
    try:
        folder = os.fstat(dir_fd)
    except OSError:
        return lambda name: False

    def match(name: bytes) -> bool:
        if not is_temp_name(name):
            return False
        try:
            if stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                return False
        except OSError:
            return False
        return verdict(store_path, folder, name) is True

    return match


GRACE = 7 * 24 * 3600  # a dead run's record naming a folder not found where it was: kept so long
_YOUNG = 60  # an empty record this young may be a run's between its creation and its flock
_MAX_RECORD = 64 << 20  # a record longer than this (no run writes one) is read no further


def clean_runs(store_path: str) -> int:
    """Handle the records of dead runs in the store's RUNS folder: the temp files each
    names in each folder go (remove_if_dead), then the record, when every folder it names
    was found where it was and holds none of its temp files any more, or when it is older
    than GRACE (a folder moved or deleted: what it may hold is the user's from then on). A
    record a live run holds is left, as is anything that is not a run's record. Never
    fails; returns the records removed."""
    return _clean_folder(os.path.join(store_path, RUNS))


def _clean_folder(runs: str) -> int:
    try:
        names = os.listdir(runs)
    except OSError:
        return 0
    removed = 0
    for name in names:
        if len(name) == _TAG and all(c in "0123456789abcdef" for c in name):
            with contextlib.suppress(OSError):
                removed += _clean_run(os.path.join(runs, name), name.encode())
    return removed


def _clean_run(path: str, tag: bytes, wait: float = 0) -> bool:
    """Handle the record at *path* of the run *tag* if it is a dead run's (clean_runs).
    *wait* (a janitor's, for the run it saw end): seconds to wait for the record's lock, then
    again for each of its temp files still held (by a process of the run as it exits)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return False
        if not _until(lambda: _locked(fd), wait):
            return False  # a live run's (or another cleaner's)
        data = os.read(fd, _MAX_RECORD)
        old = time.time() - st.st_mtime
        if not data and old < _YOUNG:
            return False
        lines = set(data.split(b"\n")) - {b""}
        left = list(lines)

        def handled() -> bool:  # each line, even after a miss
            nonlocal left
            left = [line for line in left if not _handle(line, tag)]
            return not left

        # (a janitor waits: the run's processes woke it as they ended, some of its temp
        # files perhaps still held, a process's descriptors closed one by one as it exits)
        if not _until(handled, wait) and old <= GRACE:
            return False
        now = os.stat(path, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False  # replaced meanwhile: not the record judged
        os.unlink(path)
        return True
    finally:
        os.close(fd)


def _locked(fd: int) -> bool:
    """Whether flock(LOCK_EX) on *fd* is held now (taken, without waiting)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _handle(line: bytes, tag: bytes) -> bool:
    """Remove the temp files of the dead run *tag* from the folder of a record's *line*;
    whether it was found where the line says and holds none of them now."""
    words = line.split(b" ")
    if len(words) != 3 or not all(w.isdigit() for w in words[:2]):
        return False  # no path to look in (or not a line a run writes)
    try:
        path = bytes.fromhex(words[2].decode("ascii"))
    except ValueError:
        return False
    if not path.startswith(b"/") or b"\0" in path:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (int(words[0]), int(words[1])):
            return False  # another folder by now
        mark = len(_MARK)

        def ours(name: bytes) -> bool:
            return is_temp_name(name) and name[mark : mark + _TAG] == tag

        return not any(ours(name) for name in sweep(fd, ours))
    except OSError:
        return False
    finally:
        os.close(fd)
