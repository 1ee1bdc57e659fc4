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

from git_snapshot.store import treebytes
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import encode_into
from git_snapshot.store.safewrite import TEMP_MARK

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any
    from typing import Protocol

    from git_snapshot.store.core import Store
    from git_snapshot.store.index import Snapshot

    class Marks(Protocol):
        """What changed since the base (watch/dirtyset.CleanSet)."""

        def changed(self, rel: bytes) -> bool: ...
        def relist(self, rel: bytes) -> bool: ...
        def look_at(self, rel: bytes) -> frozenset[bytes]: ...


CACHEDIR_TAG = b"CACHEDIR.TAG"
_TEMP_MARK = TEMP_MARK.encode()
_SIZE = HEAD.size


class Unusable(Exception):
    """The base's trees cannot be read as expected: the snapshot walks everything instead."""


def _join(rel: bytes, name: bytes) -> bytes:
    return rel + b"/" + name if rel else name


def _ref(raw: bytes) -> bytes:
    nlen = int.from_bytes(raw[_SIZE - 6 : _SIZE - 4], "little")
    return raw[_SIZE + nlen :]


def _split(store: Store, key: bytes, data: bytes) -> dict[bytes, bytes]:
    got = treebytes.split(data)
    if got is None:
        raise Unusable(f"tree {key.hex()[:12]} is not as the walker writes them")
    return got


def old_trees(store: Store, marks: Marks, root: bytes) -> dict[bytes, dict[bytes, bytes]]:
    """The base's tree of every changed folder it holds (folder -> name -> the entry's
    stored bytes), read level by level, each level in one batch."""
    out: dict[bytes, dict[bytes, bytes]] = {}
    level = [(b"", root)]
    try:
        while level:
            raws = treebytes.load(store, [k for _, k in level])
            nxt = []
            for rel, key in level:
                entries = out[rel] = _split(store, key, raws[key])
                for name in marks.look_at(rel):
                    raw = entries.get(name)
                    child = _join(rel, name)
                    if raw is not None and raw[0] == DIR and marks.changed(child):
                        nxt.append((child, _ref(raw)))
            level = nxt
    except Unusable:
        raise
    except Exception as exc:  # damaged, missing: the full walk stores what it finds
        raise Unusable(str(exc)) from exc
    return out


def _component_key(item: tuple[str, str]) -> list[bytes]:
    return os.fsencode(item[0]).split(b"/")


class _GitIds:
    """The walker's writer, also noting the id git gives each blob it is given (a SHA-1 of
    the bytes in memory): hooks._written_during asks git whether it has the content of the
    files a snapshot read, and would otherwise read and hash each of them again."""

    __slots__ = ("ids", "w")

    def __init__(self, writer: Any) -> None:
        self.w = writer
        self.ids: dict[bytes, str] = {}  # store key -> git blob id

    def add(self, type_: int, key: bytes, data: bytes, dedupe: bool = False) -> None:
        if type_ == BLOB:
            h = hashlib.sha1(b"blob %d\0" % len(data))  # git's object id, not security
            h.update(data)
            self.ids[key] = h.hexdigest()
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
        base: Snapshot,
        trees: dict[bytes, dict[bytes, bytes]],
    ) -> None:
        self.w = walker
        self.store: Store = walker.store
        self.marks = marks
        self.base = base
        self.old = trees
        self.accounted: set[bytes] = set()  # paths whose base entry was settled
        self.drop_skipped: set[bytes] = set()  # base skip records looked at again
        self.drop_in: set[bytes] = set()  # relisted folders: their skip records are found again
        self.drop_under: set[bytes] = set()  # folders the base held and this one does not reuse
        # paths of files and links whose entry changed (as diff_trees would name them, less
        # what was added): None once a folder is relisted (the walker's listing is not seen)
        self.changed_paths: list[bytes] | None = []
        # files read by entry(): path -> (inode, mtime, ctime, size as lstat gave them before
        # the read, git blob id of what was read): Result.ids
        self.git_ids: dict[bytes, tuple[int, int, int, int, str]] = {}
        self._ids = _GitIds(walker.writer)
        walker.writer = self._ids
        walker.files, walker.bytes = base.files, base.bytes
        walker.skipped = []

    # -- the walk --------------------------------------------------------------------------

    def run(self, root: bytes) -> bytes | None:
        key = self.folder(root, b"", 0)
        self.w.skipped = self._skipped()
        return key

    def folder(self, path: bytes, rel: bytes, label: int) -> bytes | None:
        """The tree of changed folder *rel*, which the base holds; None when it is now left
        out (it became a cache folder)."""
        w = self.w
        if self.marks.relist(rel):
            return self.relist(path, rel, label)
        old = self.old[rel]
        names = self.marks.look_at(rel)
        if (
            rel
            and CACHEDIR_TAG in names
            and w.opts.skip_cachedir_tag
            and _is_cachedir_tag(path + b"/" + CACHEDIR_TAG)
        ):
            w._skip(rel, "cache directory (CACHEDIR.TAG)")
            return None
        new = dict(old)
        for name in names:
            crel = _join(rel, name)
            if crel in w.opts.omit:
                continue
            raw = self.entry(path + b"/" + name, crel, name, label, old.get(name))
            if raw is None:
                new.pop(name, None)
            else:
                new[name] = raw
        data = TREE_MAGIC + b"".join([new[n] for n in sorted(new)])
        key = hashlib.sha256(data).digest()
        if not w._known_tree(key):
            w.writer.add(TREE, key, data, dedupe=True)
            w.pending.add(key)
        return key

    def entry(
        self, path: bytes, rel: bytes, name: bytes, label: int, old: bytes | None
    ) -> bytes | None:
        """Entry *name* of a changed folder, looked at again: its stored bytes, or None."""
        w = self.w
        self.drop_skipped.add(rel)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            self.take_off(rel, old, None)
            return None
        if stat.S_ISDIR(st.st_mode) and not name.startswith(_TEMP_MARK):
            e = w._dir_entry(path, rel, name, st, label)  # through sub(), when not left out
            if rel not in self.accounted:
                self.take_off(rel, old, e)
        else:
            e = w._entry(path, rel, name, None, label, st)
            self.take_off(rel, old, e)
            if (
                e is not None
                and e.kind == FILE
                and not e.flags
                and e.mtime_ns == st.st_mtime_ns
                and e.size == st.st_size
            ):
                oid = self._ids.ids.get(e.ref)
                if oid is not None:
                    self.git_ids[rel] = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size, oid)
        if e is None:
            return None
        parts: list[bytes] = []
        encode_into(parts, e)
        return b"".join(parts)

    def sub(self, path: bytes, rel: bytes, name: bytes, st: os.stat_result, label: int) -> Entry:
        """Folder *rel* (stat *st*) met by the walk (the walker's _dir_entry, once it is
        neither the store nor excluded): its entry, with the base's tree when nothing below
        it changed. Settles what the base held at *rel*."""
        parent = rel.rpartition(b"/")[0]
        old = self.old.get(parent, {}).get(name) if parent in self.old else None
        key: bytes | None
        if old is not None and old[0] == DIR:
            if self.marks.changed(rel):
                key = self.folder(path, rel, label)
            elif HEAD.unpack_from(old)[4] == st.st_mtime_ns:
                key = _ref(old)  # nothing below changed
            else:  # its entries changed without an event naming them: listed again
                self.old[rel] = _split(self.store, _ref(old), self.store.read_object(_ref(old)))
                key = self.relist(path, rel, label)
            if key is None:
                self.take_off(rel, old, None)
                return None  # type: ignore[return-value]  # left out, as the walker does
            self.accounted.add(rel)
        else:
            self.take_off(rel, old, None)  # a file or link the base held here is gone
            key = self.w.tree(path, rel + b"/", label)  # new here: walked whole
            if key is None:
                return None  # type: ignore[return-value]
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
