"""A second process for work that fills one core while the other idles.

Three jobs fork one child that does part of the work and answers through a pipe: the walk
of a big, mostly unchanged tree (store/splitwalk.py), the comparison of a wide level of
folders (store/diff_levels.py) and the check of a restore's trees (store/restorer.py). Each parent
checks the answer's form, takes only what it can verify, and does whatever is not answered
itself: a child that dies, lies or cannot be forked changes how long the work takes, never
its result.

What they share is here. A fork copies one thread, so it is only done with no other thread
running (one could hold a lock the child would then wait on forever). The child ends with
``os._exit``: no finalizer, no lock release, no SQLite handle of the parent's touched. The
parent kills and reaps it when its answer is in or no longer wanted; a parent that dies
(a SIGKILL) takes the child with it (pids.die_with_parent).
"""

from __future__ import annotations

import os
import sys

from git_snapshot.ctx import suppress
from git_snapshot.store.pids import die_with_parent

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable

# kill -9 on every POSIX system; the signal module would cost its enum import (~5 ms) on the
# path of a hook's walk, which kills its helper at the end
SIGKILL = 9


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def other_threads() -> bool:
    threading = sys.modules.get("threading")  # not imported: no thread was ever started
    return threading is not None and threading.active_count() > 1


def idle_core() -> bool:
    """Whether another core is idle now: fewer tasks running than cores, this one counted
    (the kernel's count of running tasks in /proc/loadavg; elsewhere, a 1-minute load
    average half a core below). A second process costs more CPU in all than it saves the
    first: worth it only beside an idle core, and a load average lags by a minute."""
    n = cores()
    try:
        with open("/proc/loadavg", "rb") as f:
            running = int(f.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0] < n - 0.5
        except OSError:
            return n >= 2
    return running < n


def possible() -> bool:
    """Whether a child may be forked here and would have a core of its own."""
    return hasattr(os, "fork") and cores() >= 2 and not other_threads()


class Child:
    """A forked child and the reading end of the pipe it answers through."""

    __slots__ = ("fd", "pid")

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd

    def read_all(self) -> bytes:
        """Everything the child writes, once it has ended (then it is reaped)."""
        chunks = []
        while self.fd >= 0:
            try:
                chunk = os.read(self.fd, 1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                break
            chunks.append(chunk)
        self.stop()
        return b"".join(chunks)

    def stop(self) -> None:
        """The child goes, whatever it was doing."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.pid:
            with suppress(ProcessLookupError):
                os.kill(self.pid, SIGKILL)
            with suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0


def start(work: Callable[[int], object], pipe_size: int = 0) -> Child | None:
    """Fork a child that runs ``work(fd)`` (*fd*: the pipe's writing end) and ends; None when
    no pipe or process can be had (out of file descriptors or memory). *pipe_size*: room
    asked for in the pipe, so that the child need not wait for the parent to read."""
    try:
        r, w = os.pipe()
    except OSError:
        return None
    if pipe_size:
        try:
            import fcntl

            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, pipe_size)
        except (ImportError, AttributeError, OSError):
            pass
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # the child: its answer, then gone without any cleanup
        try:
            # ended with its parent, killed or not: never at work (holding the store's lock,
            # inherited) after it; the fork is done by the only thread (possible()), which
            # ends only with the process
            die_with_parent(parent)
            os.close(r)
            work(w)
        finally:
            os._exit(0)
    os.close(w)
    return Child(pid, r)


def write_all(fd: int, data: bytes) -> None:
    """All of *data* into the pipe *fd* (a write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
