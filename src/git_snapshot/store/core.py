"""The store: a directory holding packs, the SQLite index and the files caches."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import zstandard

from git_snapshot.errors import UserError
from git_snapshot.store import location
from git_snapshot.store.index import Index
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree
from git_snapshot.store.packs import PackReader

SUBDIRS = ("packs", "tmp", "cache")


class Store:
    def __init__(self, path: Path | str | None = None) -> None:
        self.root = location.store_dir(Path(path) if path is not None else None)
        try:
            for d in (self.root, *(self.root / s for s in SUBDIRS)):
                d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
        except OSError as exc:
            raise UserError(
                f"cannot create the snapshot store at {self.root}: {exc.strerror}; "
                f"set GIT_SNAPSHOT_STORE to a writable directory"
            ) from exc
        self.path = str(self.root)
        self.index = Index(self.index_path)
        self.reader = PackReader(self.path)

    # -- layout: the only place that knows the store's folders --------------------------------

    @property
    def packs_dir(self) -> str:
        return os.path.join(self.path, "packs")

    @property
    def tmp_dir(self) -> str:
        """Scratch space on the store's file system; swept by gc and by the next run."""
        return os.path.join(self.path, "tmp")

    @property
    def cache_dir(self) -> str:
        return os.path.join(self.path, "cache")

    @property
    def index_path(self) -> str:
        return os.path.join(self.path, "index.sqlite")

    def pack_path(self, name: str) -> str:
        return os.path.join(self.packs_dir, name)

    def close(self) -> None:
        self.reader.close()
        self.index.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- locking: snapshots share, garbage collection is exclusive ---------------------------

    @contextmanager
    def lock(self, exclusive: bool = False, wait: bool = True) -> Iterator[bool]:
        """Yields whether the lock was taken (always True when *wait*)."""
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock, also when the process dies

    # -- objects -----------------------------------------------------------------------------

    def _locate(self, key: bytes) -> Location:
        loc = self.index.locate(key)
        if loc is None:
            raise CorruptObject(f"object {key.hex()[:16]} is missing from the index")
        return loc

    def read_object(self, key: bytes) -> bytes:
        """An object's content, checked against its key."""
        loc = self._locate(key)
        try:
            data = self.reader.read(loc.pack, loc.offset, loc.length, loc.size)
        except (OSError, zstandard.ZstdError) as exc:
            raise _damaged(key, loc, f": {exc}") from exc
        if hashlib.sha256(data).digest() != key:
            raise _damaged(key, loc, " does not match its hash")
        return data

    def stream_blob(self, key: bytes) -> Iterator[bytes]:
        """The content of a blob, in chunks; raises CorruptObject after the last chunk if
        the content does not hash to its key (callers write to temp files first)."""
        loc = self._locate(key)
        h = hashlib.sha256()
        try:
            for chunk in self.reader.stream(loc.pack, loc.offset, loc.length, loc.size):
                h.update(chunk)
                yield chunk
        except (OSError, zstandard.ZstdError) as exc:
            raise _damaged(key, loc, f": {exc}") from exc
        if h.digest() != key:
            raise _damaged(key, loc, " does not match its hash")

    def read_tree(self, key: bytes) -> list[Entry]:
        return decode_tree(self.read_object(key))

    def walk(self, tree: bytes, prefix: bytes = b"") -> Iterator[tuple[bytes, Entry]]:
        """Every entry below *tree*, depth first, parents before children."""
        for e in self.read_tree(tree):
            path = prefix + e.name
            yield path, e
            if e.kind == DIR:
                yield from self.walk(e.ref, path + b"/")

    # -- snapshots ---------------------------------------------------------------------------

    def snapshots(self, source: str | None = None, worktree: str | None = None) -> list[Snapshot]:
        return self.index.snapshots(source, worktree)

    def get(self, source: str, ref: str | int) -> Snapshot:
        """A snapshot by its number or ``latest``."""
        snaps = self.index.snapshots(source)
        if not snaps:
            raise UserError("no snapshots yet for this repository; take one with: git snapshot")
        if ref == "latest":
            return max(snaps, key=lambda s: s.id)
        try:
            num = int(ref)
        except ValueError:
            raise UserError(
                f"bad snapshot id {ref!r}: use a number from 'git snapshot list' or 'latest'"
            ) from None
        for s in snaps:
            if s.id == num:
                return s
        raise UserError(f"no snapshot {num} for this repository; see 'git snapshot list'")


def _damaged(key: bytes, loc: Location, what: str) -> CorruptObject:
    return CorruptObject(f"object {key.hex()[:16]} in pack {loc.pack}{what}")
