"""Temp files that a killed restore or export left beside its output, and their removal.

Each temp file is locked (flock) by the process writing it for as long as it lives, so the
next run removes exactly the leftovers of dead runs and never a file still being written.
"""

from __future__ import annotations

import fcntl
import os
import stat

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.store.safewrite import is_temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable


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


def sweep_path(directory: str, match: Callable[[bytes], bool]) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            sweep(fd, match)
        finally:
            os.close(fd)
