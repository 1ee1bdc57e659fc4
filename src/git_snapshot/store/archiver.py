"""Snapshot a directory: walk it into trees and blobs, reusing whatever is unchanged."""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import os
import sqlite3
import stat
import time
from bisect import bisect_left
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from operator import itemgetter

from git_snapshot.errors import UserError
from git_snapshot.store import filescache
from git_snapshot.store import leftovers
from git_snapshot.store import records
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import CHANGED_WHILE_READ
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD as _HEAD
from git_snapshot.store.objects import RECORD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import encode_into as _encode_into
from git_snapshot.store.packs import CHUNK
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.packs import PackWriter
from git_snapshot.store.reserve import no_room
from git_snapshot.store.safewrite import TEMP_MARK
from git_snapshot.store.safewrite import is_temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any
    from typing import TypeVar

    _T = TypeVar("_T")
SMALL_FILE = 4 << 20  # read whole below this, stream above
READ_TRIES = 3
# A file changed this recently is not cached: a second change within the file system's
# timestamp granularity could leave size, mtime and ctime as they were.
RACY_NS = 2_000_000_000
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"

Classify = Callable[[bytes, bool, int], int]  # (relative path, is dir, parent's label) -> label
Exclude = Callable[[bytes, bool], bool]  # (relative path, is dir) -> leave out and count it
Progress = Callable[[int, int], None]  # (files, bytes) so far


# Options and Result are plain classes with __slots__, not dataclasses: every hook imports
# this module, and dataclasses imports inspect (ast, dis, tokenize...). Keyword arguments as
# before; a field set after construction must be one of the slots.


class Options:
    __slots__ = (
        "classify",
        "clean",
        "clean_base",
        "exclude",
        "marks",
        "omit",
        "overlay",
        "overlay_deleted",
        "progress",
        "skip_cachedir_tag",
    )

    def __init__(
        self,
        classify: Classify | None = None,
        exclude: Exclude | None = None,
        omit: frozenset[bytes] = frozenset(),  # left out silently: not user data (.git)
        skip_cachedir_tag: bool = True,
        # Content that belongs in the snapshot but is not on disk right now (e.g. edits that
        # pre-commit or git's autostash took away): relative path -> absolute path of it.
        overlay: Mapping[bytes, bytes] | None = None,
        overlay_deleted: frozenset[bytes] = frozenset(),
        progress: Progress | None = None,
        # The watcher's dirty set: when the files cache was saved with the snapshot whose
        # root is *clean_base*, clean(rel_dir) says that folder and everything below it are
        # unchanged since; its tree key, counts and cache entries are then taken over
        # without listing it.
        clean: Callable[[bytes], bool] | None = None,
        clean_base: bytes = b"",
        # What changed since *clean_base* entry by entry (watch/dirtyset.CleanSet): when the
        # worktree's last snapshot has that root, changed folders are rebuilt from its trees
        # (store/rebuild.py) instead of listed, and the files cache is left alone.
        marks: Any = None,
    ) -> None:
        self.classify = classify
        self.exclude = exclude
        self.omit = omit
        self.skip_cachedir_tag = skip_cachedir_tag
        self.overlay: Mapping[bytes, bytes] = {} if overlay is None else overlay
        self.overlay_deleted = overlay_deleted
        self.progress = progress
        self.clean = clean
        self.clean_base = clean_base
        self.marks = marks


class Result:
    __slots__ = ("base", "changed", "new", "snapshot")

    def __init__(
        self,
        snapshot: Snapshot,
        new: bool,  # False: the tree was identical to the last snapshot, which is returned
        # rebuilt from the snapshot whose root is *base* (Options.marks): the paths of the
        # files and links whose entry differs from the base's, as diff_trees(base, root)
        # names them less what was added; None when not known (then diff the trees)
        base: bytes = b"",
        changed: list[bytes] | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.new = new
        self.base = base
        self.changed = changed

    def __repr__(self) -> str:
        return f"Result(snapshot={self.snapshot!r}, new={self.new})"


class _Unreadable(Exception):
    pass


class _Walker:
    def __init__(
        self,
        store: Store,
        writer: PackWriter,
        cache: filescache.FilesCache,
        opts: Options,
        start_ns: int,
    ) -> None:
        self.store = store
        self.writer = writer
        self.old_root = cache.root
        # objects found damaged or missing are stored afresh, never reused: drop them from
        # what the files cache offers, so their files are read again
        self.damaged = store.index.damaged()
        if self.damaged:
            cache = filescache.FilesCache(
                {p: c for p, c in cache.entries.items() if c[4] not in self.damaged},
                cache.trees - self.damaged.keys(),
                cache.root,
            )
        self.old_cache = cache.entries
        self.old_trees = cache.trees
        self.cache: dict[bytes, filescache.CacheEntry] = {}
        self.trees: set[bytes] = set()
        self.old_dirs = cache.dirs
        self.dirs: dict[bytes, filescache.DirEntry] = {}
        self.clean = opts.clean
        if self.clean is not None and cache.root == opts.clean_base and not self.damaged:
            # what is not walked keeps what the last snapshot had (stale entries of deleted
            # paths stay until the next full walk: a cache entry is only ever a hint)
            self.cache = dict(cache.entries)
            self.trees = set(cache.trees)
            self.dirs = dict(cache.dirs)
        else:
            self.clean = None
        self.rebuild: Any = None  # store/rebuild.Rebuild, when it drives this walk
        self.misses = 0
        self.opts = opts
        self.racy_after = start_ns - RACY_NS
        self.pending: set[bytes] = set()
        self.files = 0
        self.bytes = 0
        self.skipped: list[tuple[str, str]] = []
        self.changed: list[str] = []
        st = os.stat(store.path)
        self.store_id = (st.st_dev, st.st_ino)
        self.classify = opts.classify
        self.exclude = opts.exclude
        # overlay: directory (relative, with trailing '/', or b'') -> names it adds
        self.overlay_names: dict[bytes, set[bytes]] = {}
        for rel in opts.overlay:
            parts = rel.split(b"/")
            for i in range(len(parts)):
                parent = b"".join(p + b"/" for p in parts[:i])
                self.overlay_names.setdefault(parent, set()).add(parts[i])

    def _skip(self, rel: bytes, reason: str) -> None:
        self.skipped.append((os.fsdecode(rel), reason))

    def _known(self, key: bytes) -> bool:
        return key in self.pending or (self.store.index.has(key) and key not in self.damaged)

    def _known_tree(self, key: bytes) -> bool:
        """Written already; else the writer asks the index (in batches: ``_indexed``)."""
        self.trees.add(key)
        return key in self.old_trees or key in self.pending

    def _indexed(self, keys: list[bytes]) -> set[bytes]:
        """Of *keys*, those the store holds (undamaged): the writer leaves them out."""
        have = self.store.index.known(keys)
        return have - self.damaged.keys() if self.damaged else have

    def tree(self, path: bytes, rel: bytes, label: int) -> bytes | None:
        """Store the directory at *path*; None when it is left out (a cache dir).

        This loop runs for every entry of the worktree on every snapshot: the common case (a
        regular file the files cache knows) is handled inline, without a call.
        """
        try:
            with os.scandir(path) as it:
                items: list[tuple[bytes, os.DirEntry[bytes] | None]] = [(de.name, de) for de in it]
        except FileNotFoundError:
            items = []
        except OSError as exc:
            self._skip(rel.rstrip(b"/"), f"unreadable: {exc.strerror}")
            return None
        extra = self.overlay_names.get(rel) if self.overlay_names else None
        if extra:
            have = {name for name, _ in items}
            items += [(name, None) for name in extra if name not in have]
        items.sort(key=_first)
        if self.opts.skip_cachedir_tag and rel:
            # a search, not a loop over the names (Python 3.9's bisect takes no key: a
            # shorter tuple sorts first, so no DirEntry is ever compared)
            i = bisect_left(items, (b"CACHEDIR.TAG",))
            if (
                i < len(items)
                and items[i][0] == b"CACHEDIR.TAG"
                and items[i][1] is not None
                and is_cachedir_tag(path + b"/CACHEDIR.TAG")
            ):
                self._skip(rel.rstrip(b"/"), "cache directory (CACHEDIR.TAG)")
                return None
        parts = [TREE_MAGIC]
        add = parts.append
        omit, old_cache, cache = self.opts.omit, self.old_cache, self.cache
        classify, exclude = self.classify, self.exclude
        general = extra is not None or bool(self.opts.overlay_deleted)
        pack, regular, directory, temp_mark = _HEAD.pack, stat.S_IFREG, stat.S_IFDIR, _TEMP_MARK
        files = size_sum = 0
        for name, de in items:
            rel_name = rel + name
            if rel_name in omit:
                continue
            if general:
                e = self._entry(path + b"/" + name, rel_name, name, de, label)
                if e is not None:
                    _encode_into(parts, e)
                continue
            assert de is not None
            try:
                st = de.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # vanished while we looked: nothing to lose
            mode = st.st_mode
            c = old_cache.get(rel_name)
            if (
                c is None
                or mode & 0o170000 != regular
                or c[0] != st.st_size
                or c[1] != st.st_mtime_ns
                or c[2] != st.st_ctime_ns
                or c[3] != st.st_ino
                or (exclude is not None and exclude(rel_name, False))
            ):
                if mode & 0o170000 == directory and not name.startswith(temp_mark):
                    e = self._dir_entry(de.path, rel_name, name, st, label)  # what _entry does
                else:
                    e = self._entry(de.path, rel_name, name, de, label, st)
                if e is not None:
                    _encode_into(parts, e)
                continue
            # the common case: a regular file the files cache knows, handled inline (its size
            # and mtime are the cache's: just compared equal)
            cache[rel_name] = c
            files += 1
            size_sum += c[0]
            add(
                pack(
                    FILE,
                    classify(rel_name, False, label) if classify is not None else 0,
                    0,
                    mode & 0o7777,
                    c[1],
                    c[0],
                    len(name),
                    32,
                )
            )
            add(name)
            add(c[4])
        self.files += files
        self.bytes += size_sum
        if self.opts.progress:
            self.opts.progress(self.files, self.bytes)
        data = b"".join(parts)
        key = hashlib.sha256(data).digest()
        if not self._known_tree(key):
            self.writer.add(TREE, key, data, dedupe=True)
            self.pending.add(key)
        return key

    def _entry(
        self,
        path: bytes,
        rel: bytes,
        name: bytes,
        de: os.DirEntry[bytes] | None,
        label: int,
        st: os.stat_result | None = None,
    ) -> Entry | None:
        opts = self.opts
        if rel in opts.overlay_deleted:
            return None
        if is_temp_name(name):  # a temp file of a restore: not the user's data
            leftovers.remove_if_dead(None, path, links=False)  # a killed restore's goes now
            return None
        src = opts.overlay.get(rel) if opts.overlay else None
        try:
            if src is not None:
                st = os.lstat(src)
                path = src
            elif st is not None:
                pass
            elif de is not None:
                st = de.stat(follow_symlinks=False)
            else:  # a directory that only the overlay has
                return self._dir_entry(path, rel, name, None, label)
        except FileNotFoundError:
            return None  # vanished while we looked: nothing to lose
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            return self._dir_entry(path, rel, name, st, label)
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
            self._skip(rel, _special_kind(mode))
            return None
        if self.exclude is not None and self.exclude(rel, False):
            self._skip(rel, "excluded")
            return None
        lab = self.classify(rel, False, label) if self.classify else 0
        if stat.S_ISLNK(mode):
            try:
                target = os.readlink(path)
            except FileNotFoundError:
                return None
            self.files += 1
            return Entry(
                name, SYMLINK, stat.S_IMODE(mode), st.st_mtime_ns, len(target), target, lab
            )
        try:
            got = self._file(path, rel, st, cacheable=src is None)
        except _Unreadable as exc:
            self._skip(rel, f"unreadable: {exc}")
            return None
        if got is None:
            return None
        key, fst, size, flags = got
        self.files += 1
        self.bytes += size
        return Entry(name, FILE, stat.S_IMODE(fst.st_mode), fst.st_mtime_ns, size, key, lab, flags)

    def _dir_entry(
        self, path: bytes, rel: bytes, name: bytes, st: os.stat_result | None, label: int
    ) -> Entry | None:
        if st is not None and (st.st_dev, st.st_ino) == self.store_id:
            return None  # never snapshot the store into itself
        if self.exclude is not None and self.exclude(rel, True):
            self._skip(rel, "excluded")
            return None
        lab = self.classify(rel, True, label) if self.classify else 0
        if self.rebuild is not None and st is not None:
            return self.rebuild.sub(path, rel, name, st, lab)  # type: ignore[no-any-return]
        if self.clean is not None and st is not None and self.clean(rel):
            d = self.old_dirs.get(rel)  # unchanged since the last snapshot: not even listed
            if d is not None and d[4:] == (st.st_ino, st.st_mtime_ns, st.st_ctime_ns):
                self.files += d[1]
                self.bytes += d[2]
                self.skipped.extend(d[3])
                return Entry(name, DIR, stat.S_IMODE(st.st_mode), st.st_mtime_ns, 0, d[0], lab)
        files, size, skipped = self.files, self.bytes, len(self.skipped)
        key = self.tree(path, rel + b"/", lab)
        if key is None:
            return None
        if st is not None:
            self.dirs[rel] = (
                key,
                self.files - files,
                self.bytes - size,
                tuple(self.skipped[skipped:]),
                st.st_ino,
                st.st_mtime_ns,
                st.st_ctime_ns,
            )
        if st is None:
            return Entry(name, DIR, 0o755, time.time_ns(), 0, key, lab)
        return Entry(name, DIR, stat.S_IMODE(st.st_mode), st.st_mtime_ns, 0, key, lab)

    def _file(
        self, path: bytes, rel: bytes, st: os.stat_result, cacheable: bool
    ) -> tuple[bytes, os.stat_result, int, int] | None:
        """(content key, stat, size stored, flags), or None if the file vanished."""
        c = self.old_cache.get(rel)
        if (
            c is not None
            and c[0] == st.st_size
            and c[1] == st.st_mtime_ns
            and c[2] == st.st_ctime_ns
            and c[3] == st.st_ino
        ):
            self.cache[rel] = c
            return c[4], st, st.st_size, 0
        self.misses += 1
        for attempt in range(READ_TRIES):
            got = self._read(path, attempt == READ_TRIES - 1)
            if got is None:
                return None
            key, fst, size, stable = got
            if stable:
                if cacheable and max(fst.st_mtime_ns, fst.st_ctime_ns) < self.racy_after:
                    self.cache[rel] = (
                        fst.st_size,
                        fst.st_mtime_ns,
                        fst.st_ctime_ns,
                        fst.st_ino,
                        key,
                    )
                return key, fst, size, 0
        self.changed.append(os.fsdecode(rel))
        return key, fst, size, CHANGED_WHILE_READ

    def _read(self, path: bytes, last_try: bool) -> tuple[bytes, os.stat_result, int, bool] | None:
        """Store one file's content; None if it vanished or is no longer a regular file."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOATIME", 0)
        try:
            try:
                fd = os.open(path, flags)
            except PermissionError:  # O_NOATIME needs ownership
                fd = os.open(path, flags & ~getattr(os, "O_NOATIME", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a symlink; the next snapshot sees it
                return None
            raise _Unreadable(exc.strerror) from exc
        try:
            before = _source(os.fstat, fd)
            if not stat.S_ISREG(before.st_mode):
                return None
            if before.st_size < SMALL_FILE:
                return self._read_small(fd, before, last_try)
            return self._read_stream(fd, before, last_try)
        finally:
            os.close(fd)

    def _read_small(
        self, fd: int, before: os.stat_result, last_try: bool
    ) -> tuple[bytes, os.stat_result, int, bool]:
        # one read of the size fstat gave, plus one byte: a short read is the end of the
        # file (a buffer of CHUNK per file cost an mmap and a munmap each)
        data = _source(os.read, fd, before.st_size + 1)
        if len(data) > before.st_size:  # it grew meanwhile: the rest, then it is read again
            chunks = [data]
            while chunk := _source(os.read, fd, CHUNK):
                chunks.append(chunk)
            data = b"".join(chunks)
        after = _source(os.fstat, fd)
        stable = _same(before, after) and len(data) == after.st_size
        key = hashlib.sha256(data).digest()
        if (stable or last_try) and key not in self.pending:
            self.writer.add(BLOB, key, data, dedupe=True)
            self.pending.add(key)
        return key, after, len(data), stable

    def _read_stream(
        self, fd: int, before: os.stat_result, last_try: bool
    ) -> tuple[bytes, os.stat_result, int, bool]:
        rec = self.writer.begin_stream()
        while True:
            chunk = _source(os.read, fd, CHUNK)
            if not chunk:
                break
            rec.write(chunk)
        after = _source(os.fstat, fd)
        stable = _same(before, after) and rec.size == after.st_size
        key = rec.digest()
        if (stable or last_try) and not self._known(key):
            rec.commit(BLOB)
            self.pending.add(key)
        else:
            rec.discard()
        return key, after, rec.size, stable


def _source(fn: Callable[..., _T], *args: Any) -> _T:
    """Call *fn* on the file being snapshotted: its errors make that file unreadable, whereas
    errors writing the store (a full disk) must fail the snapshot."""
    try:
        return fn(*args)
    except OSError as exc:
        raise _Unreadable(exc.strerror) from exc


_first: Callable[[tuple[bytes, object]], bytes] = itemgetter(0)  # C: sort calls it per entry
_TEMP_MARK = TEMP_MARK.encode()  # a name's cheap first test (is_temp_name has the full one)


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def is_cachedir_tag(path: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False


def create_snapshot(
    store: Store,
    source: str,
    directory: str,
    *,
    trigger: str = "manual",
    message: str = "",
    worktree: str | None = None,
    meta: dict[str, Any] | None = None,
    options: Options | None = None,
    skip_if_unchanged: bool = False,
) -> Result:
    """Snapshot *directory* as a new snapshot of *source*.

    Write order: objects go to packs (fsync, rename), then one index transaction enters the
    packs and the snapshot; the files cache is written last. A kill at any point leaves the
    index as it was or with the whole snapshot.
    """
    opts = options or Options()
    directory = os.path.abspath(directory)
    worktree = worktree or directory
    root = os.fsencode(directory)
    if not os.path.isdir(root):
        raise UserError(f"cannot snapshot {directory}: not a directory")
    start_ns = time.time_ns()
    with store.lock(), _gc_paused():
        generation = store.index.meta_get("generation", "0")
        cpath = filescache.cache_path(store.cache_dir, source, directory)
        writer = PackWriter(store.path, dictionary=True, threads=_threads())
        packs: list[FinishedPack] = []
        try:
            prev = _unchanged(store, source, worktree, opts)
            base = _rebuild_base(store, source, worktree, opts) if prev is None else None
            if prev is None and base is None:
                cache = filescache.load(cpath, generation, store.index.has_root)
            else:  # the dirty set says nothing changed since *prev*: its root is this one
                cache = filescache.FilesCache(root=(prev or base[0]).root)  # type: ignore[index]
            walker = _Walker(store, writer, cache, opts, start_ns)
            writer.known = walker._indexed
            if base is not None:  # what changed since base, from its trees (store/rebuild.py)
                from git_snapshot.store.rebuild import Rebuild

                walker.rebuild = Rebuild(walker, opts.marks, *base)
                key = walker.rebuild.run(root)
            elif prev is None:
                key = walker.tree(root, b"", 0)
            else:
                key = prev.root
                walker.files, walker.bytes = prev.files, prev.bytes
                walker.skipped = [tuple(x) for x in prev.meta.get("skipped_paths", [])]
            if key is None:
                raise UserError(f"cannot snapshot {directory}: {walker.skipped[-1][1]}")
            same = _last_same(store, source, worktree, key) if skip_if_unchanged else None
            if same is not None:
                # the same root: every object it names is committed already, except fresh
                # copies of damaged ones, which heal the earlier snapshots
                if walker.pending & walker.damaged.keys():
                    store.index.add_packs(writer.finish())
                else:
                    writer.abort()
                _save_cache(walker, cpath, generation, key)
                return _result(walker, same, False)
            writer.flush()  # every object before the record, and counted in added_bytes
            info: dict[str, Any] = dict(meta or {})
            info["skipped_paths"] = walker.skipped
            if walker.changed:
                info["changed_while_read"] = walker.changed
            snap = Snapshot(
                rowid=0,
                source=source,
                id=store.index.reserve_seq(source, directory),
                created=time.time(),
                trigger=trigger,
                message=message,
                worktree=worktree,
                root=key,
                files=walker.files,
                bytes=walker.bytes,
                added_bytes=writer.written,
                skipped=len(walker.skipped),
                meta=info,
            )
            # the record goes into the last pack, after every object it names
            record = records.encode_record(snap, directory)
            snap.record = hashlib.sha256(record).digest()
            writer.add(RECORD, snap.record, record)
            packs = writer.finish()
            store.index.add_snapshot(packs, snap)
        except (OSError, sqlite3.Error) as exc:
            writer.abort()
            _unlink_packs(store, packs)  # no row names them: they would only be orphans
            if isinstance(exc, sqlite3.Error) and not no_room(exc):
                raise  # a damaged index: the entry point names git snapshot repair
            why = "its disk is full" if no_room(exc) else getattr(exc, "strerror", None) or exc
            raise UserError(
                f"cannot write to the snapshot store at {store.path}: {why}; free some space "
                "on that disk (git snapshot prune reclaims old snapshots) or set "
                "GIT_SNAPSHOT_STORE to another persistent directory"
            ) from exc
        except BaseException:
            writer.abort()
            raise
        _save_cache(walker, cpath, generation, key)  # last: it may only name committed objects
    return _result(walker, snap, True)


def _result(walker: _Walker, snap: Snapshot, new: bool) -> Result:
    rebuild = walker.rebuild
    if rebuild is None:
        return Result(snap, new)
    return Result(snap, new, rebuild.base.root, rebuild.changed_paths)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic collector off while a walk makes a few hundred thousand objects none of
    which is a cycle (it ran every 700 allocations: 5 % of a first snapshot's time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.freeze()  # what the walk made (the files cache) is never scanned again
            gc.enable()


def _threads() -> int:
    """Threads that compress (zstd releases the GIL): one per core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _unlink_packs(store: Store, packs: list[FinishedPack]) -> None:
    for p in packs:
        with contextlib.suppress(OSError):
            os.unlink(store.pack_path(p.name))


def _save_cache(walker: _Walker, path: str, generation: str, root: bytes) -> None:
    if walker.rebuild is not None:
        return  # a rebuild (store/rebuild.py) neither reads nor writes the files cache
    if (
        walker.misses
        or len(walker.cache) != len(walker.old_cache)
        or walker.trees != walker.old_trees
        or walker.old_root != root
        or walker.dirs != walker.old_dirs
    ):
        with contextlib.suppress(OSError):  # only a cache: the snapshot is committed already
            filescache.save(
                path,
                generation,
                filescache.FilesCache(walker.cache, walker.trees, root, walker.dirs),
                walker.store.tmp_dir,
            )


def _unchanged(store: Store, source: str, worktree: str, opts: Options) -> Snapshot | None:
    """The worktree's last snapshot when the dirty set says nothing changed since it."""
    if opts.clean is None or opts.overlay or opts.overlay_deleted or not opts.clean(b""):
        return None
    mine = store.snapshots(source, worktree)
    if not mine or mine[-1].root != opts.clean_base or store.index.damaged():
        return None
    return mine[-1]


def _rebuild_base(
    store: Store, source: str, worktree: str, opts: Options
) -> tuple[Snapshot, dict[bytes, dict[bytes, bytes]]] | None:
    """The worktree's last snapshot and its trees of the folders that changed since, when
    the dirty set names what changed entry by entry and that snapshot is its base."""
    if opts.marks is None or opts.overlay or opts.overlay_deleted:
        return None
    mine = store.snapshots(source, worktree)
    if not mine or mine[-1].root != opts.clean_base or store.index.damaged():
        return None
    from git_snapshot.store import rebuild

    try:
        trees = rebuild.old_trees(store, opts.marks, mine[-1].root)
    except rebuild.Unusable:
        return None  # a damaged base: the full walk stores what the disk holds
    return mine[-1], trees


def _last_same(store: Store, source: str, worktree: str, key: bytes) -> Snapshot | None:
    mine = store.snapshots(source, worktree)
    if mine and mine[-1].root == key:
        return mine[-1]
    return None
