"""What changed: between two snapshots, or between a snapshot and a directory on disk; what an
operation lost; the contents of many old versions at once (diff --stat, -p).

The comparisons walk level by level through :mod:`git_snapshot.store.diff_levels` (batched
tree reads, a forked child for half of a wide level); here are their folder pairs and what
comparing one finds. Trees are read through store.validate, as restore reads them: a crafted
name such as '..' never makes the comparison look outside the directory.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from collections.abc import Callable
from collections.abc import Iterable

from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.diff_levels import ADDED as ADDED
from git_snapshot.store.diff_levels import DELETED as DELETED
from git_snapshot.store.diff_levels import MODE as MODE
from git_snapshot.store.diff_levels import MODIFIED as MODIFIED
from git_snapshot.store.diff_levels import TYPE as TYPE
from git_snapshot.store.diff_levels import Change as Change
from git_snapshot.store.diff_levels import Render as Render
from git_snapshot.store.diff_levels import _below
from git_snapshot.store.diff_levels import _changes
from git_snapshot.store.diff_levels import _entry
from git_snapshot.store.diff_levels import _listing
from git_snapshot.store.diff_levels import _load
from git_snapshot.store.diff_levels import _note
from git_snapshot.store.diff_levels import _special
from git_snapshot.store.diff_levels import _texts
from git_snapshot.store.diff_levels import _unread
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import NS_MAX
from git_snapshot.store.objects import NS_MIN
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import digest_fd


def file_key(path: bytes) -> bytes | None:
    """SHA-256 of a file on disk (the store's key), None if it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return digest_fd(fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _disk_kind(st: os.stat_result) -> int:
    if stat.S_ISDIR(st.st_mode):
        return DIR
    if stat.S_ISLNK(st.st_mode):
        return SYMLINK
    return FILE if stat.S_ISREG(st.st_mode) else 0


def same_on_disk(e: Entry, path: bytes, st: os.stat_result) -> str | None:
    """None when the disk still holds *e*; else MODIFIED, MODE or TYPE (a file where *e* is a
    symlink, or the other way round)."""
    kind = _disk_kind(st)
    if kind != e.kind:
        return TYPE if kind in (FILE, SYMLINK) and e.kind in (FILE, SYMLINK) else MODIFIED
    if kind == SYMLINK:
        return None if os.readlink(path) == e.ref else MODIFIED
    if kind == FILE:
        if st.st_size != e.size:
            return MODIFIED
        if st.st_mtime_ns != e.mtime_ns and file_key(path) != e.ref:
            return MODIFIED
    if kind != DIR and stat.S_IMODE(st.st_mode) != e.mode:
        return MODE
    return None


def _lstat(path: bytes) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


class _Pair:
    """Two versions of one folder to compare, and then what the comparison found: changes,
    and pairs of subfolders (compared one level later), in output order."""

    __slots__ = ("items", "new", "old", "rel")

    def __init__(self, old: bytes, new: bytes, rel: bytes) -> None:
        self.old, self.new, self.rel = old, new, rel
        self.items: list[Change | _Pair] = []


def diff_trees(
    store: Store,
    a: bytes,
    b: bytes,
    rel: bytes = b"",
    split: bool = False,
    damaged: list[tuple[bytes, str]] | None = None,
    sides: tuple[str, str] = ("old", "new"),
) -> list[Change]:
    """Tree *a* (old) against tree *b* (new); a folder whose key is the same on both sides is
    one comparison, never a walk.

    Level by level: the trees of a level's folder pairs are read in one batch (locations in a
    few queries, reads in storage order); within a folder, entries whose stored bytes are
    the same on both sides are passed over undecoded (names are checked for every entry,
    the rest of an entry when it is decoded: what is the same on both sides is never shown).
    With *split*, a forked process compares half of the folders of a wide level (_levels).
    With *damaged*, a folder whose listing cannot be read on either side is named there (as
    'unreadable in' the side's name in *sides*) and left out; without, it raises.
    """
    if a == b:
        return []
    return _changes(store, _Pair(a, b, rel), _step_trees(store, damaged, sides), split)


def diff_trees_text(
    store: Store,
    a: bytes,
    b: bytes,
    render: Render,
    rel: bytes = b"",
    split: bool = False,
    tally: dict[str, int] | None = None,
    damaged: list[tuple[bytes, str]] | None = None,
    sides: tuple[str, str] = ("old", "new"),
) -> list[str]:
    """diff_trees's changes as text: see Render. With *split*, each process renders the
    changes of its own folders. *tally*, when given, gets the number of changes of each
    status added to it (the text alone may not say: see _texts). *damaged*, *sides*: as
    diff_trees's."""
    if a == b:
        return []
    step = _step_trees(store, damaged, sides)
    return _texts(store, _Pair(a, b, rel), step, split, render, tally)


def _step_trees(
    store: Store, damaged: list[tuple[bytes, str]] | None, sides: tuple[str, str]
) -> Callable[[list[_Pair], list[_Pair]], None]:
    def step(part: list[_Pair], nxt: list[_Pair]) -> None:
        raws, bad = _load(store, [k for p in part for k in (p.old, p.new)], damaged)
        for p in part:
            side = sides[0]
            try:
                old = _listing(store, p.old, raws, bad, p.rel)
                side = sides[1]
                new = _listing(store, p.new, raws, bad, p.rel)
            except CorruptObject as exc:
                why = f"folder listing unreadable in {side}: {exc} (and all below)"
                _note(damaged, p.rel, why, exc)
                continue
            _compare(store, p, old, new, nxt, damaged)

    return step


def _compare(
    store: Store,
    p: _Pair,
    old: dict[bytes, bytes],
    new: dict[bytes, bytes],
    nxt: list[_Pair],
    damaged: list[tuple[bytes, str]] | None,
) -> None:
    """Compare the listings *old* and *new* (_split's) of the folder pair *p*."""
    out = p.items
    rel = p.rel
    for name in sorted({name for name, _ in old.items() ^ new.items()}):
        ro, rn, path = old.get(name), new.get(name), rel + name
        o = None if ro is None else _entry(store, p.old, ro, rel)
        n = None if rn is None else _entry(store, p.new, rn, rel)
        if n is None and o is not None:
            out += _below(store, o, path, DELETED, damaged=damaged)
        elif o is None and n is not None:
            out += _below(store, n, path, ADDED, newer=True, damaged=damaged)
        elif o is not None and n is not None:
            if o.kind == n.kind == DIR:
                if o.mode != n.mode:  # a folder's mode is kept and restored: a change
                    out.append(Change(path, MODE, o, n))  # (RED34 C2: "no changes")
                if o.ref != n.ref:
                    sub = _Pair(o.ref, n.ref, path + b"/")
                    out.append(sub)
                    nxt.append(sub)
            elif o.kind != n.kind and DIR not in (o.kind, n.kind):
                out.append(Change(path, TYPE, o, n))  # a file and a symlink, as git's T
            elif o.kind != n.kind:
                out += _below(store, o, path, DELETED, damaged=damaged)
                out += _below(store, n, path, ADDED, newer=True, damaged=damaged)
            elif o.ref != n.ref:
                out.append(Change(path, MODIFIED, o, n))
            elif o.mode != n.mode:
                out.append(Change(path, MODE, o, n))


# what a snapshot of a directory leaves out: a path below it, and its lstat (None: the disk
# does not hold it)
SkipStat = Callable[[bytes, "os.stat_result | None"], bool]


class _Dir:
    """A snapshot's folder and the directory on disk to compare it with, then what the
    comparison found (changes and subfolders compared one level later), in output order."""

    __slots__ = ("directory", "items", "rel", "tree")

    def __init__(self, tree: bytes, directory: bytes, rel: bytes) -> None:
        self.tree, self.directory, self.rel = tree, directory, rel
        self.items: list[Change | _Dir] = []


def diff_dir(
    store: Store,
    tree: bytes,
    directory: bytes,
    rel: bytes = b"",
    skip: Callable[[bytes], bool] = lambda rel: False,
    walk_added: bool = True,
    skip_stat: SkipStat | None = None,
    split: bool = False,
    damaged: list[tuple[bytes, str]] | None = None,
    unread: list[tuple[bytes, str]] | None = None,
) -> list[Change]:
    """Snapshot tree (old) against the directory on disk (new).

    With *walk_added* False, a directory that only the disk has is one change, not walked.
    *skip_stat*, when given, answers for *skip* where the entry's lstat is already known
    (each entry is lstat-ed once). Level by level, as diff_trees: each level's trees are
    read in one batch; with *split*, by two processes. *damaged*: as diff_trees's.
    *unread*, where given, gets (path, why) for each path on disk that cannot be listed or
    lstat'ed by its path, whose place the snapshot holds: not compared (see _unread).
    """
    top = _Dir(tree, directory, rel)
    step = _step_dir(store, skip, walk_added, skip_stat, damaged, unread)
    return _changes(store, top, step, split)


def diff_dir_text(
    store: Store,
    tree: bytes,
    directory: bytes,
    render: Render,
    rel: bytes = b"",
    skip: Callable[[bytes], bool] = lambda rel: False,
    skip_stat: SkipStat | None = None,
    split: bool = False,
    tally: dict[str, int] | None = None,
    damaged: list[tuple[bytes, str]] | None = None,
    unread: list[tuple[bytes, str]] | None = None,
) -> list[str]:
    """diff_dir's changes as text: see Render. With *split*, each process renders the
    changes of its own folders; *tally* as for diff_trees_text, *damaged* as diff_trees's,
    *unread* as diff_dir's."""
    step = _step_dir(store, skip, True, skip_stat, damaged, unread)
    return _texts(store, _Dir(tree, directory, rel), step, split, render, tally)


def _step_dir(
    store: Store,
    skip: Callable[[bytes], bool],
    walk_added: bool,
    skip_stat: SkipStat | None,
    damaged: list[tuple[bytes, str]] | None = None,
    unread: list[tuple[bytes, str]] | None = None,
) -> Callable[[list[_Dir], list[_Dir]], None]:
    def step(part: list[_Dir], nxt: list[_Dir]) -> None:
        raws, bad = _load(store, [d.tree for d in part], damaged)
        for d in part:
            try:
                old = _listing(store, d.tree, raws, bad, d.rel)
            except CorruptObject as exc:
                _note(damaged, d.rel, f"folder listing unreadable: {exc} (and all below)", exc)
                continue
            _compare_dir(store, d, old, skip, walk_added, skip_stat, nxt, damaged, unread)

    return step


def _compare_dir(
    store: Store,
    job: _Dir,
    old: dict[bytes, bytes],
    skip: Callable[[bytes], bool],
    walk_added: bool,
    skip_stat: SkipStat | None,
    nxt: list[_Dir],
    damaged: list[tuple[bytes, str]] | None,
    unread: list[tuple[bytes, str]] | None,
) -> None:
    """Compare the folder *job* (its listing *old*: _split's) with its directory on disk."""
    rel, directory, out = job.rel, job.directory, job.items
    try:
        with os.scandir(directory) as it:
            disk = {d.name: d for d in it}
    except (FileNotFoundError, NotADirectoryError):
        disk = {}
    except OSError as exc:  # not to be listed (no permission; past PATH_MAX: 4096 bytes)
        _unread(unread, rel, exc)  # (a snapshot leaves it out too, and says so)
        return
    for name in sorted(old.keys() | disk.keys()):
        path = rel + name
        d = disk.get(name)
        ro = old.get(name)
        try:
            st = None if d is None else _lstat(d.path) if skip_stat is None else _lstat_entry(d)
        except OSError as exc:  # on disk, but not to be lstat'ed by its path: as above
            _unread(unread, path, exc)
            continue
        if st is not None and not _holdable(st):
            _special(unread, path, st.st_mode)  # (a D below, where the snapshot held one)
        if skip_stat is None:
            if skip(path) and _left_out(ro, st):
                continue
        elif skip_stat(path, st) and _left_out(ro, st):
            continue
        if st is not None and not _holdable(st):
            st = None  # a FIFO, socket or device where the snapshot held an entry: that is gone
        if ro is not None and st is not None and ro[0] == FILE and _same(ro, st):
            continue  # a file with the mode, mtime and size the snapshot holds: not decoded
        o = None if ro is None else _entry(store, job.tree, ro, rel)
        if st is None:
            if o is not None:
                out += _below(store, o, path, DELETED, damaged=damaged)
            continue
        full = directory + b"/" + name
        if o is None:
            out += _added_on_disk(full, path, st, skip, walk_added)
        elif o.kind == DIR and stat.S_ISDIR(st.st_mode):
            if stat.S_IMODE(st.st_mode) != o.mode:  # kept and restored, as a file's
                out.append(Change(path, MODE, o, None))
            sub = _Dir(o.ref, full, path + b"/")
            out.append(sub)
            nxt.append(sub)
        elif (o.kind == DIR) != stat.S_ISDIR(st.st_mode):
            out += _below(store, o, path, DELETED, damaged=damaged)
            out += _added_on_disk(full, path, st, skip, walk_added)
        else:
            status = same_on_disk(o, full, st)
            if status:
                out.append(Change(path, status, o, None))


def _holdable(st: os.stat_result) -> bool:
    """Whether a snapshot can hold what is on disk: a folder, a regular file or a symlink."""
    return stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)


def _left_out(ro: bytes | None, st: os.stat_result | None) -> bool:
    """Whether a path the caller's skip names (one a snapshot now leaves out) is left out of
    the comparison: only where the snapshot holds nothing. An entry the snapshot holds is
    compared as any other, as restore would write it (RED30: a file under a path excluded
    since was "no changes", while restore overwrote it); where the disk holds what no
    snapshot can (a FIFO, a socket, a device) instead, that entry is deleted."""
    return ro is None


def _same(raw: bytes, st: os.stat_result) -> bool:
    """Whether a file entry's stored bytes (objects.HEAD) hold the mode, mtime and size of
    the regular file on disk: same_on_disk's answer for it then, without decoding it. Not
    for a time out of the format's range (objects.held_ns): its content is compared."""
    if not stat.S_ISREG(st.st_mode) or not NS_MIN <= st.st_mtime_ns <= NS_MAX:
        return False
    return raw[3:23] == _MODE_MTIME_SIZE.pack(stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_size)


_MODE_MTIME_SIZE = struct.Struct("<IqQ")  # objects.HEAD from its 4th byte


def _lstat_entry(d: os.DirEntry[bytes]) -> os.stat_result | None:
    try:
        return d.stat(follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _added_on_disk(
    full: bytes, rel: bytes, st: os.stat_result, skip: Callable[[bytes], bool], walk: bool
) -> list[Change]:
    out = [Change(rel, ADDED, None, None)]
    if walk and stat.S_ISDIR(st.st_mode):
        for root, dirs, files in os.walk(full):
            base = rel + root[len(full) :] + b"/"
            dirs[:] = sorted(d for d in dirs if not skip(base + d))  # nor below a skipped dir
            names = dirs + [f for f in files if not skip(base + f)]
            out += [Change(base + n, ADDED, None, None) for n in sorted(names)]
    return out


def read_blobs(store: Store, entries: Iterable[Entry], threads: int = 2) -> dict[bytes, bytes]:
    """The contents of the files *entries*, by key, each checked against its key and recorded
    size; what cannot be read so is left out (the caller's own read of it then says why, and
    records the damage). For readers of many old versions (diff --stat, -p): each lies in a
    different group, so each group is decompressed once, in one call, only as far as the
    last member read ends (PackReader.members), in storage order, by *threads* threads
    (zstd releases the GIL) taking a group or frame at a time."""
    sizes = {e.ref: e.size for e in entries if e.kind == FILE}
    locs = store.index.locate_many(sizes)
    # (pack, offset) -> the frame's or group's length and what is wanted of it
    units: dict[tuple[str, int], tuple[int, list[tuple[int, int, bytes]]]] = {}
    for key, loc in locs.items():
        if loc.size == sizes[key]:
            unit = units.get((loc.pack, loc.offset))
            if unit is None:
                unit = units[loc.pack, loc.offset] = (loc.length, [])
            unit[1].append((loc.inner, loc.size, key))
    reader = store.reader

    def read(
        item: tuple[tuple[str, int], tuple[int, list[tuple[int, int, bytes]]]],
    ) -> list[tuple[bytes, bytes]]:
        (pack, offset), (length, wanted) = item
        try:
            if wanted[0][0] < 0:  # a frame of its own (one key: one object)
                _, size, key = wanted[0]
                got = [(key, reader.read(pack, offset, length, size))]
            else:
                wanted.sort()
                datas = reader.members(pack, offset, length, [(i, n) for i, n, _ in wanted])
                got = [(key, data) for (_, _, key), data in zip(wanted, datas)]
        except Exception:  # damaged: the caller's own read names it
            return []
        sha256 = hashlib.sha256
        return [(key, data) for key, data in got if sha256(data).digest() == key]

    todo = sorted(units.items())
    if threads < 2 or len(todo) < 2:
        return dict(pair for item in todo for pair in read(item))
    # this thread and threads - 1 others take the next unit in turn (threading, not
    # concurrent.futures: that imports logging, ~10 ms of a fresh diff --stat)
    import threading

    out: dict[bytes, bytes] = {}
    left = iter(todo)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                item = next(left, None)
            if item is None:
                return
            out.update(read(item))  # one C call: atomic under the GIL

    others = [
        threading.Thread(target=work, name=f"git-snapshot-read-{i}", daemon=True)
        for i in range(threads - 1)
    ]
    for t in others:
        t.start()
    try:
        work()
    finally:
        for t in others:
            t.join()
    return out


def lost(
    store: Store,
    tree: bytes,
    directory: bytes,
    paths: Iterable[bytes] | None = None,
    complete: bool = False,
) -> list[tuple[bytes, Entry, str]]:
    """Files and links of the snapshot that the disk no longer holds as they were; with
    *complete*, also those it holds with another mode only (MODE) and the snapshot's empty
    folders that the disk no longer holds as folders (the deepest ones: a folder holding only
    empty folders is named by those).

    With *paths*, only those paths (and what the snapshot held on their way or below them)
    are compared: the places an operation touched.
    """
    if paths is None:
        # only what the snapshot held matters: never walk what is new on disk (.git, a fresh
        # node_modules), which can be most of the tree
        changes = diff_dir(store, tree, directory, walk_added=False)
        gone = [(c.path, c.old, c.status) for c in changes if c.old is not None]
        held = {p.rpartition(b"/")[0] for p, _, status in gone if status == DELETED}
        if not complete:
            return [(p, e, st) for p, e, st in gone if e.kind != DIR and st != MODE]
        return [
            (p, e, status)
            for p, e, status in gone
            if e.kind != DIR or (status == DELETED and p not in held)
        ]
    found: dict[bytes, tuple[bytes, Entry, str]] = {}
    # each tree read, checked and indexed once: a burst names thousands of paths below the
    # same few folders (2,000 paths on L: 28 s of CPU when every path read its way again)
    trees: dict[bytes, dict[bytes, Entry]] = {}
    for path in paths:
        hit = _find(store, tree, path, trees)
        if hit is None:
            continue
        rel, e = hit
        items = [(rel, e)] if e.kind != DIR else list(validate.walk(store, e.ref, rel + b"/"))
        parents = {sub.rpartition(b"/")[0] for sub, _ in items}
        if e.kind == DIR and not items:
            items = [(rel, e)]  # an empty folder itself
        for sub, entry in items:
            if sub in found or (entry.kind == DIR and sub in parents):
                continue
            full = directory + b"/" + sub
            try:
                st = _lstat(full)
            except OSError:  # on disk but not to be lstat'ed by its path (a folder on the way
                continue  # not searchable, a path past PATH_MAX): not known lost, not named
            if entry.kind == DIR:
                status = DELETED if st is None or not stat.S_ISDIR(st.st_mode) else None
            else:
                status = DELETED if st is None else same_on_disk(entry, full, st)
            if status and (complete or (status != MODE and entry.kind != DIR)):
                found[sub] = (sub, entry, status)
    return sorted(found.values())


def _find(
    store: Store, tree: bytes, path: bytes, trees: dict[bytes, dict[bytes, Entry]]
) -> tuple[bytes, Entry] | None:
    """The entry at *path*, or the first non-directory entry on its way there (*trees*: the
    trees read so far, by key, as name -> entry)."""
    parts = path.split(b"/")
    for i, part in enumerate(parts):
        names = trees.get(tree)
        if names is None:
            rel = b"".join(p + b"/" for p in parts[:i])
            names = trees[tree] = {e.name: e for e in validate.read_tree(store, tree, rel)}
        match = names.get(part)
        if match is None:
            return None
        if i == len(parts) - 1 or match.kind != DIR:
            return b"/".join(parts[: i + 1]), match
        tree = match.ref
    return None
