"""Snapshot a directory: walk it into trees and blobs, reusing whatever is unchanged."""

from __future__ import annotations

import os
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.ctx import gc_paused
from git_snapshot.errors import StoreFull
from git_snapshot.errors import UserError
from git_snapshot.store import filescache
from git_snapshot.store import index
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import RECORD
from git_snapshot.store.reading import SMALL_FILE as SMALL_FILE
from git_snapshot.store.reading import _read_ahead as _read_ahead
from git_snapshot.store.reading import _read_listed as _read_listed
from git_snapshot.store.reading import _ReadAhead as _ReadAhead
from git_snapshot.store.reading import _stat_id as _stat_id
from git_snapshot.store.reading import read_whole as read_whole
from git_snapshot.store.result import Result as Result  # its home: hooks import it alone
from git_snapshot.store.walker import CACHEDIR_SIGNATURE as CACHEDIR_SIGNATURE
from git_snapshot.store.walker import _from_cwd as _from_cwd
from git_snapshot.store.walker import _packed_stats as _packed_stats
from git_snapshot.store.walker import _walk as _walk
from git_snapshot.store.walker import _Walker as _Walker
from git_snapshot.store.walker import is_cachedir_tag as is_cachedir_tag

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import hashlib
    import sqlite3
    from collections.abc import Callable
    from collections.abc import Iterator
    from collections.abc import Mapping
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from _collections_abc import Callable  # loaded at Python's start; collections.abc is not

    from git_snapshot import hashes as hashlib  # OpenSSL loaded on first use
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    from typing import Any

    from git_snapshot.store.packs import FinishedPack
    from git_snapshot.store.packs import PackWriter

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
        "inherit",
        "marks",
        "omit",
        "overlay",
        "overlay_deleted",
        "prepared",
        "progress",
        "rules",
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
        # What classify and exclude decide from besides the path (git's labels, exclude
        # patterns), as a string: a folder whose listing is as its files-cache record says
        # keeps its tree whole only when this is what it was. None with a classify or
        # exclude: never (each entry is then labelled afresh; file contents are still taken
        # from the cache).
        rules: str | None = None,
        # With *marks*: the watcher's prepared tree (watch/prep.UsePrep), called under the
        # store's lock with the base snapshot: (what the rebuild takes as its base, the tree
        # to rebuild from, the marks since that tree), or None to rebuild from the base.
        prepared: Callable[[Store, Snapshot], tuple[Any, bytes, Any] | None] | None = None,
        # A label that a folder labelled with it gives every entry below it, without a call
        # of *classify* (None: none): a caller whose classify answers it there anyway (git:
        # below an ignored folder everything is ignored) saves a call per entry. *rules*
        # covers it as it covers classify.
        inherit: int | None = None,
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
        self.rules = rules
        self.prepared = prepared
        self.inherit = inherit


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
    with _turn(store, source, worktree), store.lock(), gc_paused(freeze=True):
        generation = store.index.meta_get("generation", "0")
        cpath = filescache.cache_path(store.cache_dir, source, directory)
        # made on the first object (_LazyWriter): an unchanged walk (most hooks) writes none
        writer: Any = _LazyWriter(
            lambda: _pack_writer(store.path, dictionary=True, threads=_compressors())
        )
        writer.on_sealed = store.index.add_packs  # packs sealed mid-walk: indexed then
        packs: list[FinishedPack] = []
        cached: filescache.Writer | filescache.Appender | _Later | None = None
        indexer: _Indexer | None = None
        try:
            _lost_packs(store)
            prev = _unchanged(store, source, worktree, opts)
            base = _rebuild_base(store, source, worktree, opts, root) if prev is None else None
            if prev is None:  # (a rebuild never asks it: only what it is told is kept)
                opts = _clean_since_last(store, source, worktree, opts)
            loading = time.perf_counter()
            if prev is None and base is None:
                cache = filescache.load(cpath, generation, store.index.has_root)
            else:  # the dirty set says nothing changed since *prev*: its root is this one
                cache = filescache.FilesCache(root=(prev or base[0]).root)  # type: ignore[index]
            if base is not None or cache.root:  # not a first snapshot (or a hook's few
                # changes): what changed, compressed beside the walk from the first byte,
                # without a dictionary (M, 1 % edited: store after 3 snapshots 123.38 -> 123.24
                # MB, 6 % less CPU: its record and choice cost more than it saves on a few
                # MB), at faster levels (the writer above holds nothing yet)
                writer = _LazyWriter(
                    lambda: _pack_writer(
                        store.path,
                        threads=_compressors(),
                        pool_after=0,
                        level=CHANGES_LEVEL,
                        tree_level=CHANGES_TREE_LEVEL,
                        group_bytes=CHANGES_GROUP,
                    )
                )
            walker = _Walker(store, writer, cache, opts, start_ns)
            walker.load_s = time.perf_counter() - loading  # (splitwalk's trace shows it)
            # an empty store (a first snapshot): no index query per batch of objects
            empty = store.index.db.execute("SELECT 1 FROM objects LIMIT 1").fetchone() is None
            writer.known = None if empty else walker._indexed
            if base is not None:  # what changed since base, from its trees (store/rebuild.py)
                from git_snapshot.store.rebuild import Rebuild

                walker.rebuild = Rebuild(walker, base[2], base[0], base[1])
                key = walker.rebuild.run(root)
            elif prev is None:
                walker.cache_path = cpath  # the files cache; a first walk writes it as it goes
                if not cache.root:  # a first walk's packs sealed during it: entered by a
                    indexer = writer.on_sealed = _Indexer(store.index_path)  # thread (lazily)
                key = _walk(walker, root)
            else:
                key = prev.root
                walker.files, walker.bytes = prev.files, prev.bytes
                walker.skipped = [tuple(x) for x in prev.meta.get("skipped_paths", [])]
            if key is None:
                raise UserError(f"cannot snapshot {directory}: {walker.skipped[-1][1]}")
            # the files cache, written while the pool compresses the last objects (the last
            # group handed over first) and the index takes the snapshot (a thread); put in
            # place once the snapshot is committed (it may only name committed objects)
            writer.hand_over()
            if indexer is not None:  # what is written: its rows entered meanwhile (_Indexer)
                writer.cut(CUT_AFTER)
            cached = _cache_file(walker, cpath, generation, key)
            same = (
                _last_same(store, source, worktree, key, walker.skipped)
                if skip_if_unchanged
                else None
            )
            if indexer is not None and same is not None:
                writer.on_sealed = store.index.add_packs
                indexer.close()
            if same is not None:
                # the same root: every object it names is committed already, except fresh
                # copies of damaged ones, which heal the earlier snapshots
                if walker.pending & walker.damaged.keys():
                    store.index.add_packs(writer.finish())
                else:
                    writer.abort()
                _publish(cached)
                return _result(walker, same, False)
            writer.flush()  # every object before the record, and counted in added_bytes
            if indexer is not None:  # its packs in the index before this thread writes there
                writer.on_sealed = store.index.add_packs
                indexer.close()
            info: dict[str, Any] = dict(meta or {})
            info["skipped_paths"] = walker.skipped
            if walker.changed:
                info["changed_while_read"] = walker.changed
            info["unsettled"] = _unsettled_meta(walker)
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
                added_bytes=writer.written + _prepared_bytes(base),
                skipped=len(walker.skipped),
                meta=info,
            )
            # the record goes into the last pack, after every object it names
            from git_snapshot.store import records  # (a new snapshot's: not an unchanged one's)

            record = records.encode_record(snap, directory)
            snap.record = hashlib.sha256(record).digest()
            writer.add(RECORD, snap.record, record)
            packs = writer.finish()
            if base is not None:  # a rebuild's rows: recent (store/index.py)
                store.index.add_snapshot(packs, snap, recent=True)
            else:  # a walk's with a files cache: recent too when few (index.SMALL_ROWS)
                rows = sum(len(p.objects) for p in packs)
                small = bool(cache.root) and rows <= index.SMALL_ROWS
                store.index.add_snapshot(packs, snap, small, index.WALK_RECENT_MAX)
        except (OSError, sqlite3.Error) as exc:
            writer.abort()
            if indexer is not None:  # (what it entered stays: those packs stay too)
                indexer.close(raising=False)
                _unlink_packs(store, indexer.left)
            _unlink_packs(store, packs)  # no row names them: they would only be orphans
            _discard(cached)
            from git_snapshot.store.reserve import no_room  # (a failure's)

            if isinstance(exc, sqlite3.Error) and not no_room(exc):
                raise  # a damaged index: the entry point names git snapshot repair
            raise _failed(store.path, exc) from exc
        except BaseException:
            writer.abort()
            if indexer is not None:
                indexer.close(raising=False)
                _unlink_packs(store, indexer.left)
            _discard(cached)
            raise
        _publish(cached)  # last: it may only name committed objects
    return _result(walker, snap, True)


def _unsettled_meta(walker: _Walker) -> dict[str, Any]:
    """What of this snapshot may be a concurrent writer's (docs/FORMAT.md, "unsettled"): a
    file whose change (ctime) is at or after ``since`` may hold what a writer put there while
    the walk ran, and in the folders ``dirs`` (every folder with ``all``) an entry may have
    been deleted meanwhile. The watcher's bursts take such paths from the snapshot before
    (watch/bursts.unsettled)."""
    from git_snapshot.store.walker import UNSETTLED_MAX

    out: dict[str, Any] = {"since": walker.racy_after / 1e9}
    found = walker.unsettled
    if len(found) > UNSETTLED_MAX:
        out["all"] = True
    elif found:
        out["dirs"] = sorted({os.fsdecode(d) for d in found})
    return out


def _failed(store_path: str, exc: BaseException) -> UserError:
    """The one line for a snapshot that failed on *exc*: a full disk, the store (what to do
    about it), or else the file it names, which is not the store's (a worktree's file
    that the walk could not take: never told to free space on the store's disk)."""
    from git_snapshot.store.reserve import no_room

    nothing = "; nothing was stored (earlier snapshots are intact)"
    if no_room(exc):
        return StoreFull(
            f"cannot write to the snapshot store at {store_path}: its disk is full{nothing}; "
            "free some space on that disk (git snapshot prune reclaims old snapshots) or set "
            "GIT_SNAPSHOT_STORE to another persistent directory"
        )
    why = getattr(exc, "strerror", None) or exc
    name = getattr(exc, "filename", None)
    path = os.path.abspath(os.fsdecode(name)) if isinstance(name, (str, bytes)) else None
    inside = (
        path is None or path == store_path or path.startswith(store_path.rstrip(os.sep) + os.sep)
    )
    if inside and isinstance(exc, PermissionError):  # the user's own store (check_yours): its mode
        from git_snapshot.store.core import shell_word

        return UserError(
            f"cannot write to the snapshot store at {store_path} ({path or store_path}: {why})"
            f"{nothing}; make the store writable again with: chmod -R u+rwX "
            f"{shell_word(store_path)}"
        )
    if inside:
        return UserError(
            f"cannot write to the snapshot store at {store_path}: {why}{nothing}; check that "
            "you may write there, or set GIT_SNAPSHOT_STORE to another persistent directory"
        )
    return UserError(f"cannot take the snapshot: {path}: {why}{nothing}; run it again")


def _result(walker: _Walker, snap: Snapshot, new: bool) -> Result:
    rebuild = walker.rebuild
    if rebuild is None:
        return Result(snap, new)
    return Result(snap, new, rebuild.base.root, rebuild.changed_paths, rebuild.git_ids)


@contextlib.contextmanager
def _turn(store: Store, source: str, worktree: str) -> Iterator[None]:
    """One snapshot of a worktree at a time (an exclusive flock on ``turns/<name>.lock``,
    taken before the store's shared lock, so gc never waits behind it): a snapshot's base and
    what it widens its marks by (_overlapped) are read from the worktree's last snapshot,
    which must still be its last when it commits. Two at once, a watch snapshot committed
    while a hook's rebuilt from the base both read: the hook's, now the newest, held the
    base's version of a file the watch snapshot had seen written (tests/test_overlap.py).
    The later one waits for the first, then rebuilds from its base widened by what the first
    holds (on L ~0.1 s of CPU). A lock file that cannot be made (a read-only store) takes no
    turn: such a store stores nothing anyway."""
    import fcntl

    name = os.path.basename(filescache.cache_path("", source, worktree))
    path = os.path.join(store.path, "turns", name[: -len(".cache")] + ".lock")
    try:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:  # the first snapshot since the store was made
            os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases it, also when the process dies


# zstd level of the frames of a snapshot that is not a first one (a walk's or a rebuild's
# changes, store/rebuild.py). Rebuilt, 1 % of M: level 4 450-470 ms CPU, 3 370-410, 1
# 340-470; added 1.9-2.3 MiB at 4, 1.8-2.4 at 3, 2.6-3.2 at 1 (with the dictionary, level 4:
# 510-590 ms, 1.5-2.0 MiB). Session 9, M's 1 % edit alone (6.3 MB in 2 MiB groups, one
# thread, medians of 5, load 4): level 1 45 ms -> 2.39 MB, 2 46 ms -> 1.72 MB, 3 64 ms ->
# 1.41 MB; the walk's 1 % snapshot, 4 interleaved pairs: the pool's CPU 92 -> 75 ms (median),
# added 2.59 -> 2.83 MB (its trees included).
CHANGES_LEVEL = 2
# and of its trees (one frame each): on L 1 % (3,600 trees, 3.7 MB) level 3 53 ms CPU ->
# 2.81 MB, -1 19 ms -> 2.83 MB
CHANGES_TREE_LEVEL = -1
# and its groups are closed at 1 MiB, not packs.GROUP_BYTES (2 MiB): a walk's last groups are
# compressed after it ends, while it waits (PackWriter.flush), and a 2 MiB group queued then,
# not started yet, was one job of ~10-15 ms that one thread compressed alone while the other
# had half the last group (M, 1 % edited: flush 9-25 ms). Each thread's buffer where a
# group's members are joined is half as big too: 670 fewer page faults in M's 1 % step (16,742
# -> 16,073, medians of 8), for 3.5 % more bytes added (2.617 -> 2.708 MB; groups of 512 KiB:
# 980 fewer faults, and 16 % more bytes for the changed files alone at level 2)
CHANGES_GROUP = 1 << 20


# A first walk's open pack holding at least this many bytes when the walk ends is sealed
# then (PackWriter.cut): its rows are entered by the index thread (_Indexer) while the pool
# compresses what is still queued, and the snapshot's transaction, at the end, on one core,
# takes only the rows of the pack the queue and the record go to.
CUT_AFTER = 16 << 20


def _compressors() -> int:
    """Threads that compress (zstd releases the GIL): one core fewer than the machine has
    (at least 1, at most 4). The walk keeps a core to itself and compresses a batch itself
    whenever the pool is behind (PackWriter._submit): with as many as cores, a first snapshot
    on 2 cores ran 3 busy threads, and the walk, its critical path, had 2/3 of a core."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def _unlink_packs(store: Store, packs: list[FinishedPack]) -> None:
    for p in packs:
        with contextlib.suppress(OSError):
            os.unlink(store.pack_path(p.name))


def _cache_file(
    walker: _Walker, path: str, generation: str, root: bytes
) -> filescache.Writer | filescache.Appender | _Later | None:
    """The files cache this walk leaves, written but not in place (``_publish``), or being
    written (_Later); None when there is none to write, or it could not be (only a cache:
    the next walk reads more)."""
    if walker.rebuild is not None:
        return None  # a rebuild (store/rebuild.py) neither reads nor writes the files cache
    if walker.lost:
        return None
    if walker.spill is not None:  # a first walk's records, partly written already
        try:
            walker.spill.chunk(walker.dirs)
            walker.spill.finish(generation, root, walker.rules, walker.skips, publish=False)
        except OSError:
            walker.spill.discard()
            return None
        return walker.spill
    if walker.dirs and (
        walker.dirty
        or walker.old_root != root
        or len(walker.dirs) != walker.old_count
        or len(walker.skips) != len(walker.old_skips)
    ):
        # the changed records appended to the file loaded, or the whole cache again (M: 7.3
        # MB, 22-27 ms of CPU at load 5), in a thread: marshal holds the GIL, but the
        # checksums and the write do not, nor do the pool's last frames, the pack's fsync and
        # SQLite's insert and commit, which follow meanwhile (filescache.update)
        return _Later(
            filescache.update,
            path,
            generation,
            filescache.FilesCache(walker.dirs, walker.skips, root, walker.rules),
            walker.tail,
            walker.renewed,
            walker.old_dirs,
            walker.store.tmp_dir,
        )
    return None


class _Later:
    """A call run in a thread of its own (no threading import: the hook path); ``result()``
    waits for it: what it returned, or None if it raised (only a cache: the next walk reads
    more)."""

    def __init__(
        self, fn: Callable[..., filescache.Writer | filescache.Appender], *args: Any
    ) -> None:
        import _thread

        self._done = _thread.allocate_lock()
        self._done.acquire()
        self._value: filescache.Writer | filescache.Appender | None = None
        _thread.start_new_thread(self._run, (fn, args))

    def _run(
        self, fn: Callable[..., filescache.Writer | filescache.Appender], args: tuple[Any, ...]
    ) -> None:
        try:
            self._value = fn(*args)
        except Exception:  # (an OSError: a full disk, a gone store)
            self._value = None
        finally:
            self._done.release()

    def result(self) -> filescache.Writer | filescache.Appender | None:
        with self._done:
            return self._value


class _Indexer:
    """A first walk's packs sealed before its end (PackWriter.on_sealed), entered in the
    index by a thread of its own with its own connection, in the order they were sealed,
    each once it is durable (the writer calls this after its fsync and rename), while the
    walk goes on. Entered by the walking thread, each pack's insert (M: ~35k rows, 0.2-0.3 s
    of CPU) stopped the walk, and the pool, fed only by the walk, ran dry and idled: on 2
    cores that idle core costs as much as the insert's CPU. SQLite lets go of the GIL while
    it inserts. ``close()`` waits for it, and raises what failed (a full disk), before the
    walking thread's own connection writes again (the snapshot's number, its transaction)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._jobs: Any = None  # queue.SimpleQueue, with the thread, at the first pack
        self._thread: Any = None
        self.error: BaseException | None = None
        self.left: list[FinishedPack] = []  # given, not entered (after a failure): no row

    def __call__(self, packs: list[FinishedPack]) -> None:
        if self.error is not None:  # the walk stops there, as when it entered them itself
            self.left += packs
            raise self.error
        if self._thread is None:  # (not for a walk that seals none: a small tree's hook)
            import queue
            import threading

            self._jobs = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._run, args=(self._path,), name="git-snapshot-index", daemon=True
            )
            self._thread.start()
        self._jobs.put(list(packs))

    def _run(self, path: str) -> None:
        db: index.Index | None = None
        try:
            while (packs := self._jobs.get()) is not None:
                if self.error is None:
                    try:
                        if db is None:
                            db = index.Index(path)
                        db.add_packs(packs)
                        continue
                    except BaseException as exc:  # raised in the walking thread
                        self.error = exc
                self.left += packs  # (its transaction rolled back: named by no row)
        finally:
            if db is not None:
                with contextlib.suppress(Exception):
                    db.close()

    def close(self, raising: bool = True) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        if raising and self.error is not None:
            raise self.error


def _publish(cached: filescache.Writer | filescache.Appender | _Later | None) -> None:
    if isinstance(cached, _Later):
        cached = cached.result()
    if cached is not None:
        try:
            cached.publish()
        except OSError:  # only a cache: the snapshot is committed already
            cached.discard()


def _discard(cached: filescache.Writer | filescache.Appender | _Later | None) -> None:
    if isinstance(cached, _Later):
        cached = cached.result()
    if cached is not None:
        cached.discard()


def _lost_packs(store: Store) -> None:
    """Every object of a pack the index names that is gone from packs/ (deleted, a disk's
    damage), marked damaged before anything reuses it: the files cache, the watcher's rebuild
    and an unchanged snapshot keep the keys the index holds, and a snapshot would name files
    it cannot restore (RED30: "3 files (+0 B stored)" that restored nothing). Then the walk
    stores them afresh, as after a verify that found them. One listdir and one query (83
    packs: 0.1 ms; an access(2) per pack, for one made unreadable, was 5.7 us each: not
    taken, a read finds that one)."""
    try:
        there = set(os.listdir(store.packs_dir))
    except OSError:
        return  # (the snapshot's own writes will say what is wrong)
    for name in store.index.packs():
        if name not in there:
            store.index.mark_pack_damaged(name, "its pack file is missing")


def _unchanged(store: Store, source: str, worktree: str, opts: Options) -> Snapshot | None:
    """The worktree's last snapshot when the dirty set says nothing changed since it."""
    if opts.clean is None or opts.overlay or opts.overlay_deleted or not opts.clean(b""):
        return None
    mine = store.snapshots(source, worktree, last=1)
    if not mine or mine[-1].root != opts.clean_base or store.index.damaged():
        return None
    return mine[-1]


def _rebuild_base(
    store: Store, source: str, worktree: str, opts: Options, root: bytes
) -> tuple[Any, dict[bytes, dict[bytes, bytes]], Any] | None:
    """The worktree's last snapshot, its trees of the folders that changed since and the
    marks, when the dirty set names what changed entry by entry and that snapshot is its
    base (the marked files under *root* are read ahead meanwhile: rebuild.Ahead); or, from
    opts.prepared, the watcher's prepared tree, its trees and the marks after it."""
    if opts.marks is None or opts.overlay or opts.overlay_deleted:
        return None
    mine = store.snapshots(source, worktree, last=1)
    if not mine or store.index.damaged():
        return None
    if mine[-1].root != opts.clean_base:  # another snapshot committed since the marks were read
        return _overlapped(store, source, worktree, opts, root, mine[-1])
    from git_snapshot.store import rebuild

    if opts.prepared is not None:
        got = opts.prepared(store, mine[-1])
        if got is not None:
            with contextlib.suppress(rebuild.Unusable):  # damaged: from the base, as without
                return got[0], rebuild.old_trees(store, got[2], got[1], root, opts.classify), got[2]
    try:
        trees = rebuild.old_trees(store, opts.marks, mine[-1].root, root, opts.classify)
    except rebuild.Unusable:
        return None  # a damaged base: the full walk stores what the disk holds
    return mine[-1], trees, opts.marks


# how far back among the worktree's snapshots an overlapped rebuild looks for its base (the
# dirty set's): one or two snapshots committed since it read the marks, unless many overlap
OVERLAP_BACK = 8


def _overlapped(
    store: Store, source: str, worktree: str, opts: Options, root: bytes, last: Snapshot
) -> tuple[Any, dict[bytes, dict[bytes, bytes]], Any] | None:
    """_rebuild_base when the worktree's last snapshot *last* is not the dirty set's base:
    from the base (still among the last OVERLAP_BACK) with the marks widened by what differs
    between its trees and *last*'s, so that this snapshot, the newest, is nowhere older than
    *last* (store/overlap.py); None (a full walk) when the base is gone or unreadable."""
    base = None
    for snap in reversed(store.snapshots(source, worktree, last=OVERLAP_BACK)):
        if snap.root == opts.clean_base:
            base = snap
            break
    if base is None or _left_out(base) != _left_out(last):
        # (what a walk left out is in no tree: the widening cannot see a fifo or an excluded
        # path one of them holds and the other not; the full walk names them all)
        return None
    from git_snapshot.store import overlap
    from git_snapshot.store import rebuild
    from git_snapshot.store.objects import CorruptObject

    try:
        marks = overlap.wider(store, opts.marks, base.root, last.root)
        trees = rebuild.old_trees(store, marks, base.root, root, opts.classify)
    except (rebuild.Unusable, CorruptObject):
        return None  # a damaged tree: the full walk stores what the disk holds
    return base, trees, marks


def _left_out(snap: Snapshot) -> set[tuple[str, str]]:
    """The paths *snap* left out (its meta's skipped_paths), with why: read without json
    (Snapshot.meta_value), on a hook's path (_last_same)."""
    return {(str(p), str(why)) for p, why in snap.meta_value("skipped_paths") or []}


def _clean_since_last(store: Store, source: str, worktree: str, opts: Options) -> Options:
    """*opts* for a full walk, without its clean folders (opts.clean, clean since the dirty
    set's base) unless the worktree's last snapshot is that base. Another snapshot of the
    worktree that committed after this one read the marks (two overlapping: a hook and the
    watcher's, two hooks) may hold a file written in between in a folder this one takes as
    clean; kept from the files cache (saved with the base), the store's newest snapshot
    would hold the version before (tests/test_overlap.py). The walk then looks at every
    folder, through the files cache."""
    if opts.clean is None:
        return opts
    mine = store.snapshots(source, worktree, last=1)
    if mine and mine[-1].root == opts.clean_base:
        return opts
    out = Options.__new__(Options)
    for name in Options.__slots__:
        setattr(out, name, getattr(opts, name))
    out.clean = None
    return out


def _prepared_bytes(base: Any) -> int:
    """What the watcher's worker stored for the prepared tree this rebuild (*base*, from
    ``_rebuild_base``) started from and this snapshot commits: its added bytes too."""
    if base is None or isinstance(base[0], Snapshot):
        return 0
    return int(base[0].written)


def _last_same(
    store: Store, source: str, worktree: str, key: bytes, skipped: list[tuple[str, str]]
) -> Snapshot | None:
    """The worktree's last snapshot when it holds this walk's root (*key*) and left out what
    it did (*skipped*). One reused with other paths left out says what is not so: a hook
    that compares it later named an excluded folder or file gone since as "not saved" at
    each branch switch, and said nothing of one left out since, which git then overwrote
    (session 42, fixK). Its meta is read without json (Snapshot.meta_value)."""
    mine = store.snapshots(source, worktree, last=1)
    if not mine or mine[-1].root != key or mine[-1].skipped != len(skipped):
        return None
    if skipped and _left_out(mine[-1]) != {(p, why) for p, why in skipped}:
        return None
    return mine[-1]


def _pack_writer(*args: Any, **kwargs: Any) -> PackWriter:
    from git_snapshot.store.packs import PackWriter

    return PackWriter(*args, **kwargs)


class _LazyWriter:
    """A PackWriter made (and the pack code imported: packs, packread, packfmt, 3.4 M
    instructions) on the first object given: an unchanged walk, most hooks', gives none.
    What is set on it before (on_sealed, known) is handed over then."""

    def __init__(self, make: Callable[[], PackWriter]) -> None:
        self._make = make
        self._w: PackWriter | None = None
        self._on_sealed: Any = None
        self._known: Any = None

    def _real(self) -> PackWriter:
        w = self._w
        if w is None:
            w = self._w = self._make()
            w.on_sealed = self._on_sealed
            w.known = self._known
            self.add = w.add  # type: ignore[method-assign]  # (the walk binds it per folder)
        return w

    @property
    def on_sealed(self) -> Any:
        return self._w.on_sealed if self._w is not None else self._on_sealed

    @on_sealed.setter
    def on_sealed(self, fn: Any) -> None:
        self._on_sealed = fn
        if self._w is not None:
            self._w.on_sealed = fn

    @property
    def known(self) -> Any:
        return self._w.known if self._w is not None else self._known

    @known.setter
    def known(self, fn: Any) -> None:
        self._known = fn
        if self._w is not None:
            self._w.known = fn

    @property
    def written(self) -> int:
        return self._w.written if self._w is not None else 0

    def add(self, type_: int, key: bytes, data: bytes, dedupe: bool | bytes = False) -> None:
        self._real().add(type_, key, data, dedupe)

    def begin_stream(self) -> Any:
        return self._real().begin_stream()

    def hand_over(self) -> None:
        if self._w is not None:
            self._w.hand_over()

    def cut(self, min_size: int) -> None:
        if self._w is not None:
            self._w.cut(min_size)

    def flush(self) -> None:
        if self._w is not None:
            self._w.flush()

    def finish(self) -> list[FinishedPack]:
        return self._w.finish() if self._w is not None else []

    def abort(self) -> None:
        if self._w is not None:
            self._w.abort()
