"""``file:///path``: a remote in a local directory (a second disk, a mounted share).

Objects are plain files under the directory. Each write goes to a temp file in ``.tmp/``,
is fsynced, then put in place by ``link`` (create-if-absent: fails when the name exists) or
``rename`` (replace), and the folder is fsynced (the name made durable: without it a power
loss on the remote's machine could lose an object push reported pushed; a folder made for it
is made durable in its parent likewise); a compare-and-swap holds ``.lock`` (flock) while it
compares and renames. The etag of a file is the SHA-256 of its bytes.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import secrets
import urllib.parse
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import BinaryIO

from git_snapshot.errors import UserError
from git_snapshot.store.backend import Backend
from git_snapshot.store.backend import BackendError
from git_snapshot.store.backend import Conflict
from git_snapshot.store.backend import Info
from git_snapshot.store.backend import NotFound
from git_snapshot.store.safewrite import fsync_dir


def parse_file_url(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    path = urllib.parse.unquote(parsed.path)
    if (
        parsed.scheme != "file"
        or parsed.netloc not in ("", "localhost")
        or not path.startswith("/")
    ):
        raise UserError(f"bad remote URL {url!r}: a directory remote is file:///ABSOLUTE/PATH")
    return path


def _open(path: str) -> BinaryIO:
    """A remote's file opened for reading as the store opens its packs: a FIFO or a device
    under an object's name is refused (NotAFile, an OSError), never waited on (RED34 D9)."""
    from git_snapshot.store.packread import open_pack

    return open_pack(path, what="it")


class FileBackend(Backend):
    def __init__(self, url: str) -> None:
        self.url = url
        self.root = parse_file_url(url)
        self._tmp = os.path.join(self.root, ".tmp")
        try:
            os.makedirs(self._tmp, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise BackendError(
                f"cannot use the remote directory {self.root}: {exc.strerror}"
            ) from None

    def _path(self, name: str) -> str:
        if name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"bad object name {name!r}")
        return os.path.join(self.root, name)

    def _folder(self, path: str) -> str:
        """The folder of object *path*, made if missing (each new folder fsynced in its
        parent); returned to be fsynced once the object is renamed or linked in."""
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            made = []
            up = folder
            while not os.path.isdir(up):
                made.append(up)
                up = os.path.dirname(up)
            os.makedirs(folder, mode=0o700, exist_ok=True)
            for one in reversed(made):
                fsync_dir(os.path.dirname(one))
        return folder

    def _temp(self, parts: Iterable[bytes]) -> str:
        """The bytes of *parts* (written one at a time: a pack streams through) in a new temp
        file in .tmp/, whole and fsynced; on any failure (a full disk) none of it is left: a
        part left there stayed for ever and took the room that the user freed from the next
        push."""
        tmp = os.path.join(self._tmp, secrets.token_hex(8))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for part in parts:
                view = memoryview(part)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            os.close(fd)
        return tmp

    @contextlib.contextmanager
    def _io(self, name: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise NotFound(name) from None
            hint = ""
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # (RED34: no next step was given)
                hint = (
                    f"; free space on that disk (git snapshot remote prune {self.name} "
                    "--keep-last N deletes old snapshots there) and run it again: what "
                    "arrived is kept"
                )
            why = exc.strerror or str(exc)  # (NotAFile: a message alone)
            raise BackendError(f"remote {self.root}: {name}: {why}{hint}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(os.path.join(self.root, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def put(self, name: str, data: bytes) -> None:
        self.put_parts(name, lambda: (data,), len(data), if_absent=False)

    def put_parts(
        self, name: str, parts: Callable[[], Iterable[bytes]], size: int, if_absent: bool
    ) -> bool:
        if if_absent:
            return self._create(name, parts())
        path = self._path(name)
        with self._io(name):
            folder = self._folder(path)
            tmp = self._temp(parts())
            try:
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            fsync_dir(folder)
        return True

    def _create(self, name: str, parts: Iterable[bytes]) -> bool:
        """*parts* as *name* unless it exists (link: atomic, fails if the name exists)."""
        path = self._path(name)
        with self._io(name):
            folder = self._folder(path)
            tmp = self._temp(parts)
            try:
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return False
                fsync_dir(folder)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return True

    def put_cas(self, name: str, data: bytes, etag: str | None) -> str:
        if etag is None:
            if not self._create(name, (data,)):
                raise Conflict(name)
            return hashlib.sha256(data).hexdigest()
        path = self._path(name)
        with self._io(name):
            folder = self._folder(path)
            tmp = self._temp((data,))
            try:
                with self._locked():
                    info = self.head(name)
                    if info is None or info.etag != etag:
                        raise Conflict(name)
                    os.replace(tmp, path)
                fsync_dir(folder)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return hashlib.sha256(data).hexdigest()

    def get(self, name: str) -> bytes:
        with self._io(name), _open(self._path(name)) as f:
            return f.read()

    def get_range(self, name: str, start: int, end: int) -> bytes:
        with self._io(name), _open(self._path(name)) as f:
            f.seek(start)
            return f.read(max(0, end - start))

    def head(self, name: str) -> Info | None:
        """Its size and etag, the file hashed a piece at a time (a pack is not read whole)."""
        h = hashlib.sha256()
        size = 0
        try:
            with self._io(name), _open(self._path(name)) as f:
                while piece := f.read(1 << 20):
                    h.update(piece)
                    size += len(piece)
        except NotFound:
            return None
        return Info(size, h.hexdigest())

    def size(self, name: str) -> int:
        with self._io(name):
            return os.stat(self._path(name)).st_size

    def list(self, prefix: str) -> dict[str, int]:
        out: dict[str, int] = {}
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        with self._io(prefix):
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                rel = os.path.relpath(dirpath, self.root)
                for f in filenames:
                    if f.startswith("."):
                        continue
                    name = f if rel == "." else f"{rel}/{f}"
                    if name.startswith(prefix):
                        with contextlib.suppress(FileNotFoundError):
                            out[name] = os.stat(os.path.join(dirpath, f)).st_size
        return out

    def sweep_parts(self, older_s: float) -> int:
        """The temp files in .tmp/ not written for *older_s* seconds: parts of uploads
        killed (a live upload writes its part without a pause, and *older_s* is far longer
        than any upload takes)."""
        import time

        gone = 0
        limit = time.time() - older_s
        with contextlib.suppress(OSError):
            for de in os.scandir(self._tmp):
                with contextlib.suppress(OSError):
                    if de.is_file(follow_symlinks=False) and de.stat().st_mtime < limit:
                        os.unlink(de.path)
                        gone += 1
        return gone

    def delete(self, name: str) -> None:
        with contextlib.suppress(NotFound), self._io(name):
            os.unlink(self._path(name))
