"""A path across snapshots: its versions (``log``), the paths matching a pattern (``find``).

Fast on big stores because trees are content addressed: an unchanged folder has the same key
in every snapshot, so everything here is memoized by tree key. Looking a path up reads only
the trees on its way down, and only those not already seen; a search reads each distinct
tree once, however many snapshots hold it. Trees are read through store.validate, as restore
reads them. Knows nothing of git.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass

from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import Entry

APPEARED, CHANGED, VANISHED = "appeared", "changed", "vanished"

Match = Callable[[bytes, Entry], bool]
Found = list[tuple[bytes, Entry]]


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
        self._found: dict[tuple[bytes, bytes], Found] = {}

    def entries(self, key: bytes, rel: bytes = b"") -> dict[bytes, Entry]:
        got = self._entries.get(key)
        if got is None:
            got = {e.name: e for e in validate.read_tree(self.store, key, rel)}
            self._entries[key] = got
        return got

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
        """(files, bytes) of an entry: a file's own, everything below a folder."""
        if e.kind != DIR:
            return (1, e.size) if e.kind == FILE else (0, 0)
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
                f, s = self._totals[c.ref] if c.kind == DIR else self.totals(c)
                files, size = files + f, size + s
            self._totals[key] = (files, size)
        return self._totals[e.ref]

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


@dataclass(frozen=True)
class Version:
    snapshot: Snapshot
    status: str  # APPEARED, CHANGED or VANISHED
    entry: Entry | None  # None: VANISHED
    files: int  # files at the path (1 for a file), 0 when vanished
    size: int  # bytes of the file, or of everything below the folder


def _state(e: Entry | None) -> tuple[int, int, bytes] | None:
    """What makes two versions differ: kind, permissions and content (never the mtime of a
    file alone; a folder's key changes with anything below it)."""
    return None if e is None else (e.kind, e.mode, e.ref)


def versions(store: Store, snaps: Iterable[Snapshot], path: bytes) -> list[Version]:
    """The versions of *path* across *snaps* (oldest first): only where it appeared, changed
    or vanished."""
    trees = Trees(store)
    out: list[Version] = []
    last: tuple[int, int, bytes] | None = None
    for s in snaps:
        e = trees.at(s.root, path)
        state = _state(e)
        if state == last:
            continue
        if e is None:
            out.append(Version(s, VANISHED, None, 0, 0))
        else:
            files, size = trees.totals(e)
            out.append(Version(s, APPEARED if last is None else CHANGED, e, files, size))
        last = state
    return out


def newest_holding(store: Store, snaps: list[Snapshot], path: bytes) -> Snapshot | None:
    """The newest of *snaps* that holds *path*."""
    trees = Trees(store)
    for s in reversed(snaps):
        if trees.at(s.root, path) is not None:
            return s
    return None


@dataclass(frozen=True)
class Run:
    """Consecutive snapshots holding one path with the same content."""

    path: bytes
    entry: Entry
    snapshots: list[Snapshot]


def find(store: Store, snaps: Iterable[Snapshot], match: Match) -> list[Run]:
    """The paths *match* accepts in each of *snaps* (oldest first), each path's consecutive
    snapshots with the same content grouped into one run; ordered by path, then time."""
    trees = Trees(store)
    runs: dict[bytes, list[Run]] = {}
    previous: set[bytes] = set()
    for s in snaps:
        here: set[bytes] = set()
        for path, e in trees.find(s.root, match):
            here.add(path)
            mine = runs.setdefault(path, [])
            last = mine[-1] if mine else None
            if last is not None and path in previous and _state(last.entry) == _state(e):
                last.snapshots.append(s)
            else:
                mine.append(Run(path, e, [s]))
        previous = here
    return [r for path in sorted(runs) for r in runs[path]]


def under(store: Store, tree: bytes, paths: Iterable[bytes]) -> tuple[Found, list[bytes]]:
    """The entries at *paths* and everything below them (each once, in path order), and the
    paths *tree* does not hold."""
    trees = Trees(store)
    found: dict[bytes, Entry] = {}
    missing: list[bytes] = []
    for path in paths:
        e = trees.at(tree, path)
        if e is None:
            missing.append(path)
            continue
        if path:
            found[path] = e
        if e.kind == DIR:
            found.update(validate.walk(store, e.ref, path + b"/" if path else b""))
    return sorted(found.items()), missing
