"""A little space set aside on the store's disk, so that ``prune`` can run when it is full.

Deleting needs space too: SQLite must write its journal to commit the transaction that forgets
dead packs, and forgetting snapshots writes a tombstone pack. ``<store>/reserve`` holds
RESERVE_BYTES of real blocks; garbage collection deletes it when it hits a full disk, retries,
and makes it again once it has freed space. So does a stopped restore's note of what it wrote
(restored.wrote: a few KiB a loss report needs, RED36 B2); a store opened on a disk with room
makes it again. Nothing else ever uses it.
"""

from __future__ import annotations

import errno
import os

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.store.core import RESERVE_BYTES as RESERVE_BYTES  # a Store checks it too
from git_snapshot.store.core import RESERVE_NAME as NAME
from git_snapshot.store.safewrite import has_room
from git_snapshot.store.safewrite import temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    from typing import TypeVar

    from git_snapshot.store.core import Store

    T = TypeVar("T")

# errors that mean the disk cannot take a write (SQLite reports them in words)
NO_ROOM_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_SQLITE_NO_ROOM = ("database or disk is full", "disk I/O error")


def reserve_path(store: Store) -> str:
    return os.path.join(store.path, NAME)


def ensure_reserve(store: Store) -> bool:
    """Make the reserve if it is missing and the disk has room for it (twice its size, so
    that it never takes the last space a snapshot needs). Never fails: returns whether the
    reserve is in place."""
    path = reserve_path(store)
    try:
        if os.stat(path).st_size >= RESERVE_BYTES:
            return True
    except FileNotFoundError:
        pass
    except OSError:
        return False
    tmp = temp_name(path, store.tmp_dir)
    try:
        if not has_room(store.tmp_dir, 2 * RESERVE_BYTES):  # what this process may write
            return False
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _allocate(fd, RESERVE_BYTES)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True


def _allocate(fd: int, size: int) -> None:
    """Real blocks, not a sparse hole: the point is to hold space."""
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        block = b"\0" * 65536
        for _ in range(size // len(block)):
            os.write(fd, block)


def release_reserve(store: Store) -> int:
    """Delete the reserve; returns the bytes it held (0 when there was none)."""
    path = reserve_path(store)
    try:
        size = os.stat(path).st_size
        os.unlink(path)
    except OSError:
        return 0
    return size


def no_room(exc: BaseException) -> bool:
    """Whether *exc* says the disk is full (SQLite says "disk I/O error" when it cannot
    create its -shm file there)."""
    if isinstance(exc, OSError):
        return exc.errno in NO_ROOM_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        return any(m in str(exc) for m in _SQLITE_NO_ROOM)
    return False


def with_room(store: Store, write: Callable[[], T]) -> T:
    """Run *write*; when the disk is full, give up the reserve and try once more."""
    try:
        return write()
    except (OSError, sqlite3.OperationalError) as exc:
        if not no_room(exc) or not release_reserve(store):
            raise
    return write()
