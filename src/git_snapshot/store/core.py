"""The store: a directory holding packs, the SQLite index and the files caches."""

from __future__ import annotations

import errno
import fcntl
import os

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.ctx import contextmanager
from git_snapshot.errors import UserError
from git_snapshot.store import location
from git_snapshot.store.index import Index
from git_snapshot.store.index import Location
from git_snapshot.store.index import Snapshot

SUBDIRS = ("packs", "tmp", "cache")
# the space set aside for prune (store/reserve.py), found in place by a stat when a Store
# opens, without importing that module (a hook's path)
RESERVE_NAME = "reserve"
RESERVE_BYTES = 1 << 20

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterator
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    import hashlib

    from git_snapshot.store.packs import PackReader
else:  # imported on first use (OpenSSL: 11 M instructions), see git_snapshot/hashes.py
    from git_snapshot import hashes as hashlib
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from git_snapshot.store.objects import CorruptObject
    from git_snapshot.store.objects import Entry
# store.objects (struct and the tree codec) and store.records are imported by the methods that
# read or write objects: a hook that reuses the last snapshot (the watcher's dirty set) reads
# none (2.4 M instructions of its 63 M)


def _zstd_error() -> type[Exception]:
    """zstandard's error type, imported when an error is being matched: a hook that reads
    no object never imports zstandard (nor its package's __init__: store/zstd.py)."""
    from git_snapshot.store import zstd

    error: type[Exception] = zstd.load().ZstdError
    return error


def shell_word(path: str) -> str:
    """*path* as one shell word (a store path in a message to paste)."""
    import shlex  # an error message only

    return shlex.quote(path)


def _make_dir(path: str) -> None:
    """*path* as a folder: made, or made already (by another process starting on a new store
    at the same moment: both saw none, one made it first); a file there is an error."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not os.path.isdir(path):
            raise


def _wait_for(fd: int, mode: int) -> None:
    """flock(*fd*, *mode*), calling Store.on_wait once if that takes longer than
    Store.on_wait_after (RED32 V1: a prune beside a long restore waited for it without a
    word; RED34 D4: a hook behind a suspended repair, too)."""
    if Store.on_wait is None:
        fcntl.flock(fd, mode)
        return
    if Store.on_wait_after > 0:
        import time  # (only here: a wait)

        end = time.monotonic() + Store.on_wait_after
        while time.monotonic() < end:
            time.sleep(0.02)
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
    Store.on_wait()
    fcntl.flock(fd, mode)


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _check_owner(path: str) -> None:
    """UserError when the folder *path* belongs to another user: one made beforehand (in a
    shared folder, or by an admin) is not a store of this user's, whatever its mode; its
    owner could read every secret in it (RED40 C7: called a read-only file system)."""
    try:
        uid = os.stat(path).st_uid
    except OSError:
        return
    if uid == os.geteuid():
        return
    owner = location._user_name(uid)
    raise UserError(
        f"cannot use {path} as the snapshot store: the folder belongs to {owner}, and a store "
        f"must be a folder of your own (its owner could read your snapshots); set "
        f"{location.ENV_STORE} to a new folder of yours, or have this one chowned to you"
    )


def open_to_others(path: str) -> str | None:
    """One line when the store folder at *path* is open to other users of this machine
    though Store makes it 0700 (its file system ignores chmod: FAT, exFAT, NTFS, many network
    and FUSE mounts), else None; one stat. Said, not refused: the user chose that disk, and a
    refusal would stop every hook's snapshot, the protection itself (RED40 C5)."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"other users of this machine can read the snapshot store {path} (its mode is "
        f"{mode:04o} though git-snapshot sets 0700: its file system ignores permissions, as "
        f"FAT, exFAT and NTFS disks and many network and FUSE mounts do); keep it on a disk "
        f"that keeps them: set {location.ENV_STORE} to a folder there, then move the store"
    )


class Store:
    """*repairing*: open without checking the index (``repair`` rebuilds it)."""

    # called once before a lock() that has to wait for another process (a gc, a repair, a
    # restore holding the store): the command line sets it to say so when a person watches
    on_wait: Callable[[], None] | None = None
    # seconds a lock() waits before it calls on_wait: a hook says nothing of a gc's moment
    on_wait_after = 0.0
    # a cache (the --remote one: RemoteStore) may be on ephemeral storage, lost on reboot: it
    # is fetched again; refused as a store, no remote could be read or pushed to (RED39 F2)
    disposable = False

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, repairing: bool = False
    ) -> None:
        # a str, not a pathlib.Path: pathlib costs every hook its imports (see location)
        self.path = location.store_dir(path, ephemeral_ok=self.disposable)
        location.check_store_dir(self.path)  # never take over a folder holding other things
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            # a store (checked above) or a folder we just made; before the marker: the chmod
            # fails on a folder another user made, which must not pass for a store (RED40 C7)
            os.chmod(self.path, 0o700)
            location.mark(self.path)  # from now on the folder is known for a store
            for s in SUBDIRS:
                _make_dir(os.path.join(self.path, s))
        except OSError as exc:
            location.check_yours(self.path)  # (EACCES, EPERM: another user's store, or part of it)
            if exc.errno == errno.EPERM:
                _check_owner(self.path)  # (one others may write: access(2) let it pass)
            part = exc.filename if isinstance(exc, FileExistsError) else None
            if isinstance(part, str) and os.path.dirname(part) == self.path:
                name = os.path.basename(part)
                raise UserError(  # the store is there: never send the user away from it
                    f"the snapshot store at {self.path} is intact, but its {name} is not a "
                    f"folder: move it aside (mv {shell_word(part)} {shell_word(part + '.old')}) "
                    "and run again"
                ) from exc
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) and location.is_store(
                self.path
            ):  # it is there: even reading it writes (its lock, its index's journal)
                raise UserError(
                    f"the snapshot store at {self.path} is on a read-only file system "
                    f"({exc.strerror}), and reading it needs to write its lock and journal: "
                    f"copy it to a writable disk (cp -a {shell_word(self.path)} DIR) and run "
                    f"with {location.ENV_STORE}=DIR"
                ) from exc
            raise UserError(
                f"cannot create the snapshot store at {self.path}: {exc.strerror}; "
                f"set GIT_SNAPSHOT_STORE to a writable directory"
            ) from exc
        # (no second check_yours: check_store_dir made it before the first write, and every
        # part made since is this process's)
        self._reader: PackReader | None = None  # made on first read (the packs module too)
        self._index_file: tuple[int, int] | None = None  # the index file open: lock() checks
        if not repairing:
            self.index = self._open_index()
            if _has_entries(self.tmp_dir):  # else not even an import of gc (the hook path)
                self._sweep_tmp()
            if not _reserve_in_place(self.path):  # the usual case: one stat, no import
                from git_snapshot.store.reserve import ensure_reserve

                ensure_reserve(self)  # room for prune to commit on a full disk

    def _sweep_tmp(self) -> None:
        """What killed runs left in tmp/ goes, unless someone works in the store right now:
        every writer holds the store's lock shared while its temp files live (a pack being
        written, the watcher's preparation), so only the exclusive lock, taken without
        waiting, proves them dead. gc's code (its imports: ~40 ms of a hook's CPU) is loaded
        only then, never while another process works (gc.sweep_leftovers, without that)."""
        try:
            with self.lock(exclusive=True, wait=False) as locked:
                if locked:
                    from git_snapshot.store.gc import sweep_tmp  # gc builds on this module

                    sweep_tmp(self)
        except (OSError, UserError):
            pass  # never fails the caller: a later run cleans it

    def _open_index(self, wait: bool = True) -> Index:
        """The index (_checked_index), and which file it is, for lock() to check: a repair
        may put another in place before this process takes the lock. Without *wait*, one
        found lost is not looked at again after the lock: the caller holds it already."""
        for attempt in range(3):  # (a repair renamed it between the open and the look)
            self._index_file = None  # (no check in the locks the open takes)
            before = _file_id(self.index_path)
            index = self._checked_index(wait)
            self._index_file = _file_id(self.index_path)
            if before in (None, self._index_file) or attempt == 2:
                return index
            index.close()
        raise AssertionError("unreachable")

    def _same_index(self) -> None:
        """Once the lock is held: the index open is still the store's. repair puts its new
        index in place (a rename) under the exclusive lock; a process that opened the store
        before (a hook that waited for the lock meanwhile, the watcher's worker, open for many
        snapshots) wrote its snapshots into the old file, renamed aside, and said they were
        taken. It opens the store's index now (refused as any open refuses one lost)."""
        if self._index_file is None or _file_id(self.index_path) == self._index_file:
            return
        self.index.close()
        # (under the lock: no repair runs, and another flock here would wait for our own)
        self.index = self._open_index(wait=False)

    def _checked_index(self, wait: bool = True) -> Index:
        """The index, refusing one that is lost or damaged while packs exist: an empty index
        over existing packs would make prune delete every snapshot's data. A repair puts its
        new index in place under the exclusive lock: an index found missing or unreadable
        is looked at again once that lock is free (with *wait*), before it is called lost."""
        try:
            return self._index_or_lost()
        except UserError as exc:
            if not wait:
                raise
            lost = exc
        try:
            with self.lock():  # waits for a repair (it holds it exclusively)
                pass
        except UserError:
            raise lost from None
        return self._index_or_lost()

    def _index_or_lost(self) -> Index:
        existed = os.path.exists(self.index_path)
        if not existed and self.pack_names():
            return self._lost_index("is missing")
        try:
            # never made where packs are: it was there a moment ago (a repair's swap)
            index = Index(self.index_path, create=not existed and not self.pack_names())
            if (
                not index.has_packs()
                and self.pack_names()
                and self._no_writer(index)
                and not self._pulled_only(index)
            ):
                index.close()
                return self._lost_index("lists no packs")
        except FileNotFoundError:
            return self._lost_index("is missing")
        except sqlite3.DatabaseError as exc:
            return self._lost_index(f"cannot be read ({exc})")
        except UnicodeDecodeError as exc:  # SQLite's message quoting damaged bytes (RED31)
            what = exc.object.decode("utf-8", "replace") if isinstance(exc.object, bytes) else exc
            return self._lost_index(f"cannot be read ({what})")
        return index

    def _lost_index(self, what: str) -> Index:
        """What to do with an index that *what* (is missing, lists no packs, cannot be read)
        over packs: here, refuse it (repair rebuilds it from the packs). A remote's cache
        store, whose index its kept documents give, makes it again."""
        raise UserError(self._needs_repair(what))

    def _no_writer(self, index: Index) -> bool:
        """Whether an empty index over existing packs is really empty: a first snapshot puts
        its pack in place just before its index row, holding the lock shared meanwhile. So
        the index is judged lost only when nobody holds the lock and it still lists nothing
        (if somebody does, this run goes on: gc refuses an empty index by itself, and verify
        points at repair for packs the index lacks)."""
        with self.lock(exclusive=True, wait=False) as alone:
            return alone and not index.has_packs()

    def _pulled_only(self, index: Index) -> bool:
        """Whether every pack of a store whose index lists none is one a first pull noted in
        the index before putting it in place (Index.note_incoming): then a pull killed before
        entering them left them, and the next pull enters them. Not a clock's word: packs
        newer than the index's beginning (session 16's test) were also those of an index put
        back as it began (its write-ahead log lost, an old copy restored), which the store
        then took for empty."""
        noted = index.incoming()
        return bool(noted) and set(self.pack_names()) <= noted

    def _needs_repair(self, what: str) -> str:
        n = len(self.pack_names())
        return (
            f"the snapshot index {self.index_path} {what}, but the store holds {n} pack(s) "
            "of snapshot data; rebuild the index from them with: git snapshot repair"
        )

    @property
    def root(self) -> Path:
        """The store's directory as a pathlib.Path (``path`` is the same as a str)."""
        from pathlib import Path

        return Path(self.path)

    def pack_names(self) -> list[str]:
        """Pack files present on disk."""
        try:
            return sorted(n for n in os.listdir(self.packs_dir) if n.endswith(".pack"))
        except FileNotFoundError:
            return []

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
    def losses_dir(self) -> str:
        """Loss reports, one JSON-lines file per worktree (``git snapshot losses``)."""
        return os.path.join(self.path, "losses")

    @property
    def index_path(self) -> str:
        return os.path.join(self.path, "index.sqlite")

    @contextmanager
    def scratch(self) -> Iterator[str]:
        """A private temp dir on the store's file system (0700), held under the shared lock
        so that no gc or sweep removes it while it is in use; removed afterwards."""
        import shutil  # these two: only for an overlay, off the usual hook's imports
        import tempfile

        with self.lock():
            try:
                path = tempfile.mkdtemp(prefix="scratch-", dir=self.tmp_dir)
            except PermissionError as exc:
                raise self.not_writable("tmp folder", exc) from None
            try:
                yield path
            finally:
                shutil.rmtree(path, ignore_errors=True)

    def pack_path(self, name: str) -> str:
        return os.path.join(self.packs_dir, name)

    @property
    def reader(self) -> PackReader:
        """The pack reader, made on first use: a hook whose snapshot reuses the last one reads
        no object, and does not import the packs module (threading, zstd's contexts...)."""
        if self._reader is None:
            from git_snapshot.store.packs import PackReader

            self._reader = PackReader(self.path)
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if hasattr(self, "index"):  # a repairing store may have none yet
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
        path = os.path.join(self.path, "lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except PermissionError as exc:  # its mode, or the store's: a read-only store
            fd = self._read_only_lock(path, exclusive, exc)
        except OSError as exc:  # replaced by a directory or a symlink
            raise UserError(
                f"cannot take the store's lock {path}: {exc.strerror}; it must be a plain "
                "file: remove whatever is there (git-snapshot makes a new one) and run again"
            ) from None
        try:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    yield False
                    return
                _wait_for(fd, mode)
            self._same_index()
            yield True
        finally:
            os.close(fd)  # releases the lock, also when the process dies

    def _read_only_lock(self, path: str, exclusive: bool, exc: OSError) -> int:
        """The lock of a store the user made read-only (chmod -R a-w): opened for reading,
        which flock takes as well, so that what only reads works; an exclusive lock is a
        writer's (gc, repair), refused in the one line that says how to write again."""
        if not exclusive:
            with contextlib.suppress(OSError):
                return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        raise self.not_writable("lock", exc)

    def not_writable(self, part: str, exc: BaseException) -> UserError:
        """The error for a part of the store this user may not write (its mode: the store is
        the user's, check_yours saw to that), with the chmod that makes it writable again."""
        where = getattr(exc, "filename", None) or self.path
        why = getattr(exc, "strerror", None) or exc
        return UserError(
            f"cannot write to the snapshot store's {part} ({where}: {why}): its mode "
            "forbids it; make the store writable again with: "
            f"chmod -R u+rwX {shell_word(self.path)}"
        )

    # -- objects -----------------------------------------------------------------------------

    def _locate(self, key: bytes) -> Location:
        loc = self.index.locate(key)
        if loc is None:
            raise self._damaged(key, None, "is missing from the index")
        return loc

    def read_object(self, key: bytes, loc: Location | None = None) -> bytes:
        """An object's content, checked against its key; *loc*: where it lies, when the
        caller already looked that up (Index.locate_many)."""
        if loc is None:
            loc = self._locate(key)
        try:
            data = self.reader.read(loc.pack, loc.offset, loc.length, loc.size, loc.inner)
        except (OSError, _zstd_error()) as exc:  # evaluated only when something is raised
            gone = isinstance(exc, FileNotFoundError)
            raise self._damaged(key, loc, f"is unreadable: {exc}", group=True, gone=gone) from exc
        if hashlib.sha256(data).digest() != key:
            raise self._damaged(key, loc, "does not match its hash")
        return data

    def _damaged(
        self,
        key: bytes,
        loc: Location | None,
        what: str,
        group: bool = False,
        gone: bool = False,
    ) -> CorruptObject:
        """The error for a damaged or missing object, recorded so that the next snapshot
        stores that content afresh instead of reusing the damaged copy (with *group*: the
        object's group could not be read, so every member of it is recorded; with *gone*:
        its pack file is missing, so every object in that pack is)."""
        where = f" in pack {loc.pack}" if loc is not None else ""
        msg = f"object {key.hex()[:16]}{where} {what}"
        with contextlib.suppress(sqlite3.Error, UserError):  # a full disk: still report it
            self.index.mark_damaged(key, msg, group and loc is not None and loc.inner >= 0)
            if gone and loc is not None:
                self.index.mark_pack_damaged(loc.pack, f"pack {loc.pack} is missing")
        from git_snapshot.store.objects import CorruptObject

        return CorruptObject(msg)

    def location(self, key: bytes) -> tuple[str, int]:
        """Where *key* is stored, (pack, offset): a sort key, so that a reader of many objects
        reads them in storage order (the objects of a pack share its dictionary, which each
        reading thread loads once). ("", 0) for a key the index lacks (its read says so)."""
        loc = self.index.locate(key)
        return (loc.pack, loc.offset) if loc is not None else ("", 0)

    def stream_blob(self, key: bytes) -> Iterator[bytes]:
        """The content of a blob, in chunks; raises CorruptObject after the last chunk if
        the content does not hash to its key (callers write to temp files first)."""
        loc = self._locate(key)
        h = hashlib.sha256()
        try:
            for chunk in self.reader.stream(loc.pack, loc.offset, loc.length, loc.size, loc.inner):
                h.update(chunk)
                yield chunk
        except (OSError, _zstd_error()) as exc:  # evaluated only when something is raised
            gone = isinstance(exc, FileNotFoundError)
            raise self._damaged(key, loc, f"is unreadable: {exc}", group=True, gone=gone) from exc
        if h.digest() != key:
            raise self._damaged(key, loc, "does not match its hash")

    def read_tree(self, key: bytes) -> list[Entry]:
        from git_snapshot.store.objects import decode_tree

        return decode_tree(self.read_object(key))

    def walk(self, tree: bytes, prefix: bytes = b"") -> Iterator[tuple[bytes, Entry]]:
        """Every entry below *tree*, depth first, parents before children."""
        from git_snapshot.store.objects import DIR

        for e in self.read_tree(tree):
            path = prefix + e.name
            yield path, e
            if e.kind == DIR:
                yield from self.walk(e.ref, path + b"/")

    # -- snapshots ---------------------------------------------------------------------------

    def snapshots(
        self, source: str | None = None, worktree: str | None = None, last: int | None = None
    ) -> list[Snapshot]:
        """Snapshots, oldest first (Index.snapshots): with *last*, the newest *last* only."""
        return self.index.snapshots(source, worktree, last)

    def forget(self, snaps: list[Snapshot]) -> None:
        """Drop snapshots. A tombstone naming their records goes into a pack first, so that
        an index rebuilt from the packs does not bring back what was dropped on purpose
        (retention.forget: the one way to do it)."""
        from git_snapshot.store.retention import forget

        forget(self, snaps)

    def get(self, source: str, ref: str | int) -> Snapshot:
        """A snapshot by its number or ``latest``."""
        snaps = self.index.snapshots(source)
        if not snaps:
            raise UserError("no snapshots yet for this repository; take one with: git snapshot")
        if ref == "latest":
            return snaps[-1]  # the newest (Index.snapshots: by number, pulled ones by time)
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


def _reserve_in_place(store_path: str) -> bool:
    """reserve.ensure_reserve's own first check: the reserve is there, whole."""
    try:
        return os.stat(os.path.join(store_path, RESERVE_NAME)).st_size >= RESERVE_BYTES
    except OSError:
        return False


def _has_entries(path: str) -> bool:
    """Whether the folder at *path* holds anything (or cannot be read: let the caller see)."""
    try:
        with os.scandir(path) as it:
            return next(it, None) is not None
    except OSError:
        return True


def read_log(path: str) -> list[dict[str, Any]]:
    """The entries of the JSON-lines log at *path* (a worktree's loss log), oldest first: a
    line that is not a JSON object (torn by a crash) is skipped; [] when there is no log."""
    import json  # (not at the top: it imports re, and this module is on the hook path)

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return []
    out = []
    for line in raw.splitlines():
        try:
            item = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out
