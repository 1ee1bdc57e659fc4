"""How a diff walks: level by level, a level's trees read in one batch, and with a forked
child comparing half of a wide level (for :mod:`git_snapshot.store.diff`, whose folder pairs,
``_Pair`` for two snapshots and ``_Dir`` for a snapshot and the disk, say what to compare).

A node has ``items``: its changes and subfolders, in output order, once compared; a *step*
compares a batch of nodes and appends the subfolders to compare next. Trees are read through
store.validate, as restore reads them: a crafted name such as '..' never makes the
comparison look outside the directory.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable

from git_snapshot.store import forked
from git_snapshot.store import objects
from git_snapshot.store import treebytes
from git_snapshot.store import validate
from git_snapshot.store.core import Store
from git_snapshot.store.history import read_tree
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.walkfiles import special_kind

ADDED, DELETED, MODIFIED, MODE = "added", "deleted", "modified", "mode"
TYPE = "type"  # a file that is a symlink on the other side, or the other way round


# typing is not imported at run time (~4 ms of every diff, log and find, and of a hook that
# checks for losses): a named tuple from collections, not a dataclass (cheap to create at
# import: hooks.Hook)
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any
    from typing import NamedTuple
    from typing import TypeVar

    from git_snapshot.store.diff import _Dir
    from git_snapshot.store.diff import _Pair

    class Change(NamedTuple):
        path: bytes
        status: str
        old: Entry | None  # the snapshot's entry (the older side)
        new: Entry | None  # the newer snapshot's entry; None for the disk side

    _Node = TypeVar("_Node", "_Pair", "_Dir")

else:
    Change = namedtuple("Change", "path status old new")


# A diff's *damaged* list, where given, gets (path, why) for each folder whose listing cannot
# be read: it is left out with what is below it and everything else is compared (None: raised)
# set in a forked child (_child): damage there is raised, never noted (its notes would stay
# in the child); the parent then compares that child's folders itself and notes it
_IN_CHILD = False


def _note(damaged: list[tuple[bytes, str]] | None, path: bytes, why: str, exc: Exception) -> None:
    """Name a damaged folder in *damaged*, or raise *exc* (no list, or in a forked child)."""
    if damaged is None or _IN_CHILD:
        raise exc
    damaged.append((path.rstrip(b"/") or b".", why))


def _unread(unread: list[tuple[bytes, str]] | None, path: bytes, exc: OSError) -> None:
    """Name a path on disk that cannot be listed or lstat'ed by its path (no permission, past
    PATH_MAX) in *unread*: what is there was not compared. Without a list, nothing (the loss
    check calls lost only what it sees gone); in a forked child, raised, as damage is (the
    parent then compares that child's folders itself, and names it)."""
    if unread is None:
        return
    if _IN_CHILD:
        raise exc
    unread.append((path.rstrip(b"/") or b".", exc.strerror or str(exc)))


def _special(unread: list[tuple[bytes, str]] | None, path: bytes, mode: int) -> None:
    """Name in *unread* a FIFO, socket or device on disk (RED32 B8): no snapshot holds one,
    so where the snapshot holds an entry the diff says D, and where it holds none, nothing;
    either way it is named (a snapshot names it skipped). In a forked child, raised, as
    _unread does (the parent compares that child's folders itself). Its kind in the
    walker's words (safety.HOLD_NOTHING lists them)."""
    _unread(unread, path, OSError(0, special_kind(mode)))


def _below(
    store: Store,
    e: Entry,
    rel: bytes,
    status: str,
    newer: bool = False,
    damaged: list[tuple[bytes, str]] | None = None,
) -> list[Change]:
    """One change for *e* and for everything under it (a folder below it whose listing is
    unreadable: noted in *damaged*, see _note)."""
    out = [Change(rel, status, None if newer else e, e if newer else None)]
    if e.kind == DIR:

        def note(path: bytes, exc: CorruptObject) -> None:
            _note(damaged, path, f"folder listing unreadable: {exc} (and all below)", exc)

        for sub, child in validate.walk(store, e.ref, rel + b"/", damaged=note):
            out.append(Change(sub, status, None if newer else child, child if newer else None))
    return out


LEVEL = 2048  # folder pairs whose trees are read in one batch
SHARE_AT = 64  # folders in one level from which a second process takes half (split=True)


def _load(
    store: Store, keys: list[bytes], damaged: list[tuple[bytes, str]] | None
) -> tuple[dict[bytes, bytes], dict[bytes, CorruptObject]]:
    """(the stored bytes of the trees *keys*, the damage of those that cannot be read);
    with no *damaged* list (or in a forked child) the first damage raises."""
    try:
        return treebytes.load(store, keys), {}
    except CorruptObject:
        if damaged is None or _IN_CHILD:
            raise
    raws: dict[bytes, bytes] = {}
    bad: dict[bytes, CorruptObject] = {}
    for key in dict.fromkeys(keys):  # one at a time: which of them is damaged
        try:
            raws.update(treebytes.load(store, [key]))
        except CorruptObject as exc:
            bad[key] = exc
    return raws, bad


# Renders a run of changes, in output order, as one text; the texts of consecutive runs,
# joined by the caller's separator, must be the text of the whole run (diff --json: each
# change's object, ",\n" between them). A forked child sends its folders' text, not records.
Render = Callable[[list[Change]], str]


def _changes(
    store: Store, top: _Node, step: Callable[[list[_Node], list[_Node]], None], split: bool
) -> list[Change]:
    other = _levels(store, [top], step, split)
    if other is not None:
        try:
            other.take(store, step)
        finally:
            other.close()
    return _flatten(top)


def _texts(
    store: Store,
    top: _Node,
    step: Callable[[list[_Node], list[_Node]], None],
    split: bool,
    render: Render,
    tally: dict[str, int] | None = None,
) -> list[str]:
    """The changes below *top* as the non-empty texts of runs of them, in output order (see
    Render). This process renders its own folders' changes while a child renders its own.
    *tally*: see diff_trees_text (the child counts its own changes)."""
    other = _levels(store, [top], step, split, render, tally is not None)
    try:
        theirs = {} if other is None else {id(n): i for i, n in enumerate(other.nodes)}
        pieces: list[str | int] = []  # texts, and the child's folders by their number
        run: list[Change] = []
        for item in _flatten_stopping(top, theirs):
            if isinstance(item, Change):
                run.append(item)
                continue
            if run:
                pieces.append(render(run))
                _count(run, tally)
                run = []
            pieces.append(theirs[id(item)])
        if run:
            pieces.append(render(run))
            _count(run, tally)
        if other is None:
            return [p for p in pieces if isinstance(p, str)]
        texts = other.take(store, step, render, tally)
    finally:
        if other is not None:
            other.close()
    return [t for t in (p if isinstance(p, str) else texts[p] for p in pieces) if t]


def _count(changes: list[Change], tally: dict[str, int] | None) -> None:
    """Add the number of *changes* of each status to *tally* (None: not counted)."""
    if tally is not None:
        for c in changes:
            tally[c.status] = tally.get(c.status, 0) + 1


def _levels(
    store: Store,
    level: list[_Node],
    step: Callable[[list[_Node], list[_Node]], None],
    split: bool,
    render: Render | None = None,
    counted: bool = False,
) -> _Other | None:
    """Compare the folders of *level* and, level by level, the subfolders *step* finds.

    With *split*, once a level holds SHARE_AT folders, a forked child compares every other
    one of them, and everything below it, while this process does the rest; returned (the
    caller takes its answer, then closes it), None without one. The child sends back each
    folder's changes in output order, which then stand in for its items (with *render*:
    their text, and with *counted* the number of its changes of each status). The child's
    answer only saves time: a child that dies, fails (a damaged
    object: this process reads it again and records the damage) or cannot be started
    leaves its folders to this process, which compares them as it would have."""
    other: _Other | None = None
    try:
        while level:
            if split and other is None and len(level) >= SHARE_AT:
                level, other = _share(store, level, step, render, counted)
            nxt: list[_Node] = []
            for i in range(0, len(level), LEVEL):
                step(level[i : i + LEVEL], nxt)
            level = nxt
    except BaseException:
        if other is not None:
            other.close()
        raise
    return other


class _Other:
    """The forked child comparing *nodes* (store/forked.py)."""

    def __init__(self, child: forked.Child, nodes: list[Any]) -> None:
        self.child = child
        self.nodes: list[Any] = nodes  # _Pair or _Dir

    def take(
        self,
        store: Store,
        step: Callable[[list[_Node], list[_Node]], None],
        render: Render | None = None,
        tally: dict[str, int] | None = None,
    ) -> list[str]:
        """The child's answer, in its folders' items; with *render*, their texts (one per
        folder, "" for none), the folders compared here when the child did not answer, and
        their changes counted in *tally* (see _texts)."""
        data = self.child.read_all()
        if render is not None:
            answer = _answer_texts(data, len(self.nodes))
            if answer is None:
                _levels(store, list(self.nodes), step, False)
                texts = []
                for run in map(_flatten, self.nodes):
                    texts.append(render(run) if run else "")
                    _count(run, tally)
                return texts
            texts, counts = answer
            if tally is not None:
                for status, n in counts.items():
                    tally[status] = tally.get(status, 0) + n
            return texts
        got = _answer(data, len(self.nodes))
        if got is None:  # no answer: compared here
            _levels(store, list(self.nodes), step, False)
            return []
        new = tuple.__new__
        for node, changes in zip(self.nodes, got):
            node.items = [
                new(
                    Change,
                    (
                        path,
                        status,
                        None if old is None else new(Entry, old),
                        None if fresh is None else new(Entry, fresh),
                    ),
                )
                for path, status, old, fresh in changes
            ]
        return []

    def close(self) -> None:
        self.child.stop()


def _answer(data: bytes, nodes: int) -> list[list[tuple[Any, ...]]] | None:
    """The child's answer: per folder, its changes as (path, status, old, new) with the
    entries as plain tuples; None unless whole and well formed."""
    import marshal

    try:
        got = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(got, list) or len(got) != nodes:
        return None
    for changes in got:
        if not isinstance(changes, list):
            return None
        for c in changes:
            if not (
                isinstance(c, tuple)
                and len(c) == 4
                and isinstance(c[0], bytes)
                and c[1] in _STATUSES
                and all(e is None or (isinstance(e, tuple) and len(e) == 8) for e in c[2:])
            ):
                return None
    return got


def _answer_texts(data: bytes, nodes: int) -> tuple[list[str], dict[str, int]] | None:
    """The child's answer with a Render: per folder, its changes' text, and the number of
    its changes of each status (empty when not counted); None unless whole and well
    formed."""
    import marshal

    try:
        got = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(got, tuple) and len(got) == 2):
        return None
    texts, counts = got
    if not (isinstance(texts, list) and len(texts) == nodes and isinstance(counts, dict)):
        return None
    if not all(isinstance(t, str) for t in texts):
        return None
    if not all(s in _STATUSES and type(n) is int and n >= 0 for s, n in counts.items()):
        return None
    return texts, counts


_STATUSES = frozenset({ADDED, DELETED, MODIFIED, MODE, TYPE})


def _share(
    store: Store,
    level: list[_Node],
    step: Callable[[list[_Node], list[_Node]], None],
    render: Render | None,
    counted: bool,
) -> tuple[list[_Node], _Other | None]:
    """(the folders of *level* left to this process, the child comparing the others), or
    (*level*, None) when no child can be had: no idle core (a second process costs about
    a sixth more CPU in all: on a busy machine it only slows the answer), another thread,
    no fork, no pipe (store/forked.py)."""
    if not forked.possible() or not forked.idle_core():
        return level, None
    theirs = level[1::2]
    child = forked.start(lambda w: _child(store, theirs, step, w, render, counted))
    if child is None:
        return level, None
    return level[0::2], _Other(child, theirs)


def _child(
    store: Store,
    nodes: list[_Node],
    step: Callable[[list[_Node], list[_Node]], None],
    w: int,
    render: Render | None,
    counted: bool = False,
) -> None:
    """Compare *nodes* and write their changes to *w* (marshal; with *render*, each
    folder's text and, with *counted*, the number of changes of each status; None:
    failed). The parent's SQLite connection is never used here (not
    across a fork): the index is read through a read-only connection of the child's own,
    which can record nothing (damage is recorded by the parent, which reads what failed
    here again)."""
    import marshal

    global _IN_CHILD
    _IN_CHILD = True  # (a forked copy of this module: the parent's stays False)
    try:
        import sqlite3

        uri = f"file:{uri_path(store.index.path)}?mode=ro"
        store.index.db = sqlite3.connect(uri, uri=True, isolation_level=None)
        # its pages read through a mapping, not a pread each (the tree lookups: ~8 -> 6 us)
        store.index.db.execute(f"PRAGMA mmap_size={INDEX_MAP}")
        _levels(store, nodes, step, False)
        if render is not None:
            texts: list[str] = []
            tally: dict[str, int] | None = {} if counted else None
            for changes in map(_flatten, nodes):
                texts.append(render(changes) if changes else "")
                _count(changes, tally)
            data = marshal.dumps((texts, tally or {}))
        else:
            data = marshal.dumps(
                [
                    [
                        (
                            c.path,
                            c.status,
                            None if c.old is None else tuple(c.old),
                            None if c.new is None else tuple(c.new),
                        )
                        for c in _flatten(node)
                    ]
                    for node in nodes
                ]
            )
    except BaseException:
        data = marshal.dumps(None)
    forked.write_all(w, data)


INDEX_MAP = 1 << 30  # the most of the index a diff's child maps (SQLite's mmap_size)
_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def uri_path(path: str) -> str:
    """*path* as SQLite's URI takes it: ``urllib.parse.quote`` of its bytes, without the
    import (5-9 ms at the start of the child, often the last to finish)."""
    return "".join([chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in os.fsencode(path)])


def _listing(
    store: Store,
    key: bytes,
    raws: dict[bytes, bytes],
    bad: dict[bytes, CorruptObject],
    rel: bytes,
) -> dict[bytes, bytes]:
    """_split of the tree *key* read in *raws*; its damage raised (from *bad*, or found by
    the split)."""
    exc = bad.get(key)
    if exc is not None:
        raise exc
    return _split(store, key, raws[key], rel)


def _split(store: Store, key: bytes, data: bytes, rel: bytes) -> dict[bytes, bytes]:
    got = treebytes.split(data)
    if got is None:  # read the checked way: raises what is wrong (CorruptObject, UnsafeTree)
        got = {
            e.name: objects.encode_tree([e])[len(objects.TREE_MAGIC) :]
            for e in read_tree(store, key, rel)
        }
    return got


def _entry(store: Store, key: bytes, raw: bytes, rel: bytes) -> Entry:
    e = treebytes.entry(raw)
    if e is None:  # validate looks closer: an empty or long link target, a bad kind or mode
        e = objects.decode_tree(objects.TREE_MAGIC + raw)[0]
        problem = validate.entry_problem(e)
        if problem is not None:
            read_tree(store, key, rel)  # names the tree's first problem
            raise validate.UnsafeTree(rel + e.name, problem)
    return e


def _flatten(top: _Pair | _Dir) -> list[Change]:
    """The changes below *top*, in output order."""
    return _flatten_stopping(top, {})  # type: ignore[return-value]  # no folder stops


def _flatten_stopping(top: _Pair | _Dir, stop: dict[int, int]) -> list[Change | _Pair | _Dir]:
    """The changes below *top*, in output order; a folder in *stop* (by id) stands for its
    changes, not looked into."""
    out: list[Change | _Pair | _Dir] = []
    stack = [iter(top.items)]
    while stack:  # no call stack: depth is no limit
        for item in stack[-1]:
            if not isinstance(item, Change):
                if stop and id(item) in stop:
                    out.append(item)
                    continue
                stack.append(iter(item.items))
                break
            out.append(item)
        else:
            stack.pop()
    return out
