"""A path across snapshots: its versions (``log``), the paths matching a pattern (``find``).

Fast on big stores because trees are content addressed: an unchanged folder has the same key
in every snapshot, so everything here is memoized by tree key. Looking a path up reads only
the trees on its way down, and only those not already seen. A search goes from snapshot to
snapshot by deltas (the paths whose entries changed), each computed once from the trees
that differ and then kept in the store's cache (store/deltas.py), so a search over a long
history reads no tree at all once its deltas are known. Trees are checked as
validate.read_tree checks them (a quick whole-list check first), as restore reads them.
Knows nothing of git.
"""

from __future__ import annotations

import hashlib
import os
from collections import namedtuple
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator

from git_snapshot.store import deltas
from git_snapshot.store import treebytes
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree
from git_snapshot.store.objects import encode_into

APPEARED, CHANGED, VANISHED = "appeared", "changed", "vanished"
# the snapshot left the path out (excluded, unreadable): not a deletion; and the next that
# holds it again, as the last one before held it
LEFT_OUT, UNCHANGED = "left out", "unchanged"

Match = Callable[[bytes, Entry], bool]
Found = list[tuple[bytes, Entry]]
REPLACED_ENTRIES = 100_000  # entries of trees no longer at hand that Trees keeps in memory
REPLACED_BYTES = 8 << 20  # stored bytes of replaced trees that Trees.delta keeps in memory
WARM_MOST = 20  # deltas one warm_deltas call computes at most (a few seconds on a big tree)


def _plainly_safe(entries: list[Entry]) -> bool:
    """True when validate would find nothing wrong with *entries*, checked with a few calls
    over the whole list instead of several per entry (False: let validate look closer)."""
    if not entries:
        return True
    names = [e.name for e in entries]
    unique = set(names)
    if len(unique) != len(names) or b"." in unique or b".." in unique or sorted(names) != names:
        return False
    joined = b"\0".join(names)
    if b"/" in joined or joined.count(b"\0") != len(names) - 1:
        return False
    lengths = [len(n) for n in names]
    if min(lengths) == 0 or max(lengths) > validate.MAX_NAME:
        return False
    modes = [e.mode for e in entries]
    if min(modes) < 0 or max(modes) > validate.MODE_BITS:
        return False
    for e in entries:
        if e.kind == SYMLINK:
            if validate.link_problem(e) is not None:
                return False
        elif (e.kind != FILE and e.kind != DIR) or len(e.ref) != validate.KEY_LEN:
            return False
    return True


def read_tree(store: Store, key: bytes, rel: bytes = b"") -> list[Entry]:
    """validate.read_tree, faster on the trees every honest store holds."""
    return _checked(store.read_tree(key), rel)


def _checked(entries: list[Entry], rel: bytes) -> list[Entry]:
    if _plainly_safe(entries):
        return entries
    problems = validate.tree_problems(entries)
    if problems:
        name, problem = problems[0]
        raise validate.UnsafeTree(rel + name, problem)
    return entries


def _entry_bytes(e: Entry) -> bytes:
    parts: list[bytes] = []
    encode_into(parts, e)
    return b"".join(parts)


def root_entry(tree: bytes) -> Entry:
    """The snapshot's top folder as an entry, so that '.' has versions like any folder."""
    return Entry(b"", DIR, 0o755, 0, 0, tree)


class Trees:
    """Trees of one store, each read (and checked) once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._entries: dict[bytes, dict[bytes, Entry]] = {}
        self._at: dict[tuple[bytes, bytes], Entry | None] = {}
        self._totals: dict[bytes, tuple[int, int]] = {}
        self._contents: dict[bytes, bytes] = {}  # tree key -> content (see content)
        self._found: dict[tuple[bytes, bytes], Found] = {}
        self._below: dict[bytes, Found] = {}
        self._replaced: dict[bytes, dict[bytes, Entry]] = {}  # oldest first
        self._replaced_kept = 0  # their entries, at most REPLACED_ENTRIES
        self.computed = 0  # deltas computed (not found in the cache)
        # delta's view of trees: name -> the entry's stored bytes (treebytes.split), so that
        # what two versions of a folder share is compared, not decoded
        self._raws: dict[bytes, dict[bytes, bytes]] = {}
        self._raws_replaced: dict[bytes, dict[bytes, bytes]] = {}  # oldest first
        self._raws_sizes: dict[bytes, int] = {}  # stored bytes of each replaced one
        self._raws_kept = 0  # ... in all, at most REPLACED_BYTES

    def entries(self, key: bytes, rel: bytes = b"") -> dict[bytes, Entry]:
        got = self._entries.get(key)
        if got is None:
            got = self._replaced.pop(key, None)
            if got is not None:
                self._replaced_kept -= len(got)
            else:
                got = {e.name: e for e in read_tree(self.store, key, rel)}
            self._entries[key] = got
        return got

    def _load(self, wanted: list[tuple[bytes, bytes]]) -> None:
        """Read the trees of *wanted* (key, path for messages) not read yet, in batches
        (treebytes.load: a few queries, storage order), as entries would one by one."""
        todo = {}
        for key, rel in wanted:
            if key not in self._entries and key not in self._replaced:
                raws = self._raws.get(key)
                raws = self._raws_replaced.get(key) if raws is None else raws
                if raws is not None:  # read by delta already: decoded, checked again
                    data = TREE_MAGIC + b"".join(raws.values())
                    entries = _checked(decode_tree(data), rel)
                    self._entries[key] = {e.name: e for e in entries}
                else:
                    todo[key] = rel
        for key, data in self._stored(list(todo)):
            entries = _checked(decode_tree(data), todo[key])
            self._entries[key] = {e.name: e for e in entries}

    def _stored(self, keys: list[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """(key, stored bytes) of *keys*, read 2,048 at a time (treebytes.load: a few queries,
        storage order; a bounded batch in memory)."""
        for i in range(0, len(keys), 2048):
            yield from treebytes.load(self.store, keys[i : i + 2048]).items()

    def _load_raws(self, wanted: list[tuple[bytes, bytes]]) -> None:
        """_load for delta's view: name -> stored bytes of each entry, names checked."""
        todo = {}
        for key, rel in wanted:
            if key not in self._raws:
                got = self._raws_replaced.pop(key, None)
                if got is not None:
                    self._raws_kept -= self._raws_sizes.pop(key)
                else:
                    known = self._entries.pop(key, None)  # now kept as delta's view
                    if known is None:
                        known = self._replaced.pop(key, None)
                        self._replaced_kept -= 0 if known is None else len(known)
                    if known is not None:  # read as entries already (below)
                        got = {name: _entry_bytes(e) for name, e in known.items()}
                if got is not None:
                    self._raws[key] = got
                else:
                    todo[key] = rel
        for key, data in self._stored(list(todo)):
            got = treebytes.split(data)
            if got is None:  # checked the slow way: raises what is wrong, if anything
                got = {e.name: _entry_bytes(e) for e in _checked(decode_tree(data), todo[key])}
            self._raws[key] = got

    def _raw_entry(self, key: bytes, raw: bytes, rel: bytes) -> Entry:
        """One entry of delta's view, checked as validate checks it."""
        e = treebytes.entry(raw)
        if e is None:  # a link, or what validate refuses: looked at closer
            e = decode_tree(TREE_MAGIC + raw)[0]
            problem = validate.entry_problem(e)
            if problem is not None:
                read_tree(self.store, key, rel)  # names the tree's first problem
                raise validate.UnsafeTree(rel + e.name, problem)
        return e

    def _retire_raws(self, key: bytes) -> None:
        """A tree of delta's view the next snapshot replaced (or no longer holds): kept among
        the last REPLACED_BYTES of them only, so that going from snapshot to snapshot memory
        holds about one snapshot's trees, however many snapshots a find goes through."""
        got = self._raws.pop(key, None)
        if got is not None:
            size = sum(map(len, got.values()))
            self._raws_replaced[key] = got
            self._raws_sizes[key] = size
            self._raws_kept += size
            while self._raws_kept > REPLACED_BYTES:
                oldest = next(iter(self._raws_replaced))
                del self._raws_replaced[oldest]
                self._raws_kept -= self._raws_sizes.pop(oldest)

    def _retire(self, key: bytes) -> None:
        """A tree no longer at hand (its folder vanished): kept among the last
        REPLACED_ENTRIES entries only, so that going from snapshot to snapshot memory holds
        about one snapshot's trees, not the store's."""
        got = self._entries.pop(key, None)
        if got is not None:
            self._replaced[key] = got
            self._replaced_kept += len(got)
            while self._replaced_kept > REPLACED_ENTRIES:
                self._replaced_kept -= len(self._replaced.pop(next(iter(self._replaced))))

    def at(self, tree: bytes, path: bytes) -> Entry | None:
        """The entry at *path* (b'' for the top) below *tree*, or None."""
        if not path:
            return root_entry(tree)
        memo = (tree, path)
        if memo in self._at:
            return self._at[memo]
        head, _, rest = path.partition(b"/")
        e = self.entries(tree).get(head)
        if rest and e is not None:
            e = self.at(e.ref, rest) if e.kind == DIR else None
        self._at[memo] = e
        return e

    def totals(self, e: Entry) -> tuple[int, int]:
        """(files, bytes) of an entry: a file's own; a link's target's length (its size, as
        lstat, show and diff give it: RED34 C4, log and find said 0 B); the files below a
        folder (list's ``bytes``: the size of the files, never of links)."""
        if e.kind != DIR:
            return (1, e.size) if e.kind == FILE else (0, e.size if e.kind == SYMLINK else 0)
        stack = [e.ref]
        while stack:  # children first, without a call stack: depth is no limit
            key = stack[-1]
            if key in self._totals:
                stack.pop()
                continue
            kids = [c.ref for c in self.entries(key).values() if c.kind == DIR]
            todo = [k for k in kids if k not in self._totals]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            files = size = 0
            for c in self.entries(key).values():
                if c.kind == DIR:
                    f, s = self._totals[c.ref]
                    files, size = files + f, size + s
                elif c.kind == FILE:
                    files, size = files + 1, size + c.size
            self._totals[key] = (files, size)
        return self._totals[e.ref]

    def content(self, key: bytes) -> bytes:
        """What the folder of tree *key* holds as ``diff`` compares it: each name below it,
        its kind, its mode (a folder's too: RED34 C2) and the content (a link's target),
        never an mtime, label or flag (which its key covers: RED32 B7, ``log`` of a folder
        said "changed" where only an mtime had, or files became tracked). Memoized by tree
        key, children first."""
        stack = [key]
        while stack:  # without a call stack: depth is no limit
            k = stack[-1]
            if k in self._contents:
                stack.pop()
                continue
            kids = self.entries(k).values()
            todo = [c.ref for c in kids if c.kind == DIR and c.ref not in self._contents]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            h = hashlib.sha256()
            for c in kids:
                ref = self._contents[c.ref] if c.kind == DIR else c.ref
                h.update(b"%d %d %d %d\0" % (c.kind, c.mode, len(c.name), len(ref)))
                h.update(c.name)
                h.update(ref)
            self._contents[k] = h.digest()
        return self._contents[key]

    def find(self, tree: bytes, match: Match) -> Found:
        """Every (path, entry) below *tree* that *match* accepts, parents before children.
        Memoized by (tree key, path): a folder unchanged since the last snapshot costs one
        lookup. *match* must be the same for every call on one Trees."""
        stack = [(tree, b"")]
        while stack:
            key, prefix = stack[-1]
            if (key, prefix) in self._found:
                stack.pop()
                continue
            entries = self.entries(key, prefix).values()
            todo = [
                (c.ref, prefix + c.name + b"/")
                for c in entries
                if c.kind == DIR and (c.ref, prefix + c.name + b"/") not in self._found
            ]
            if todo:
                stack.extend(todo)
                continue
            stack.pop()
            out: Found = []
            for c in entries:
                path = prefix + c.name
                if match(path, c):
                    out.append((path, c))
                if c.kind == DIR:
                    out.extend(self._found[(c.ref, path + b"/")])
            self._found[(key, prefix)] = out
        return self._found[(tree, b"")]

    def below(self, key: bytes, prefix: bytes = b"") -> Found:
        """Every (path relative to tree *key*, entry) below it; each tree listed once.
        *prefix*: the tree's path, for messages."""
        got = self._below.get(key)
        if got is not None:
            return got
        out: Found = []
        level = [(key, b"")]
        while level:  # level by level, each level's trees read in one batch
            self._load([(k, prefix + rel) for k, rel in level])
            nxt = []
            for k, rel in level:
                for e in self.entries(k, prefix + rel).values():
                    path = rel + e.name
                    out.append((path, e))
                    if e.kind == DIR:
                        nxt.append((e.ref, path + b"/"))
            level = nxt
        self._below[key] = out
        return out

    def delta(self, a: bytes, b: bytes) -> list[deltas.Change]:
        """Every path whose entry differs from tree *a* (b'': no tree) to tree *b*, folders
        included: its entry in *b*, or None where it vanished (everything below a vanished
        folder too). Reads only the subtrees whose keys differ."""
        out: list[deltas.Change] = []
        if a == b:
            return out
        if not a:
            return [(p, tuple(e)) for p, e in self.below(b)]
        level = [(a, b, b"")]
        stack: list[tuple[bytes, bytes, bytes]] = []
        while level:  # level by level, each level's trees read in one batch
            self._load_raws([(k, p) for ka, kb, p in level for k in (ka, kb)])
            stack, level = level, stack
            while stack:
                self._delta_step(*stack.pop(), out, level)
        return out

    def _delta_step(
        self,
        ka: bytes,
        kb: bytes,
        prefix: bytes,
        out: list[deltas.Change],
        stack: list[tuple[bytes, bytes, bytes]],
    ) -> None:
        """delta's comparison of one pair of folders; the pairs of subfolders that differ
        go to *stack*."""
        # one folder may be in several pairs of a level (identical subtrees): a pair before
        # this one may have retired it already
        missing = [(k, prefix) for k in (ka, kb) if k not in self._raws]
        if missing:
            self._load_raws(missing)
        old, new = self._raws[ka], self._raws[kb]
        self._retire_raws(ka)
        for name, rn in new.items():
            ro = old.get(name)
            if ro == rn:
                continue  # the same entry: not decoded
            n = self._raw_entry(kb, rn, prefix)
            o = None if ro is None else self._raw_entry(ka, ro, prefix)
            path = prefix + name
            out.append((path, tuple(n)))
            sub = path + b"/"
            if o is not None and o.kind == DIR:
                if n.kind == DIR:
                    if o.ref != n.ref:
                        stack.append((o.ref, n.ref, sub))
                    continue
                out.extend((sub + p, None) for p, _ in self._vanished(o.ref, sub))
            if n.kind == DIR:
                out.extend((sub + p, tuple(e)) for p, e in self.below(n.ref, sub))
        for name, ro in old.items():
            if name not in new:
                o = self._raw_entry(ka, ro, prefix)
                path = prefix + name
                out.append((path, None))
                if o.kind == DIR:
                    sub = path + b"/"
                    out.extend((sub + p, None) for p, _ in self._vanished(o.ref, sub))

    def _vanished(self, key: bytes, prefix: bytes) -> Found:
        """below() of a folder the newer snapshot no longer holds; its trees are retired."""
        got = self.below(key, prefix)
        for k in [key, *(e.ref for _, e in got if e.kind == DIR)]:
            self._retire(k)
            self._retire_raws(k)
        return got

    def cached_delta(self, a: bytes, b: bytes) -> deltas.Delta:
        """delta(a, b), from the store's cache when it holds it (else computed and kept)."""
        if a == b:
            return deltas.Delta([], [])
        got = deltas.load(self.store, a, b)
        if got is not None:
            return got
        changes = self.delta(a, b)
        self.computed += 1
        deltas.save(self.store, a, b, changes)
        self._forget_listings()
        return deltas.Delta([p for p, _ in changes], [f for _, f in changes])

    def computed_delta(self, a: bytes, b: bytes) -> deltas.Delta:
        """delta(a, b) from the trees (for a cached delta whose entries cannot be read)."""
        changes = self.delta(a, b)
        deltas.save(self.store, a, b, changes)
        self._forget_listings()
        return deltas.Delta([p for p, _ in changes], [f for _, f in changes])

    def _forget_listings(self) -> None:
        """After a delta: the listings of added or vanished folders are not needed again."""
        self._below.clear()


# named tuples without importing typing (nor dataclasses: inspect, ast...) at run time: both
# cost every log, find and diff (fresh processes) ~15 ms
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple

    Fields = tuple[Any, ...]  # the fields of an Entry, as a plain tuple

    class Version(NamedTuple):
        snapshot: Snapshot
        status: str  # APPEARED, CHANGED, VANISHED, LEFT_OUT or UNCHANGED
        entry: Entry | None  # None: VANISHED, LEFT_OUT
        files: int  # files at the path (1 for a file), 0 when vanished
        size: int  # bytes of the file, or of everything below the folder
        why: str = ""  # LEFT_OUT: why the snapshot left it out (its skipped path's reason)
        # CHANGED, a file or folder whose mode changed: the mode it had (RED34 C4: log said
        # "changed" with nothing to tell what), and whether the mode alone changed
        mode_was: int | None = None
        mode_alone: bool = False

    class Run(NamedTuple):
        """Consecutive snapshots holding one path with the same content."""

        path: bytes
        entry: Entry
        snapshots: list[Snapshot]

else:
    Version = namedtuple(
        "Version",
        "snapshot status entry files size why mode_was mode_alone",
        defaults=("", None, False),
    )
    Run = namedtuple("Run", "path entry snapshots")


def _state(e: Entry | None, trees: Trees) -> tuple[int, int, bytes] | None:
    """What makes two versions differ, as ``diff`` sees it: kind, permissions (a folder's
    too) and content (never an mtime; a folder's: what it holds, Trees.content)."""
    if e is None:
        return None
    if e.kind == DIR:
        return (DIR, e.mode, trees.content(e.ref))
    return (e.kind, e.mode, e.ref)


def _mode_change(
    was: tuple[int, int, bytes], now: tuple[int, int, bytes] | None
) -> tuple[int | None, bool]:
    """(the mode *was* had, whether it alone changed) for a file or folder (_state) whose
    mode changed into *now*; (None, False) otherwise (a link's mode is not its own)."""
    if now is None or was[0] != now[0] or now[0] == SYMLINK or was[1] == now[1]:
        return None, False
    return was[1], was[2] == now[2]


def versions(
    store: Store,
    snaps: Iterable[Snapshot],
    path: bytes,
    damaged: list[tuple[Snapshot, str]] | None = None,
) -> list[Version]:
    """The versions of *path* across *snaps* (oldest first): only where it appeared, changed
    or vanished. With *damaged*, a snapshot in which a folder on the way to *path* (or below
    it) cannot be read is named there and passed over (the next readable one is compared with
    the last read); without, its CorruptObject is raised."""
    trees = Trees(store)
    out: list[Version] = []
    last: tuple[int, int, bytes] | None = None
    for s in snaps:
        left = bool(out) and out[-1].status == LEFT_OUT  # the last row: it was left out
        try:
            e = trees.at(s.root, path)
            if e is None and (why := left_out(s, path)) is not None:
                # not a deletion (RED30: "vanished", then "appeared"): said once, and the
                # next snapshot holding it is compared with the last one that did
                if not left:
                    out.append(Version(s, LEFT_OUT, None, 0, 0, why))
                continue
            state = _state(e, trees)
            if state == last and not left:
                continue
            files, size = (0, 0) if e is None else trees.totals(e)
        except CorruptObject as exc:
            if damaged is None:
                raise
            damaged.append((s, str(exc)))
            continue
        if e is None:
            if last is not None:  # (left out, then not there: gone since it was held)
                out.append(Version(s, VANISHED, None, 0, 0))
        elif state == last:  # held again after a run left out, as before it
            out.append(Version(s, UNCHANGED, e, files, size))
        elif last is None:
            out.append(Version(s, APPEARED, e, files, size))
        else:
            out.append(Version(s, CHANGED, e, files, size, "", *_mode_change(last, state)))
        last = state
    return out


def left_out(snap: Snapshot, path: bytes) -> str | None:
    """Why *snap* left out *path* (the path, or a folder on the way, is one of its skipped
    paths: excluded, unreadable, a cache dir), or None."""
    for p, why in snap.meta.get("skipped_paths", []):
        q = os.fsencode(str(p))
        if path == q or path.startswith(q + b"/"):
            return str(why)
    return None


def find(
    store: Store,
    snaps: Iterable[Snapshot],
    match: Match,
    by_path: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Run]:
    """The paths *match* accepts in each of *snaps* (oldest first), each path's consecutive
    snapshots with the same content grouped into one run; ordered by path, then time.

    Goes from snapshot to snapshot by their deltas (the paths whose entries changed, cached
    in the store): a path is matched when its entry changes, and its run goes on until the
    path vanishes, stops matching or changes content. *match* must give the same answer for
    the same path and content (kind, mode, ref); with *by_path*, for the same path alone
    (then it is asked once per path, with an entry holding only the name, and the entries of
    a delta are read only when one of its paths matches). *progress* is given (snapshots
    done, of all) after each snapshot whose delta had to be computed (a first search)."""
    trees = Trees(store)
    order = list(snaps)
    done: dict[bytes, list[tuple[int, int, Fields]]] = {}  # path: closed (start, end, entry)
    open_: dict[bytes, tuple[int, Fields]] = {}  # path: (start, entry) of its current run
    known: set[bytes] = set()  # by_path: the paths match was asked about
    matching: set[bytes] = set()  # ... and those it accepted
    state: dict[bytes, tuple[Any, ...]] = {}  # each path's content as last seen (_changed_folders)
    root = b""

    # by_path's entry holding only the name, made without Entry's Python __new__ (the first
    # delta names every path: 70k on M)
    new, rest = tuple.__new__, tuple(Entry(b"", 0, 0, 0, 0, b""))[1:]

    def hot_paths(d: deltas.Delta) -> set[bytes]:
        """by_path: the paths of *d* that matter (they match, or end a run)."""
        here = set(d.paths)
        for path in here.difference(known):
            if match(path, new(Entry, (path.rpartition(b"/")[2], *rest))):
                matching.add(path)
        known.update(here)
        hot = here.intersection(matching)
        if open_:
            hot.update(here.intersection(open_))
        return hot

    for i, s in enumerate(order):
        computed = trees.computed
        d = trees.cached_delta(root, s.root)
        if progress is not None and trees.computed != computed:
            progress(i + 1, len(order))
        hot = hot_paths(d) if by_path else None
        if hot is not None and not hot:  # nothing searched for changed: entries stay unread
            root = s.root
            continue
        entries = d.fields()
        if entries is None:  # a damaged cache entry: from the trees then
            d = trees.computed_delta(root, s.root)
            hot = hot_paths(d) if by_path else None
            entries = d.fields() or []
        changed = _changed_folders(d.paths, entries, state)
        for path, fields in zip(d.paths, entries):
            if hot is not None and path not in hot:
                continue
            run = open_.get(path)
            if run is not None:
                old = run[1]
                if (
                    fields is not None
                    and old[1] == fields[1]
                    and old[2] == fields[2]
                    and (old[5] == fields[5] or (fields[1] == DIR and path not in changed))
                ):
                    continue  # same content (a new mtime alone): the run goes on
                del open_[path]
                done.setdefault(path, []).append((run[0], i, old))
            if fields is None:
                continue
            if path in matching if hot is not None else match(path, Entry(*fields)):
                open_[path] = (i, fields)
        root = s.root
    for path, (start, fields) in open_.items():
        done.setdefault(path, []).append((start, len(order), fields))
    return [
        Run(path, Entry(*fields), order[start:end])
        for path in sorted(done)
        for start, end, fields in done[path]
    ]


def _changed_folders(
    paths: list[bytes], entries: list[Fields | None], state: dict[bytes, tuple[Any, ...]]
) -> set[bytes]:
    """The folders above the paths of one delta whose content changed, as diff and log see
    a folder (Trees.content: each name below it, its kind, mode and content; never an mtime,
    which its tree key covers: RED36 B-find, a touched file split every folder above it into
    one find row per snapshot). *state*: each path's (kind, mode, content) as last seen (a
    folder's content is its children's), brought up to date here."""
    out: set[bytes] = set()
    for path, fields in zip(paths, entries):
        was = state.pop(path, None)
        now = None
        if fields is not None:
            now = state[path] = (fields[1], fields[2], b"" if fields[1] == DIR else fields[5])
        if was == now:
            continue
        while (cut := path.rfind(b"/")) > 0:
            path = path[:cut]
            if path in out:
                break
            out.add(path)
    return out


def warm_deltas(store: Store, source: str, most: int = WARM_MOST) -> int:
    """Compute the deltas a find over *source* would need and does not find cached, at most
    *most* of them, newest first (the ones a find over recent history needs); returns how many.

    The watcher's worker calls this after each snapshot, off anyone's wait, so that the first
    find on a long history reads deltas instead of computing a hundred of them (15 s of CPU
    for 100 snapshots of a 62k-file tree). Without the watcher, find computes what is missing
    itself, showing progress."""
    snaps = store.snapshots(source)  # the order find goes in
    pairs = [(a.root if a else b"", s.root) for a, s in zip([None, *snaps], snaps)]
    trees = Trees(store)
    done = 0
    for a, b in reversed(pairs):
        if done >= most:
            break
        if a != b and not deltas.cached(store, a, b):
            trees.cached_delta(a, b)
            done += 1
    return done


def under(
    store: Store,
    tree: bytes,
    paths: Iterable[bytes],
    damaged: list[tuple[bytes, str]] | None = None,
) -> tuple[Found, list[bytes]]:
    """The entries at *paths* and everything below them (each once, in path order), and the
    paths *tree* does not hold. A folder whose listing is damaged raises CorruptObject; with
    *damaged*, it is named there (path, why) and left out with what is below it instead."""
    trees = Trees(store)
    found: dict[bytes, Entry] = {}
    missing: list[bytes] = []
    for path in paths:
        try:
            e = trees.at(tree, path)
        except CorruptObject as exc:  # a folder above it: nothing there can be known
            if damaged is None:
                raise
            damaged.append((path or b".", f"a folder above it is unreadable: {exc}"))
            continue
        if e is None:
            missing.append(path)
            continue
        if path:
            found[path] = e
        if e.kind == DIR:
            prefix = path + b"/" if path else b""
            note = None if damaged is None else noting(damaged)
            found.update(validate.walk(store, e.ref, prefix, damaged=note))
    return sorted(found.items()), missing


def noting(damaged: list[tuple[bytes, str]]) -> Callable[[bytes, CorruptObject], None]:
    """validate.walk's *damaged* callback that notes each unreadable folder in *damaged*."""

    def note(path: bytes, exc: CorruptObject) -> None:
        damaged.append((path or b".", f"folder listing unreadable: {exc} (and all below)"))

    return note
