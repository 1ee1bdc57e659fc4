"""Snapshots in O(changes): changed folders rebuilt from the base snapshot's trees.

The watcher's dirty set (watch/dirtyset.py) says what changed since the *base*, the
worktree's last snapshot: the entries events named (a file written, a link made, a folder
chmodded or removed), the folders whose entries changed in ways no event named (a folder that
appeared, a polled one: *relisted*), and so every folder above either (*changed*). A changed
folder's tree is the base's, with only the named entries and the changed subfolders looked at
again: the folder is not listed and its other entries are not stat'ed. The files cache is
neither read nor written (loading and saving it costs more than a small change: 0.3 s on a
62k-file tree; the watcher's worker moves it to the last snapshot afterwards, off the hooks'
time: :func:`retarget_cache`): a named file is read again (the cost of the change), and so are the
files of a relisted folder, which the walker lists as in a full walk, with the base's tree at
hand, so that its unchanged subfolders keep their keys. A folder the base did not hold is
walked whole.

The snapshot's counts are the base's plus what changed: what a looked-at entry held in the
base is taken off (a removed folder's files counted from its stored trees), what the walker
stores for it is added; the base's skipped paths stay except those looked at again.

The result is byte for byte the full walk's as long as every change had an event (what the
watcher's dirty set promises; tests/test_watch_dirtyset.py checks it on random edits). Stdlib
only: it runs in hooks.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading

from git_snapshot import hashes
from git_snapshot.ctx import gc_paused
from git_snapshot.store import treebytes
from git_snapshot.store.archiver import _stat_id
from git_snapshot.store.archiver import read_whole
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import encode_into
from git_snapshot.store.objects import held_ns
from git_snapshot.store.walker import AGAIN
from git_snapshot.store.walker import MOVED_IN
from git_snapshot.store.walker import _lstat_now
from git_snapshot.store.walker import _lstat_or_none
from git_snapshot.store.walker import _moved
from git_snapshot.store.walker import _seen
from git_snapshot.store.walker import touched_up
from git_snapshot.store.walkfiles import LOOKS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Container
    from collections.abc import Iterable
    from typing import Any
    from typing import Literal
    from typing import Protocol

    from git_snapshot.store.core import Store
    from git_snapshot.store.index import Snapshot

    class Marks(Protocol):
        """What changed since the base (watch/dirtyset.CleanSet)."""

        def changed(self, rel: bytes) -> bool: ...
        def relist(self, rel: bytes) -> bool: ...
        def look_at(self, rel: bytes) -> frozenset[bytes]: ...


CACHEDIR_TAG = b"CACHEDIR.TAG"
# worktree.UNTRACKED and worktree.IGNORED (not imported: a store module): files git did not
# write, whose git id gitwrote._written_during never asks for (tests/test_rebuild_split.py)
_NO_ID_LABELS = (2, 3)
_SIZE = HEAD.size
_pack_head = HEAD.pack


class Unusable(Exception):
    """The base's trees cannot be read as expected: the snapshot walks everything instead."""


def _join(rel: bytes, name: bytes) -> bytes:
    return rel + b"/" + name if rel else name


def _ref(raw: bytes) -> bytes:
    nlen = int.from_bytes(raw[_SIZE - 6 : _SIZE - 4], "little")
    return raw[_SIZE + nlen :]


def _split(store: Store, key: bytes, data: bytes) -> dict[bytes, bytes]:
    got = split(data)
    if got is None:
        raise Unusable(f"tree {key.hex()[:12]} is not as the walker writes them")
    return got


split = treebytes.split  # (checks each name as it comes: a rebuild splits 3,600 trees on L 1 %)


# Trees split here, kept across rebuilds by a long-lived process (the watcher's worker calls
# keep_trees()): key -> name -> the entry's stored bytes, as split() gives them, and the trees
# a rebuild made. A tree is its key's content, so a kept one is what reading it gives; every
# key a rebuild looks up is reached from its start's root, which the store holds with all
# below it. They go when the index's generation changes (gc deleted objects, repair), and the
# least recently used half past KEEP_ENTRIES entries (~150 bytes each). Chained preparations
# and the hook's next one share the upper folders: on L, two random 1 % changes share ~40 %
# of the base entries their changed folders hold (1,133 of 3,622 folders).
KEEP_ENTRIES = 200_000
_KEPT: dict[bytes, dict[bytes, bytes]] | None = None
_kept_tag: tuple[str, str] | None = None
_kept_entries = 0
# With keep_trees(later=True) (the worker), a rebuild leaves the eviction to evict_due(),
# which the worker's warmer calls between jobs: an eviction (~25 ms of CPU on L, every other
# preparation) was part of the preparation a hook waits for. Past KEEP_LATER_MAX entries a
# rebuild still evicts (chained jobs with no step of the warmer between them).
KEEP_LATER_MAX = KEEP_ENTRIES * 3 // 2
_later = False


def keep_trees(on: bool = True, later: bool = False) -> None:
    """Keep split trees across rebuilds in this process (the watcher's worker), or stop;
    *later*: past KEEP_ENTRIES they go at :func:`evict_due`, not in the rebuild."""
    global _KEPT, _kept_tag, _kept_entries, _later
    _KEPT = {} if on else None
    _kept_tag, _kept_entries, _later = None, 0, later


def evict_due() -> bool:
    """The kept trees past KEEP_ENTRIES go now (the least recently used, as _keep would);
    True if some went. Called by the thread that keeps them, with no rebuild under way."""
    if _KEPT is None or _kept_entries <= KEEP_ENTRIES:
        return False
    _evict(_KEPT)
    return True


def _kept(store: Store) -> dict[bytes, dict[bytes, bytes]] | None:
    """The kept trees, valid for *store* as it is now (None: not kept in this process)."""
    global _kept_tag, _kept_entries, _warm_bytes
    if _KEPT is None:
        return None
    tag = (store.path, store.index.meta_get("generation", "0"))
    if tag != _kept_tag:
        _KEPT.clear()
        _WARM.clear()
        _kept_tag, _kept_entries, _warm_bytes = tag, 0, 0
    return _KEPT


# Trees read ahead by the worker's warmer (watch/warm.py) while it waits for work: key -> the
# tree's stored bytes, checked against its key when read; split and kept when a rebuild takes
# one (a tree found here costs its split, ~12 us, instead of its lookup, read and SHA-256 too:
# on L a 1 % rebuild reads ~2,600 trees). At most WARM_BYTES (L's 30,553 trees: ~19 MB);
# cleared with the kept trees, under the same tag.
WARM_BYTES = 48 << 20
_WARM: dict[bytes, bytes] = {}
_warm_bytes = 0


def warm(key: bytes, data: bytes) -> bool:
    """Hold tree *key* (*data*: its bytes, checked against it) for a later rebuild; False
    once WARM_BYTES are held (nothing more is taken)."""
    global _warm_bytes
    if _warm_bytes >= WARM_BYTES:
        return False
    if _KEPT is not None and key not in _KEPT and key not in _WARM:
        _WARM[key] = data
        _warm_bytes += len(data)
    return True


def _take_warm(keys: list[bytes]) -> dict[bytes, bytes]:
    """Those of *keys* held by the warmer (no longer held there: the caller keeps them split)."""
    global _warm_bytes
    got = {}
    if _WARM:
        for k in keys:
            data = _WARM.pop(k, None)
            if data is not None:
                got[k] = data
                _warm_bytes -= len(data)
    return got


def _keep(key: bytes, entries: dict[bytes, bytes]) -> None:
    global _kept_entries
    if _KEPT is None or key in _KEPT:
        return
    _KEPT[key] = entries
    _kept_entries += len(entries)
    if _kept_entries > (KEEP_LATER_MAX if _later else KEEP_ENTRIES):
        _evict(_KEPT)


def _evict(kept: dict[bytes, dict[bytes, bytes]]) -> None:
    """The least recently used kept trees go (a dict keeps its order: the first ones) until
    KEEP_ENTRIES // 2 entries are left, found in one pass. Not one ``pop(next(iter()))`` at
    a time: each new iterator walks again over the holes the pops before it left, so that
    was quadratic (on L ~13,000 trees at once: 0.1-0.2 s of the preparation it fell in).
    Each goes back to the warm trees while they have room, as its stored bytes (its entries
    in stored order after the magic, checked against its key): a later rebuild then splits
    it again (~15 us) instead of reading it from the store (~60-80 us; the warmer reads a
    tree once per generation, so without this an evicted tree was read from the store by
    every later rebuild that met it: on L ~1,000 trees a preparation)."""
    global _kept_entries
    left = _kept_entries
    drop = []
    for k, entries in kept.items():
        if left <= KEEP_ENTRIES // 2:
            break
        drop.append(k)
        left -= len(entries)
    _kept_entries = left
    room = True
    for k in drop:
        entries = kept.pop(k)
        if room:
            data = TREE_MAGIC + b"".join(entries.values())
            if hashlib.sha256(data).digest() == k:
                room = warm(k, data)


def _drop(key: bytes | None) -> None:
    """Kept tree *key* is no longer wanted (a rebuild replaced the folder's tree): it goes."""
    global _kept_entries
    entries = _KEPT.pop(key, None) if _KEPT is not None and key is not None else None
    if entries is not None:
        _kept_entries -= len(entries)


def _take_kept(
    kept: dict[bytes, dict[bytes, bytes]] | None, keys: list[bytes]
) -> dict[bytes, dict[bytes, bytes]]:
    """Those of *keys* kept (now the most recently used)."""
    if kept is None:
        return {}
    got = {}
    for k in keys:
        t = kept.pop(k, None)
        if t is not None:
            got[k] = kept[k] = t
    return got


# Files read ahead by the watcher's worker while the writes went on (watch/warm.py: its
# thread, between jobs, reads the files the dirty set names as they are marked): path ->
# (tag, seq, fstat after the read, content, SHA-256). *seq* is the dirty set's highest mark
# when the read began, so a write made after the read began is marked with a higher one; a
# rebuild takes such a read only for a file whose last mark (up to its snapshot's) is not
# newer, with the same tag (the dirty set's epoch and base), and whose lstat now is the
# read's fstat (:meth:`Rebuild._read`):
# then the bytes are those the file held when its snapshot's marks were read, as a read by
# the rebuild would give them. Preparing a 1 % change of L then reads no file itself.
AHEAD_CACHE_BYTES = 32 << 20
_AHEAD: dict[bytes, tuple[object, int, os.stat_result, bytes, bytes]] = {}
_ahead_bytes = 0


def ahead_put(
    path: bytes, tag: object, seq: int, after: os.stat_result, data: bytes, key: bytes
) -> bool:
    """Hold file *path* as read at *seq* (see _AHEAD); False once AHEAD_CACHE_BYTES are held."""
    global _ahead_bytes
    old = _AHEAD.pop(path, None)
    if old is not None:
        _ahead_bytes -= len(old[3])
    if _ahead_bytes + len(data) > AHEAD_CACHE_BYTES:
        return False
    _AHEAD[path] = (tag, seq, after, data, key)
    _ahead_bytes += len(data)
    return True


def ahead_full() -> bool:
    return _ahead_bytes >= AHEAD_CACHE_BYTES


def ahead_clear() -> None:
    """Drop every file read ahead (a job is over: what it did not take is stale or not its)."""
    global _ahead_bytes
    _AHEAD.clear()
    _ahead_bytes = 0


def _ahead_take(
    path: bytes, tag: object, last: int | None
) -> tuple[os.stat_result, bytes, bytes, None] | None:
    """The read ahead of *path* (gone from the cache) if it was read under *tag* at a seq not
    older than *last*, the file's last mark (None: not known)."""
    global _ahead_bytes
    got = _AHEAD.pop(path, None)
    if got is None:
        return None
    _ahead_bytes -= len(got[3])
    if last is None or got[0] != tag or got[1] < last:
        return None
    return got[2], got[3], got[4], None


class Trees(dict):  # type: ignore[type-arg]  # dict[bytes, dict[bytes, bytes]]
    """What old_trees returns: folder -> name -> the entry's stored bytes, each folder's
    tree key (``tree_keys``), and the small files being read ahead meanwhile (None when too few)."""

    reads: Ahead | None = None
    tree_keys: dict[bytes, bytes] | None = None


def old_trees(
    store: Store,
    marks: Marks,
    root: bytes,
    top: bytes = b"",
    classify: Callable[[bytes, bool, int], int] | None = None,
    fresh: dict[bytes, bytes] | None = None,
) -> Trees:
    """The base's tree of every changed folder it holds (folder -> name -> the entry's
    stored bytes), read level by level, each level in one batch. With *top* (the
    worktree's path), threads read the marked files ahead meanwhile (:class:`Ahead`), and
    take git's id of those *classify* (the walk's labels) does not call untracked or
    ignored. *fresh*: trees written but not yet in the store (key -> bytes: a rebuild's,
    looked at again, Rebuild.look_again)."""
    out = Trees()
    out.tree_keys = keys = {}
    marked = getattr(marks, "marked", ())
    if top and len(marked) >= AHEAD_MIN:
        out.reads = Ahead(top, marked, _wanting_ids(marked, classify))
    level = [(b"", root)]
    look_at, changed = marks.look_at, marks.changed
    try:
        kept = _kept(store)
        while level:
            have = _split_trees(store, kept, [k for _, k in level], fresh)
            nxt = []
            for rel, key in level:
                keys[rel] = key
                entries = out[rel] = have[key]
                prefix = rel + b"/" if rel else b""
                for name in look_at(rel):
                    raw = entries.get(name)
                    if raw is not None and raw[0] == DIR and changed(prefix + name):
                        nxt.append((prefix + name, _ref(raw)))
            level = nxt
    except BaseException as exc:
        if out.reads is not None:
            out.reads.stop()
        if isinstance(exc, Unusable) or not isinstance(exc, Exception):
            raise
        raise Unusable(str(exc)) from exc  # damaged, missing: the full walk stores what it finds
    return out


def _split_trees(
    store: Store,
    kept: dict[bytes, dict[bytes, bytes]] | None,
    keys: list[bytes],
    fresh: dict[bytes, bytes] | None = None,
) -> dict[bytes, dict[bytes, bytes]]:
    """Trees *keys* split (key -> name -> the entry's stored bytes), in one batch: *kept*
    (:func:`_kept`), read by the warmer, *fresh* (written, not yet in the store: old_trees'),
    or read from the store; each one split here is kept."""
    have = _take_kept(kept, keys)
    todo = [k for k in keys if k not in have]
    raws = _take_warm(todo)
    if fresh:
        raws.update({k: fresh[k] for k in todo if k in fresh})
    raws.update(treebytes.load(store, [k for k in todo if k not in raws]))
    for k in todo:
        if k not in have:
            have[k] = _split(store, k, raws[k])
            _keep(k, have[k])
    return have


# Read ahead only when this many entries are marked: never, by default (session 8). The
# reading threads take the GIL back after every lstat, open, read, fstat and hash (~6
# handoffs a file), and each handoff stalls the walking thread, itself GIL-bound (splitting
# trees, building them): on L with 2,000 files changed (page cache warm, as after an edit),
# the base's trees took 209-269 ms to read with them against 97-115 without, and the hook
# 690 -> 520 ms of CPU (interleaved, medians of 4; one thread instead of two: 671). Kept,
# and tested, for a machine where it pays (files not in the page cache).
AHEAD_MIN = 1 << 62
AHEAD_THREADS = 2
AHEAD_BYTES = 64 << 20  # read ahead and not yet taken, at most
AHEAD_SIZE = 4 << 20  # files this big or bigger are left to the walker (it streams them)
STOP_WAIT_S = 5.0  # for a thread to finish the file it reads (one that hangs is left)
_MAIN = -1


class Ahead:
    """The marked entries that are small regular files, read and hashed (SHA-256 and git's
    SHA-1) by threads while the walking thread reads the base's trees and rebuilds folders
    (file reads and hashlib let go of the GIL). The walker takes a result only for the path
    it reads, and only when its own lstat of that path, made after the read ahead, gives
    the device, inode, mode, size, mtime and ctime the read ahead's fstat gave after its
    read: then the bytes are what the walker's own read would give. Anything else (the file
    changed, grew, is not a regular file, could not be opened) is read by the walker as
    without it. A path is read by exactly one thread: the first to claim it."""

    def __init__(
        self,
        top: bytes,
        rels: Iterable[bytes],
        ids: Container[bytes] = (),  # of these, git's id of the content too
        threads: int = AHEAD_THREADS,
    ) -> None:
        self.todo = [(top + b"/" + r, r in ids) for r in rels]
        self.claims: dict[bytes, int] = {}  # path -> who reads it (a thread's number, _MAIN)
        self.got: dict[bytes, tuple[os.stat_result, bytes, bytes, str | None] | None] = {}
        self.held = 0  # bytes read ahead, not yet taken
        self.done = threading.Condition()
        self.stopped = False
        self.threads = [
            threading.Thread(target=self._run, args=(k, threads), daemon=True)
            for k in range(threads)
        ]
        for t in self.threads:
            t.start()

    def _run(self, k: int, n: int) -> None:
        for path, with_id in self.todo[k::n]:
            if self.stopped or self.held > AHEAD_BYTES:
                return
            if self.claims.setdefault(path, k) != k:  # (atomic: the GIL)
                continue  # the walker got there first
            got = None
            try:
                got = _read_ahead(path, with_id)
            except BaseException:  # never leave the walker waiting for this path
                got = None
            with self.done:
                self.got[path] = got
                if got is not None:
                    self.held += len(got[1])
                self.done.notify_all()

    def take(self, path: bytes) -> tuple[os.stat_result, bytes, bytes, str | None] | None:
        """The read ahead of *path* (after, data, key, git id or None), waiting for it if a thread
        is reading it; None when no thread read it (then nobody will)."""
        if self.claims.setdefault(path, _MAIN) == _MAIN:
            return None
        with self.done:
            while path not in self.got:
                self.done.wait()
            got = self.got.pop(path)
            self.claims[path] = _MAIN  # a second read of it (it changed) is the walker's
            if got is not None:
                self.held -= len(got[1])
        return got

    def stop(self) -> None:
        """The walk is over: the threads stop at their next file and are waited for (a
        fork later in this process, splitwalk's or diff's, needs them gone), what they read
        goes."""
        self.stopped = True
        for t in self.threads:
            t.join(STOP_WAIT_S)
        with self.done:
            self.got.clear()
            self.held = 0


def _read_ahead(
    path: bytes, with_id: bool
) -> tuple[os.stat_result, bytes, bytes, str | None] | None:
    """(fstat after the read, content, SHA-256, git's blob id *with_id*, else None) of the
    small regular file at *path*, read by ``archiver.read_whole`` (the one way read-ahead
    threads read a file: as the walker reads it); None if it is anything else or changed
    meanwhile."""
    got = read_whole(path, AHEAD_SIZE)
    if got is None:
        return None
    after, data = got
    return after, data, hashlib.sha256(data).digest(), _git_id(data) if with_id else None


def _wanting_ids(
    rels: Iterable[bytes], classify: Callable[[bytes, bool, int], int] | None
) -> set[bytes]:
    """Those of the marked *rels* whose git id gitwrote._written_during may ask for: all but
    the files the walk will label untracked or ignored (a folder's label passed down as the
    walk passes it). On L, 99 % of a 1 % hook's files: no SHA-1 of them."""
    rels = list(rels)
    if classify is None:
        return set(rels)
    dirs: dict[bytes, int] = {b"": 0}

    def label(d: bytes) -> int:
        got = dirs.get(d)
        if got is None:
            got = dirs[d] = classify(d, True, label(d.rpartition(b"/")[0]))
        return got

    return {
        r for r in rels if classify(r, False, label(r.rpartition(b"/")[0])) not in _NO_ID_LABELS
    }


_git_id = hashes.blob_id  # git's blob id of bytes (by this name: tests count its calls)


def _component_key(item: tuple[str, str]) -> list[bytes]:
    return os.fsencode(item[0]).split(b"/")


class _GitIds:
    """The walker's writer, also holding the last blob it was given (its key and bytes):
    Rebuild.entry takes git's id of a file the walker read itself from them (a SHA-1 of the
    bytes in memory) when gitwrote._written_during may ask git about that file (it would
    otherwise read and hash it again); and the trees written (key -> bytes), which the store
    cannot give until they are committed, for Rebuild.look_again."""

    __slots__ = ("last", "trees", "w")

    def __init__(self, writer: Any) -> None:
        self.w = writer
        self.last: tuple[bytes, bytes] | None = None  # (store key, content) of the last blob
        self.trees: dict[bytes, bytes] = {}

    def add(self, type_: int, key: bytes, data: bytes, dedupe: bool = False) -> None:
        if type_ == BLOB:
            self.last = (key, data)
        elif type_ == TREE:
            self.trees[key] = data
        self.w.add(type_, key, data, dedupe)

    def begin_stream(self) -> Any:
        return self.w.begin_stream()


class Rebuild:
    """One snapshot's rebuild, driving the archiver's walker (archiver._Walker): it reads and
    stores files and lists folders as the full walk does; this decides what it looks at."""

    def __init__(
        self,
        walker: Any,
        marks: Marks,
        base: Snapshot | Base,
        trees: dict[bytes, dict[bytes, bytes]],
        ahead: tuple[object, dict[bytes, int]] | None = None,
    ) -> None:
        self.reads: Ahead | None = getattr(trees, "reads", None)
        # the dirty set's (epoch, base root) and each marked entry's last mark: files read
        # ahead (_AHEAD) are taken against them
        self.ahead = ahead if ahead is not None and _AHEAD else None
        self.looked_rel = b""  # entry(): the path it lstat'ed (self.looked), relative
        self.looked: tuple[bytes, os.stat_result] | None = None  # entry(): its path, lstat
        # _read(): path, fstat after the read, stable; read ahead: the bytes, their git id
        self.last: tuple[bytes, os.stat_result, bool, bytes | None, str | None] | None = None
        self.w = walker
        self.store: Store = walker.store
        self.marks = marks
        self.base = base
        self.old = trees
        self.old_keys: dict[bytes, bytes] = getattr(trees, "tree_keys", None) or {}
        self.accounted: set[bytes] = set()  # paths whose base entry was settled
        self.drop_skipped: set[bytes] = set()  # base skip records looked at again
        self.drop_in: set[bytes] = set()  # relisted folders: their skip records are found again
        self.drop_under: set[bytes] = set()  # folders the base held and this one does not reuse
        self.went: set[bytes] = set()  # folders a marked entry was gone from (_gone)
        # paths of files and links whose entry changed (as diff_trees would name them, less
        # what was added): None once a folder is relisted (the walker's listing is not seen)
        self.changed_paths: list[bytes] | None = []
        # files read by entry(): path -> (inode, mtime, ctime, size as the read's fstat gave
        # them, git blob id of what was read, the entry's label): Result.ids
        self.git_ids: dict[bytes, tuple[int, int, int, int, str, int]] = {}
        self._ids = _GitIds(walker.writer)
        # something below folder rel changed (marks.changed, without the call when it can)
        touched = getattr(marks, "touched", None)
        self.below: Callable[[bytes], bool] = (
            marks.changed if touched is None else touched.__contains__
        )
        self._add_tree = self._add_blob = walker.writer.add  # (read ahead: the bytes are here)
        walker.writer = self._ids
        walker._read = self._read  # the walker's reads go through this one (read ahead)
        walker.files, walker.bytes = base.files, base.bytes
        walker.skipped = []

    # -- the walk --------------------------------------------------------------------------

    def run(self, root: bytes) -> bytes | None:
        key = self._once(root)
        if key is not None and self.w.moves:
            key = self.look_again(root, key)
        self._ids.trees = {}
        return key

    def _once(self, root: bytes) -> bytes | None:
        try:
            key = self.folder(root, b"", 0)
        finally:
            if self.reads is not None:
                self.reads.stop()
        self.w.skipped = self._skipped()
        return key

    # -- moves while it ran ----------------------------------------------------------------

    def look_again(self, root: bytes, key: bytes) -> bytes | None:
        """The tree *key* this rebuild made, looked at again after it saw entries go while it
        ran (walker.moves: a marked entry gone from a folder that changed meanwhile, _gone;
        or gone from a folder the walker listed). Such an entry may have gone into a folder
        the rebuild took from the base without looking (`mv z/X.txt a/X.txt`, `a/`
        unmarked), and be in the snapshot under neither name (RED34 A5): the full walk's
        RED32 V1, which walker._walk looks again for. Every folder whose own mtime is no
        longer its entry's in the tree (and the top one) is listed, and each name there new
        to the tree or whose lstat is not its entry's is looked at again (:meth:`came`), by
        a rebuild of the tree with those marks (:meth:`_pass`); while that still finds
        entries gone, AGAIN times at most; then the folders still taking names are named
        (MOVED_IN). A rebuild that saw nothing go makes no call for this."""
        w = self.w
        seen: dict[bytes, tuple[int, int, int, int]] = {}  # names looked at again: their lstat
        for again in range(AGAIN + 1):
            try:
                looks, gained = self.came(root, key, seen)
            except Unusable:
                break  # (a tree unreadable: what is built stands)
            if not looks:
                break
            if again == AGAIN:  # still changing: said, not silently short
                moved = [(os.fsdecode(rel or b"."), MOVED_IN) for rel in gained]
                w.skipped = sorted(list(w.skipped) + moved, key=_component_key)
                break
            w.moves = 0
            got = self._pass(root, key, looks)
            if got is None or not w.moves:
                return got
            key = got
        return key

    def came(
        self, root: bytes, key: bytes, seen: dict[bytes, tuple[int, int, int, int]]
    ) -> tuple[dict[bytes, set[bytes]], list[bytes]]:
        """The names to look at again in tree *key* (of the folder at *root*), by folder, and
        the folders among them that hold a name the tree lacks. Each folder's lstat is
        compared with its entry, level by level (a batch of lstats a folder); those whose
        mtime is another, and the top folder, are listed. *seen*: the names looked at again
        already, with their lstat then (not again while it stays: a special file, an
        excluded one)."""
        from git_snapshot.store import lstats

        w = self.w
        omit = w.opts.omit
        skipped = {os.fsencode(p) for p, _ in w.skipped}
        looks: dict[bytes, set[bytes]] = {}
        gained: list[bytes] = []
        kept = _kept(self.store)
        level = [(b"", key, True)]
        while level:
            try:
                trees = _split_trees(self.store, kept, [k for _, k, _ in level], self._ids.trees)
            except Exception as exc:  # damaged, missing: as old_trees, for look_again
                raise Unusable(str(exc)) from exc
            nxt = []
            for rel, k, listed in level:
                entries = trees[k]
                at = root + b"/" + rel if rel else root
                if listed:
                    names, new = _differing(at, rel, entries, omit, skipped, seen)
                    if names:
                        looks[rel] = names
                    if new:
                        gained.append(rel)
                subs = [n for n, raw in entries.items() if raw[0] == DIR]
                if not subs:
                    continue
                pre = at + b"/"
                got = lstats.best(pre, subs)
                sts = got[1] if got is not None else [_lstat_or_none(pre + n) for n in subs]
                for name, st in zip(subs, sts):
                    # (gone, or no folder now: its parent changed, and is listed)
                    if st is not None and stat.S_ISDIR(st.st_mode):
                        raw = entries[name]
                        mtime = HEAD.unpack_from(raw)[4]
                        nxt.append((_join(rel, name), _ref(raw), held_ns(st.st_mtime_ns) != mtime))
            level = nxt
        return looks, gained

    def _pass(self, root: bytes, key: bytes, looks: dict[bytes, set[bytes]]) -> bytes | None:
        """Tree *key* rebuilt with the names *looks* marks looked at again (a Rebuild of
        it, by the same walker), its counts and skipped paths this one's."""
        w = self.w
        marks = _Looks(looks)
        trees = old_trees(self.store, marks, key, fresh=self._ids.trees)
        base = Base(key, w.files, w.bytes, list(w.skipped))
        saved = (w.writer, w._read, w.rebuild)
        again = w.rebuild = Rebuild(w, marks, base, trees)
        again._ids.trees = self._ids.trees
        try:
            got = again._once(root)
        finally:
            w.writer, w._read, w.rebuild = saved
        self.git_ids.update(again.git_ids)
        self.changed_paths = None  # (what changed is then found from the trees)
        return got

    def _read(self, path: bytes, last_try: bool) -> tuple[bytes, os.stat_result, int, bool] | None:
        """The walker's _read, taking what was read ahead of *path* when the lstat entry()
        just made of it is the read's own fstat (see :class:`Ahead`)."""
        w = self.w
        got = self.reads.take(path) if self.reads is not None else None
        looked = self.looked
        # (only for a marked entry entry() just lstat'ed: a folder with a folder mark, whose
        # changes no file's mark names, is relisted by the walker, never through entry())
        if got is None and self.ahead is not None and looked is not None and looked[0] == path:
            tag, seqs = self.ahead
            got = _ahead_take(path, tag, seqs.get(self.looked_rel))
        if got is not None and looked is not None and looked[0] == path:
            after, data, key, oid = got
            if _stat_id(looked[1]) == _stat_id(after):
                if key not in w.pending:
                    self._add_blob(BLOB, key, data, dedupe=True)
                    w.pending.add(key)
                self.last = (path, after, True, data, oid)
                return key, after, len(data), True
        res: tuple[bytes, os.stat_result, int, bool] | None = type(w)._read(w, path, last_try)
        self.last = None if res is None else (path, res[1], res[3], None, None)
        return res

    def checked(
        self, path: bytes, rel: bytes, st: os.stat_result, build: Callable[[], bytes | None]
    ) -> bytes | Literal[False] | None:
        """*build()* (the tree of folder *rel*, its lstat *st*: folder(), relist() or the
        walker's tree()), then the folder lstat'ed again, as the walk checks the folders it
        writes again (walker._moved; RED29): every entry was looked at by its path, so if
        another type stands there now (a symlink to a folder outside the worktree: RED25's
        swap), or this folder was moved away and back (its ctime), or another folder took its
        place, or nothing stands there, none of what was read is kept: False, and the caller
        takes what stands there now, once (walkfiles._again: nothing, a symlink, a folder read
        afresh). Not the folder it was a second time: left out and said, None (gone then:
        nothing to say)."""
        w = self.w
        files0, bytes0, skips0 = w.files, w.bytes, len(w.skipped)
        key = build()
        own = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
        why = _moved(path, own)
        if why is None:
            if rel in self.went and not w.moves:  # (a marked entry gone: moved? _gone)
                looked, now = _seen[0]
                w._came_or_went(path, own, now if looked is path else None)
            return key
        # what the look through its path settled, undone
        w.files, w.bytes = files0, bytes0
        del w.skipped[skips0:]
        below = rel + b"/"
        self.accounted = {p for p in self.accounted if not p.startswith(below)}
        for p in [p for p in self.git_ids if p.startswith(below)]:
            del self.git_ids[p]
        self.changed_paths = None  # (what changed is then found from the trees)
        return False if w.once(path, rel, why, self._gone) else None

    def folder(self, path: bytes, rel: bytes, label: int) -> bytes | None:
        """The tree of changed folder *rel*, which the base holds; None when it is now left
        out (it became a cache folder)."""
        w = self.w
        marks = self.marks
        if marks.relist(rel):
            return self.relist(path, rel, label)
        old = self.old[rel]
        names = marks.look_at(rel)
        if (
            rel
            and CACHEDIR_TAG in names
            and w.opts.skip_cachedir_tag
            and _is_cachedir_tag(path + b"/" + CACHEDIR_TAG)
        ):
            w._skip(rel, "cache directory (CACHEDIR.TAG)")
            return None
        new = old.copy()  # in name order, as the base stored them
        added, same = False, True
        omit = w.opts.omit
        prefix, at = rel + b"/" if rel else b"", path + b"/"
        entry, below, inside = self.entry, self.below, self.inside
        for name in names:
            crel = prefix + name
            if crel in omit:
                continue
            was = old.get(name)
            if was is not None and was[0] == DIR and below(crel):
                raw = inside(at + name, crel, name, label, was)  # (entry()'s own, shorter)
            else:
                raw = entry(at + name, crel, name, label, was)
            if raw is None:
                if was is not None:
                    del new[name]
                    same = False
            elif raw != was:
                if was is None:
                    added = True
                new[name] = raw  # (a name there already keeps its place)
                same = False
        if added:
            data = TREE_MAGIC + b"".join([new[n] for n in sorted(new)])
        else:
            data = TREE_MAGIC + b"".join(new.values())
        key = hashlib.sha256(data).digest()
        if same and key not in w.damaged:
            return key  # as the base has it (its entries looked at turned out unchanged)
        if _KEPT is not None:  # (in stored order, as split gives it)
            # the start's tree of this folder is replaced: once this one is committed, no
            # rebuild of the worktree starts from it (kept, it pushed live trees out)
            _drop(self.old_keys.get(rel))
            _keep(key, {n: new[n] for n in sorted(new)} if added else new)
        if key not in w.pending:
            # Not asked of the index (an IN query per batch, ~7 us a key: 25 ms on L 1 %):
            # a changed folder's tree is new unless the folder went back to an earlier state
            # with the same times (a restore); then this copy is an extra one in the pack
            # (the index keeps the first, as when two snapshots store the same object).
            self._add_tree(TREE, key, data)
            self._ids.trees[key] = data  # (for look_again: not in the store before the commit)
            w.pending.add(key)
        return key

    def _lstat(self, path: bytes, rel: bytes, old: bytes | None) -> os.stat_result | None:
        """The lstat of the entry *rel* looked at again; None when it is gone, or cannot be
        lstat'ed by its path (past PATH_MAX: left out and said, as the walker's _statable
        leaves it out): its base entry taken off then."""
        try:
            return os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            self.take_off(rel, old, None)
            self._gone(path, rel)
        except OSError as exc:
            self.take_off(rel, old, None)
            self.w._skip(rel, f"unreadable: {exc.strerror}")
        return None

    def inside(self, path: bytes, rel: bytes, name: bytes, label: int, old: bytes) -> bytes | None:
        """:meth:`entry` for folder *rel*, held by the base (its stored bytes *old*), with
        something below it changed: what entry() gives through the walker's _dir_entry and
        :meth:`sub`, made here (on L 1 % ~3,600 such folders, most of a rebuild's). Anything
        else found at *path* (not a folder, the store, excluded) goes through entry()."""
        self.drop_skipped.add(rel)
        st = self._lstat(path, rel, old)
        if st is None:
            return None
        w = self.w
        if (
            not stat.S_ISDIR(st.st_mode)
            or (st.st_dev, st.st_ino) == w.store_id
            or (w.exclude is not None and w.exclude(rel, True))
        ):
            return self.entry(path, rel, name, label, old)  # (the rare cases, as before)
        # (no call below an inherited label: what lies there has it)
        lab = label if label == w.inherit else w.classify(rel, True, label) if w.classify else 0
        key = self.checked(path, rel, st, lambda: self.folder(path, rel, lab))
        if key is False:  # not the folder it was: what stands there now, as entry() finds it
            return self.entry(path, rel, name, label, old)
        if key is None:  # left out (it became a cache folder, or kept changing)
            self.take_off(rel, old, None)
            return None
        self.accounted.add(rel)
        # encode_into(Entry(name, DIR, S_IMODE(mode), mtime, 0, key, lab)) as sub() makes it
        return (
            _pack_head(
                DIR, lab, 0, st.st_mode & 0o7777, held_ns(st.st_mtime_ns), 0, len(name), len(key)
            )
            + name
            + key
        )

    def entry(
        self, path: bytes, rel: bytes, name: bytes, label: int, old: bytes | None
    ) -> bytes | None:
        """Entry *name* of a changed folder, looked at again: its stored bytes, or None."""
        w = self.w
        self.drop_skipped.add(rel)
        st = self._lstat(path, rel, old)
        if st is None:
            return None
        if stat.S_ISDIR(st.st_mode):  # (never a run's temp file: leftovers.verdict_at)
            e = w._dir_entry(path, rel, name, st, label)  # through sub(), when not left out
            if rel not in self.accounted:
                self.take_off(rel, old, e)
        else:
            self.looked, self.looked_rel, self.last = (path, st), rel, None
            e = w._entry(path, rel, name, None, label, st)
            if rel not in self.accounted:  # (else a folder now, settled by sub(): RED27)
                self.take_off(rel, old, e)
            last = self.last
            if (
                e is not None
                and e.kind == FILE
                and not e.flags
                and last is not None
                and last[0] == path
                and last[2]
            ):
                # git's id of the bytes read, with the fstat they were read under (a stable
                # read: the same size and times before and after it). Only for a file git may
                # have written: gitwrote._written_during skips an untracked or ignored one by its
                # label alone (on L, 99 % of the files a 1 % hook reads: no SHA-1 of them).
                oid: str | None = ""
                if e.label not in _NO_ID_LABELS:
                    oid, data = last[4], last[3]
                    if data is None:  # read by the walker itself: its last blob, if stored now
                        given = self._ids.last
                        data = given[1] if given is not None and given[0] == e.ref else None
                    if oid is None and data is not None:
                        oid = _git_id(data)
                if oid is not None:
                    fst = last[1]
                    self.git_ids[rel] = (
                        fst.st_ino,
                        fst.st_mtime_ns,
                        fst.st_ctime_ns,
                        fst.st_size,
                        oid,
                        e.label,
                    )
        if e is None:
            return None
        parts: list[bytes] = []
        encode_into(parts, e)
        return b"".join(parts)

    def _gone(self, path: bytes, rel: bytes) -> None:
        """A marked entry is not there: its folder is unsettled if it changed while this
        snapshot was taken (or shortly before: _Walker._vanished, whose lstat of the folder
        this is). If it changed since this rebuild began, the entry may have gone into a
        folder the rebuild takes from the base unseen: a move (walker.moves, look_again);
        the folder's lstat after it is built tells too (:meth:`checked`)."""
        w = self.w
        here = rel.rpartition(b"/")[0]
        self.went.add(here)
        if here in w.unsettled[-4:]:
            return
        now = _lstat_now(path.rpartition(b"/")[0])
        if isinstance(now, os.stat_result):
            if now.st_mtime_ns >= w.moved_after:
                w.moves += 1
            if max(now.st_mtime_ns, now.st_ctime_ns) < w.racy_after:
                return
        else:
            w.moves += 1  # the folder went too, while this ran
        w._unsettled(here)

    def sub(
        self, path: bytes, rel: bytes, name: bytes, st: os.stat_result, label: int
    ) -> Entry | None:
        """Folder *rel* (stat *st*) met by the walk (the walker's _dir_entry, once it is
        neither the store nor excluded): its entry, with the base's tree when nothing below
        it changed. Settles what the base held at *rel*."""
        parent = rel.rpartition(b"/")[0]
        old = self.old.get(parent, {}).get(name) if parent in self.old else None
        held = old if old is not None and old[0] == DIR else None  # the base's folder here
        changed = held is not None and self.marks.changed(rel)
        key: bytes | None
        if held is not None and not changed and HEAD.unpack_from(held)[4] == st.st_mtime_ns:
            key = _ref(held)  # nothing below changed
        else:
            build: Callable[[], bytes | None]
            if held is None:
                if rel not in self.accounted:  # (once: a retake comes here again)
                    self.take_off(rel, old, None)  # a file or link the base held here is gone
                build = lambda: self.w.tree(path, rel + b"/", label)  # noqa: E731 (walked whole)
            elif changed:
                build = lambda: self.folder(path, rel, label)  # noqa: E731
            else:  # its entries changed without an event naming them: listed again
                self.old[rel] = _split(self.store, _ref(held), self.store.read_object(_ref(held)))
                build = lambda: self.relist(path, rel, label)  # noqa: E731
            got = self.checked(path, rel, st, build)
            if got is False:  # not the folder it was: what stands there now (_again)
                e: Entry | None = self.w._again(path, rel, name, label, LOOKS)
                if rel not in self.accounted:
                    self.take_off(rel, old, e)
                return e
            key = got
        if key is None:
            if held is not None:
                self.take_off(rel, old, None)
            return None  # left out, as the walker does
        self.accounted.add(rel)
        return Entry(name, DIR, stat.S_IMODE(st.st_mode), st.st_mtime_ns, 0, key, label)

    def relist(self, path: bytes, rel: bytes, label: int) -> bytes | None:
        """Folder *rel*, held by the base, listed again: whatever it held that the listing
        did not settle (through sub()) is taken off."""
        self.changed_paths = None
        self.drop_in.add(rel)
        key: bytes | None = self.w.tree(path, rel + b"/" if rel else b"", label)
        if key is None:
            return None
        for name, raw in self.old[rel].items():
            crel = _join(rel, name)
            if crel not in self.accounted:
                self.take_off(crel, raw, None, unknown=True)
        return key

    # -- counts ----------------------------------------------------------------------------

    def take_off(
        self, rel: bytes, old: bytes | None, new: Entry | None, unknown: bool = False
    ) -> None:
        """What the base held at *rel* is not in this snapshot as it was: its files and bytes
        come off the counts. *new*: what replaces it (None: nothing), *unknown* when this
        does not know (the walker listed it)."""
        self.accounted.add(rel)
        if old is None:
            return
        w = self.w
        kind, _, _, mode, _, size, _, _ = HEAD.unpack_from(old)
        if kind == DIR:
            self.drop_under.add(rel)
            files, nbytes, paths = self._below(_ref(old), rel)
            w.files -= files
            w.bytes -= nbytes
            if self.changed_paths is not None:
                if not unknown and (new is None or new.kind != DIR):
                    self.changed_paths += paths  # all deleted, as diff_trees names them
                else:
                    self.changed_paths = None  # a new folder in its place: diff_trees knows
            return
        w.files -= 1
        if kind == FILE:
            w.bytes -= size
        if self.changed_paths is None:
            return
        if unknown:
            self.changed_paths = None
        elif (
            new is None
            or new.kind != kind
            or new.ref != _ref(old)
            or (kind != DIR and new.mode != mode)
        ):
            self.changed_paths.append(rel)

    def _below(self, key: bytes, rel: bytes) -> tuple[int, int, list[bytes]]:
        """Files (and links) and bytes below the base's folder *key*, and their paths."""
        files = nbytes = 0
        paths: list[bytes] = []
        level = [(rel, key)]
        while level:
            raws = treebytes.load(self.store, [k for _, k in level])
            nxt = []
            for prefix, k in level:
                for name, raw in _split(self.store, k, raws[k]).items():
                    kind = raw[0]
                    if kind == DIR:
                        nxt.append((prefix + b"/" + name, _ref(raw)))
                        continue
                    files += 1
                    if kind == FILE:
                        nbytes += HEAD.unpack_from(raw)[5]
                    elif kind != SYMLINK:
                        continue
                    paths.append(prefix + b"/" + name)
            level = nxt
        return files, nbytes, paths

    def _skipped(self) -> list[tuple[str, str]]:
        """The base's skipped paths that were not looked at again, with the new ones, in the
        order of a full walk."""
        keep: list[tuple[str, str]] = []
        for item in self.base.meta.get("skipped_paths", []):
            p = os.fsencode(item[0])
            if p in self.drop_skipped or p.rpartition(b"/")[0] in self.drop_in:
                continue
            if self.drop_under and _under_any(p, self.drop_under):
                continue
            keep.append((item[0], item[1]))
        return sorted(keep + list(self.w.skipped), key=_component_key)


class _Looks:
    """Marks (as watch/dirtyset.CleanSet gives them) for a look again (Rebuild.look_again):
    the names to look at in each folder, and every folder above one changed."""

    def __init__(self, looks: dict[bytes, set[bytes]]) -> None:
        names = {d: set(these) for d, these in looks.items()}
        self.touched = touched_up(looks, names)
        self.names = {k: frozenset(v) for k, v in names.items()}

    def changed(self, rel: bytes) -> bool:
        return rel in self.touched

    def relist(self, rel: bytes) -> bool:
        return False

    def look_at(self, rel: bytes) -> frozenset[bytes]:
        return self.names.get(rel, frozenset())


def _differing(
    at: bytes,
    rel: bytes,
    entries: dict[bytes, bytes],
    omit: Container[bytes],
    skipped: set[bytes],
    seen: dict[bytes, tuple[int, int, int, int]],
) -> tuple[set[bytes], bool]:
    """The names in the folder at *at* (*rel*) now whose lstat is not their entry's in
    *entries* (its tree), or that it lacks (left out: omitted, skipped, looked at again with
    the same lstat, *seen*); and whether one of them is new to it. A name gone from it is
    none: what left went elsewhere, or was deleted (the tree keeps what was read)."""
    try:
        with os.scandir(at) as it:
            des = list(it)
    except OSError:
        return set(), False
    out: set[bytes] = set()
    new = False
    for de in des:
        name = de.name
        crel = _join(rel, name)
        if crel in omit or crel in skipped:
            continue
        try:
            st = de.stat(follow_symlinks=False)
        except OSError:
            continue
        raw = entries.get(name)
        if raw is not None and _same(raw, st):
            continue
        sig = (st.st_ino, st.st_mode, st.st_mtime_ns, st.st_size)
        if seen.get(crel) == sig:
            continue
        seen[crel] = sig
        out.add(name)
        new = new or raw is None
    return out, new


def _same(raw: bytes, st: os.stat_result) -> bool:
    """Entry *raw* (stored bytes) is what lstat *st* says (a folder: its type alone, what
    is below it is compared at its own level)."""
    kind, _, _, mode, mtime, size, _, _ = HEAD.unpack_from(raw)
    m = st.st_mode
    if kind == DIR:
        return stat.S_ISDIR(m)
    if kind == FILE:
        if not stat.S_ISREG(m) or st.st_size != size:
            return False
    elif kind != SYMLINK or not stat.S_ISLNK(m):
        return False
    return bool(held_ns(st.st_mtime_ns) == mtime and stat.S_IMODE(m) == mode)


def _under_any(path: bytes, folders: Iterable[bytes] | set[bytes]) -> bool:
    """*path* is one of *folders* or below one."""
    assert isinstance(folders, set)
    d = path
    while True:
        if d in folders:
            return True
        if not d:
            return False
        d = d.rpartition(b"/")[0]


def _is_cachedir_tag(path: bytes) -> bool:
    from git_snapshot.store.archiver import is_cachedir_tag

    return is_cachedir_tag(path)


# --------------------------------------------------------------------------- prepared trees


class Base:
    """What a rebuild starts from when it is not a snapshot: a prepared tree
    (watch/prep.Prep), with the counts and skipped paths it was built with. *root* is the
    snapshot the prepared tree was rebuilt from (Result.base: what its changed paths are
    relative to); *written*: the bytes its preparation stored, which the snapshot that
    commits it counts as added."""

    __slots__ = ("bytes", "files", "meta", "root", "written")

    def __init__(
        self,
        root: bytes,
        files: int,
        nbytes: int,
        skipped: list[tuple[str, str]],
        written: int = 0,
    ):
        self.root = root
        self.files = files
        self.bytes = nbytes
        self.meta = {"skipped_paths": skipped}
        self.written = written


class Built:
    """A tree rebuilt and stored without a snapshot record (:func:`build`)."""

    __slots__ = ("bytes", "changed", "files", "ids", "root", "skipped", "unstable", "written")

    def __init__(self, walker: Any, rebuild: Rebuild, root: bytes, written: int) -> None:
        self.root = root
        self.written = written  # bytes stored into packs
        self.files: int = walker.files
        self.bytes: int = walker.bytes
        self.skipped: list[tuple[str, str]] = list(walker.skipped)
        self.changed = rebuild.changed_paths
        self.ids = rebuild.git_ids
        self.unstable = bool(walker.changed)  # files changed while read


def build(
    store: Store,
    directory: str,
    opts: Any,
    base: Any,
    start: bytes,
    marks: Marks,
    ahead: tuple[object, dict[bytes, int]] | None = None,
) -> Built:
    """Rebuild tree *start* (held by the store) with *marks* (what changed since it) as a
    snapshot would (base: its counts and skipped paths, as Rebuild takes them), store its
    objects and enter them in the index, without a snapshot record: the watcher's worker
    prepares a snapshot so. The caller holds the store's lock (shared) until it has
    recorded the result where gc looks (watch/prep.set_prepared), and checked the store's
    generation under it. Raises Unusable when *start*'s trees cannot be read. *ahead*: the
    dirty set's (epoch, base root) and each marked entry's last seq, for the files read
    ahead (_AHEAD)."""
    import time

    from git_snapshot.store import archiver
    from git_snapshot.store.filescache import FilesCache
    from git_snapshot.store.packs import PackWriter

    root = os.fsencode(os.path.abspath(directory))
    began = time.time_ns()  # (what moved once the trees were being read: look_again)
    trees = old_trees(store, marks, start)
    writer = PackWriter(
        store.path,
        threads=archiver._compressors(),
        pool_after=0,
        level=archiver.CHANGES_LEVEL,
        tree_level=archiver.CHANGES_TREE_LEVEL,
        group_bytes=archiver.CHANGES_GROUP,
    )
    packs: list[Any] = []
    try:
        with gc_paused(freeze=True):
            cache = FilesCache(root=base.root)
            walker = archiver._Walker(store, writer, cache, opts, began)
            writer.known = walker._indexed
            rebuild = walker.rebuild = Rebuild(walker, marks, base, trees, ahead)
            key = rebuild.run(root)
            if key is None:
                raise Unusable("the worktree's root is left out")
            packs = writer.finish()
            if packs:
                _add_recent(store, packs)
    except BaseException:
        writer.abort()
        archiver._unlink_packs(store, packs)  # no row names them
        raise
    return Built(walker, rebuild, key, writer.written)


def _add_recent(store: Store, packs: list[Any]) -> None:
    """Enter *packs* in the index's recent table, as a rebuilt snapshot's (store/index.py:
    5,600 rows on L 1 %, ~20 ms against ~400 into objects), or into objects once recent
    is full; the worker's merge after its next snapshot moves them."""
    from git_snapshot.store.index import RECENT_MAX

    index = store.index
    with index.write() as db:
        if db.execute("SELECT count(*) FROM recent").fetchone()[0] < RECENT_MAX:
            index._add_recent(db, packs)
        else:
            index._merge_recent(db)
            index._add_packs(db, packs)


# --------------------------------------------------------------------------- the files cache


def differing_folders(store: Store, a: bytes, b: bytes) -> tuple[set[bytes], set[bytes]]:
    """Between trees *a* and *b*: the folders both hold with other trees (their listings
    differ, or something below them does), and those only one holds as a folder."""
    differ: set[bytes] = set()
    whole: set[bytes] = set()
    level = [(b"", a, b)] if a != b else []
    while level:
        raws = treebytes.load(store, {k for _, x, y in level for k in (x, y)})
        nxt = []
        for rel, x, y in level:
            differ.add(rel)
            old = _split(store, x, raws[x])
            new = _split(store, y, raws[y])
            for name in old.keys() | new.keys():
                ro, rn = old.get(name), new.get(name)
                if ro == rn:
                    continue
                child = _join(rel, name)
                o_dir = ro is not None and ro[0] == DIR
                n_dir = rn is not None and rn[0] == DIR
                if o_dir and n_dir:
                    assert ro is not None and rn is not None
                    if _ref(ro) != _ref(rn):
                        nxt.append((child, _ref(ro), _ref(rn)))
                elif o_dir or n_dir:
                    whole.add(child)
        level = nxt
    return differ, whole


def retarget_cache(store: Store, source: str, directory: str, root: bytes) -> bool:
    """Make the files cache of *directory* the cache of the snapshot whose root is *root*
    (the worktree's last), when it was saved with an older one: rebuilt snapshots leave it
    alone, so it would stay with the last full walk's snapshot, and once retention forgets
    that one the next full walk reads every file again. The records of every folder whose
    tree differs between the two are dropped (the rest hold what they held); True if saved.
    Runs in the watcher's worker, off the hooks' time."""
    from git_snapshot.store import filescache

    path = filescache.cache_path(store.cache_dir, source, directory)
    with store.lock():
        generation = store.index.meta_get("generation", "0")
        cache = filescache.load(path, generation, store.index.has_root)
        if not cache.root or cache.root == root:
            return False
        differ, whole = differing_folders(store, cache.root, root)

        def stale(rel: bytes) -> bool:
            return rel in differ or (bool(whole) and _under_any(rel, whole))

        cache.dirs = {r: v for r, v in cache.dirs.items() if not stale(r)}
        cache.skipped = {r: v for r, v in cache.skipped.items() if not stale(r)}
        cache.root = root
        filescache.save(path, generation, cache, store.tmp_dir)
    return True
