"""One way to write a file safely: a temp file beside it (or in a scratch dir on the same file
system), fsync, rename over the target. A reader sees the old file or the new one, never a torn
one; a failure or a kill leaves the target as it was and at most a temp file that the next run
sweeps (temp names carry TEMP_MARK so they are recognised; the writer holds its temp file
locked until the rename, so a sweep takes only a dead run's: leftovers.remove_if_dead). The
folders swept: the store's, worktrees' (restore), a remote's cache (remote.cache.sweep_cache).
The watch registry's and the loss logs' folders are not (RED31 A3, left)."""

from __future__ import annotations

import errno
import os

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.ctx import contextmanager

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO

TEMP_MARK = ".gsnap-tmp-"


def is_temp_name(name: bytes) -> bool:
    """Whether a file name is one of ours (a temp file a killed run left): never snapshotted,
    swept by the next run in that directory."""
    mark = TEMP_MARK.encode()
    if not name.startswith(mark):
        return False
    tag = name[len(mark) : len(mark) + 13]
    return len(tag) == 13 and tag.endswith(b"-") and all(c in b"0123456789abcdef" for c in tag[:12])


def temp_name(path: str, tmp_dir: str | None = None) -> str:
    """A fresh temp path for *path*: beside it, or in *tmp_dir*."""
    directory = tmp_dir if tmp_dir is not None else (os.path.dirname(path) or ".")
    name = os.fsencode(f"{TEMP_MARK}{os.urandom(6).hex()}-") + os.fsencode(os.path.basename(path))
    return os.path.join(directory, os.fsdecode(name[:255]))  # NAME_MAX counts bytes


def has_room(directory: str, need: int) -> bool:
    """Whether this process can write *need* more bytes on the disk holding *directory*
    (OSError when it cannot be asked). f_bavail, the blocks every user may have, answers
    when it is enough; when the disk's other free blocks would make up the rest (ext4 keeps
    5 % for root, and a few more for itself), whether this process may have them is learnt
    by taking them: *need* bytes allocated in a temp file in *directory*, then deleted. f_bfree
    alone would be wrong both ways: root may use the blocks kept for root, ext4's own are
    nobody's, and another user gets neither (RED31 A2: root had filled such a disk, and prune
    found no room in the 1 MiB it freed; SQLite touching a -shm page the disk cannot give is
    a SIGBUS, so a guess will not do)."""
    st = os.statvfs(directory)
    if st.f_bavail * st.f_frsize >= need:
        return True
    if st.f_bfree * st.f_frsize < need:
        return False
    tmp = temp_name(os.path.join(directory, "room"))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    try:
        os.posix_fallocate(fd, 0, need)
    except OSError:
        return False
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return True


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_file(
    path: str,
    *,
    tmp_dir: str | None = None,
    mode: int = 0o600,
    durable: bool = True,
    replace: bool = True,
    tmp: str | None = None,
) -> Iterator[BinaryIO]:
    """Yields a file to fill; on success it replaces *path* (fsynced first when *durable*).
    With replace=False it never replaces: the filled file is linked to *path*
    (FileExistsError, with *path* as its filename, when something is there by then), where
    the file system cannot link, renamed after one more look. *tmp*: the temp path to use
    (a name a leftovers.Run recorded), else temp_name(path, tmp_dir)."""
    named = tmp
    while True:
        tmp = named if named is not None else temp_name(path, tmp_dir)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        if _held(fd):
            break
        os.close(fd)  # a sweep took it before it was held (it is gone): another name
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)  # exactly *mode*, whatever the umask
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
            # still held: a sweep (leftovers.remove_if_dead) takes only a temp no one holds
            if replace:
                os.replace(tmp, path)
            else:
                _link_new(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(os.path.dirname(os.path.abspath(path)))


def _held(fd: int) -> bool:
    """Hold the temp file open on *fd* (flock, until it is closed), so that a sweep of its
    folder (leftovers.remove_if_dead: a killed run's temp is held by no one) leaves it;
    False when a sweep took it between its creation and this (it has no name left). A file
    system without flock: held by nothing, as before."""
    import fcntl  # (built in)

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a sweep holds it, to unlink it
    except OSError:
        return True
    return os.fstat(fd).st_nlink > 0


def _link_new(tmp: str, path: str) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "exists", path) from None
    except OSError:  # no hard links here (some FUSE, vfat): the check then the rename
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "exists", path) from None
        os.rename(tmp, path)
        return
    os.unlink(tmp)


def atomic_write(
    path: str, data: bytes, *, tmp_dir: str | None = None, mode: int = 0o600, durable: bool = True
) -> None:
    with atomic_file(path, tmp_dir=tmp_dir, mode=mode, durable=durable) as f:
        f.write(data)
