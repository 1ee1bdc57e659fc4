"""Losses seen as they happen: a burst of deletions or overwrites becomes a loss entry.

The daemon feeds every deletion and overwrite it sees to a :class:`BurstDetector` per
worktree. A burst starts when ``threshold_files`` of them (git config ``snapshot.burstFiles``,
100) fall within ``window_s`` seconds (``snapshot.burstSeconds``, 5), or when a whole folder
is deleted, and lasts until ``window_s`` pass without another. The daemon then calls
:func:`record` with the watcher's last snapshot before the burst: what that snapshot holds and
the worktree no longer does (and git cannot give back) is appended to the worktree's loss log
(``git snapshot losses``, ``git snapshot undo``), printed once by the next git-snapshot
command or hook there ("earlier, at 10:42: ..."), and shown as a desktop notification
where ``notify-send`` exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

from git_snapshot.watch import dirtyset

DELETE, OVERWRITE, DELETE_DIR = "delete", "overwrite", "delete_dir"
# a file deleted (or moved away) after it was written since the last snapshot began: the
# snapshot before the burst holds an earlier version of it at most
EDITED = "delete_edited"
# a file overwritten in a second write session since the last snapshot began (edited, then
# overwritten): what went is the edit, which no snapshot holds; the snapshot before it holds
# an earlier version at most
OVERWRITE_EDITED = "overwrite_edited"
# a file overwritten again after a newer snapshot began (the watcher feeds a plain overwrite
# only for a file's first write since a snapshot began): that newer snapshot, the last before
# this overwrite, holds what it destroyed, not the one before the burst
OVERWRITE_AGAIN = "overwrite_again"
OVERWRITES = (OVERWRITE, OVERWRITE_EDITED, OVERWRITE_AGAIN)
EARLIER = (EDITED, OVERWRITE_EDITED)  # kinds whose saved copy may be older than what went
_DELETES = (DELETE, DELETE_DIR, EDITED)
DEFAULT_FILES = 100
DEFAULT_SECONDS = 5.0
# how long a rename is kept for the bursts that follow (settle_moves): a folder renamed, then
# its new place deleted before a snapshot saw it there, lost what a snapshot holds under its
# old name
MOVES_KEPT_S = 60.0


@dataclass(frozen=True)
class Burst:
    paths: tuple[str, ...]  # absolute, in the order seen
    started: float
    ended: float
    kinds: Mapping[str, str] = field(default_factory=dict)  # path -> delete/overwrite/delete_dir
    times: Mapping[str, float] = field(default_factory=dict)  # path -> when it was first seen
    # the kernel's queue overflowed during it: events were dropped, so paths may be missing
    lost_events: bool = False
    # its snapshot may hold an earlier version of each path at most (taken from the snapshot
    # before one whose walk may have met the burst's own writes: unsettled)
    earlier: bool = False
    # files (relative to the worktree) another part of the same burst names from a newer
    # snapshot, left out of this one's entry; and, when not None, the only files it names
    elsewhere: frozenset[bytes] = frozenset()
    only: frozenset[bytes] | None = None
    # renames inside the worktree (inotify's MOVED_FROM and MOVED_TO, paired by their
    # cookie), oldest first: (old path, new path, when); read by settle_moves only
    moves: tuple[tuple[str, str, float], ...] = ()

    def parts(self, before: Callable[[float], Any]) -> list[tuple[Any, Burst]]:
        """The burst split by the snapshot that holds what each path lost: *before(t)* is
        the last snapshot whose walk ended before *t*. A deletion is matched by its own
        time (times: a path deleted is timed by its deletion, _seen): a burst of edits
        saved by a watch snapshot, then deleted within the window (`git reset --hard`, an
        rm), lost what that snapshot holds, not the one before the burst (RED31 D1, D3).
        A file overwritten earlier (before a snapshot taken in the middle of the burst,
        which holds the new content) has its older content in the snapshot before its own
        overwrite, unless its event was read before the walk of the snapshot before the
        burst's first deletion began: that one holds what it wrote, a write saved before
        the burst began (a user's save, then an rm -rf), no loss of it (RED34 A4). (A
        deletion read late, after a snapshot whose walk no longer found the file:
        unsettled() takes it from the one before.)"""
        from git_snapshot.store.walker import walk_began

        main = before(self.started)
        walked = walk_began(main) if main is not None else None
        groups: dict[int, tuple[Any, list[str]]] = {}
        for p in self.paths:
            t = self.times.get(p, self.started)
            kind = self.kinds.get(p)
            if kind in _DELETES:
                snap = before(t)
            elif main is None or (t >= main.created and kind != OVERWRITE_AGAIN):
                snap = main
            elif kind == OVERWRITE and walked is not None and t < walked:
                # written before the burst began, its event read before *main*'s walk began:
                # main holds what it wrote (a write after main began is fed again:
                # OVERWRITE_AGAIN). A user's save the watcher kept, then an rm -rf: the
                # save is no loss of the rm -rf (RED34 A4); named only if the disk differs
                snap = main
            else:
                snap = before(t)
            if snap is None:
                continue
            groups.setdefault(snap.id, (snap, []))[1].append(p)
        out = []
        for snap, paths in groups.values():
            started = min(self.times.get(p, self.started) for p in paths)
            kinds = {p: self.kinds[p] for p in paths if p in self.kinds}
            times = {p: self.times[p] for p in paths if p in self.times}
            burst = Burst(tuple(paths), started, self.ended, kinds, times, self.lost_events)
            out.append((snap, burst))
        return out


class BurstDetector:
    """Deletions and overwrites in, bursts out (see the module's docstring)."""

    def __init__(
        self, threshold_files: int = DEFAULT_FILES, window_s: float = DEFAULT_SECONDS
    ) -> None:
        self.threshold = max(1, threshold_files)
        self.window = window_s
        # (when, wall time, path, kind): *when* on the daemon's clock (monotonic: the
        # windows), the wall time for the record (matched against snapshots' times)
        self.recent: deque[tuple[float, float, str, str]] = deque()
        self.open: dict[str, str] | None = None  # the burst under way: path -> kind
        self.times: dict[str, float] = {}  # its paths: when each was first seen (wall)
        self.started = 0.0  # (wall)
        self.started_at = self.last = self.last_wall = 0.0  # (the daemon's clock; wall)
        self.done: list[Burst] = []
        self.overflow_at = -1e18  # when the kernel's queue last overflowed
        self.lost = False  # the open burst lost events
        # renames inside the worktree: (old path, new path, wall time, the daemon's clock);
        # kept MOVES_KEPT_S, and while a burst is open (settle_moves)
        self.moves: deque[tuple[str, str, float, float]] = deque()

    def feed(self, now: float, path: str, kind: str, wall: float | None = None) -> None:
        """*path* deleted or overwritten (*kind*), seen at *now* on the daemon's clock
        (monotonic: a wall clock stepping back must not hold a burst open, RED31 D5) and
        at *wall* (the time recorded, matched against snapshots'; *now* when not given)."""
        wall = now if wall is None else wall
        if self.open is not None:
            if now - self.last <= self.window:
                _seen(self.open, self.times, path, kind, wall)
                self.last, self.last_wall = now, wall
                return
            self._close()
        self._forget_moves(now)
        self.recent.append((now, wall, path, kind))
        while self.recent and now - self.recent[0][0] > self.window:
            self.recent.popleft()
        if len(self.recent) >= self.threshold or kind == DELETE_DIR:
            self.open, self.times = {}, {}
            for _, w, p, k in self.recent:
                _seen(self.open, self.times, p, k, w)
            # it starts at its first deletion, if any: files written just before (a tool
            # writing them, an editor saving) are often seen as overwritten, and a snapshot
            # taken between them and an rm -rf holds what the rm -rf deleted; the burst must
            # be recorded against that one (a test saw "nothing lost" for a real rm -rf)
            deleted = [(t, w) for t, w, _, k in self.recent if k not in OVERWRITES]
            self.started_at, self.started = deleted[0] if deleted else self.recent[0][:2]
            self.last, self.last_wall = now, wall
            self.recent.clear()
            # events dropped just before it opened may have been its own first deletions
            self.lost = self.started_at - self.overflow_at <= self.window

    def moved(self, now: float, old: str, new: str, wall: float | None = None) -> None:
        """*old* was renamed to *new*, inside the worktree (the watcher fed *old* as deleted
        first: a rename out of the worktree is one, and only the pair says it is not)."""
        self.moves.append((old, new, now if wall is None else wall, now))
        self._forget_moves(now)

    def _forget_moves(self, now: float) -> None:
        if self.open is None:
            while self.moves and now - self.moves[0][3] > max(MOVES_KEPT_S, self.window):
                self.moves.popleft()

    def overflowed(self, now: float) -> None:
        """The kernel dropped events (a queue overflow): the burst under way, or one opening
        within the window, may miss paths; its entry says so."""
        self.overflow_at = now
        if self.open is not None:
            self.lost = True

    def active(self) -> bool:
        """A burst is under way (the daemon may hold back its next snapshot until it ends:
        the one before it is what holds the lost files)."""
        return self.open is not None

    def take(self, now: float) -> list[Burst]:
        """The bursts that have ended (no deletion or overwrite for ``window_s``)."""
        if self.open is not None and now - self.last > self.window:
            self._close()
        out, self.done = self.done, []
        return out

    def _close(self) -> None:
        assert self.open is not None
        self.done.append(
            Burst(
                tuple(self.open),
                self.started,
                self.last_wall,
                dict(self.open),
                self.times,
                self.lost,
                moves=tuple(m[:3] for m in self.moves),
            )
        )
        self.open = None
        self.times = {}
        self.lost = False


def _seen(kinds: dict[str, str], times: dict[str, float], path: str, kind: str, now: float) -> None:
    """*path* fed to a burst as *kind* at *now*: its kind is the last one, its time the first,
    except for a plain overwrite fed again, and a deletion of a path overwritten before. The
    watcher feeds a plain overwrite only for a file's first write since a snapshot began, so
    a second one comes after a newer snapshot, which holds what this overwrite destroyed
    (matched by its first time, it went to the snapshot before, a version older than what
    went, said to be exact). A path overwritten, then deleted, is timed by its deletion:
    what went is what the last snapshot before the deletion holds (a watch snapshot taken
    between the two holds the overwrite's content: RED31 D1). A path deleted again (made
    again in between) likewise: what went is what the last snapshot before its last deletion
    holds (a symlink replaced by a folder, saved, then rm -rf: the folder, RED34 A4)."""
    if kind == OVERWRITE and path in kinds:
        kinds[path], times[path] = OVERWRITE_AGAIN, now
        return
    if kind in _DELETES and path in kinds:
        kinds[path], times[path] = kind, now
        return
    kinds[path] = kind
    times.setdefault(path, now)


def from_config(worktree: str) -> BurstDetector:
    """A detector with the worktree's ``snapshot.burstFiles`` and ``snapshot.burstSeconds``."""
    from git_snapshot import gitrepo
    from git_snapshot.errors import UserError

    files, seconds = DEFAULT_FILES, DEFAULT_SECONDS
    with contextlib.suppress(UserError, OSError, ValueError):
        repo = gitrepo.find_repo(worktree)
        cfg = gitrepo.config(repo)
        ints = gitrepo.typed_config(repo, "int", ("snapshot.burstFiles",), cfg)
        if "snapshot.burstFiles" in ints:
            files = max(1, int(ints["snapshot.burstFiles"]))
        raw = cfg.get("snapshot.burstseconds")
        if raw:
            seconds = max(0.1, float(raw[-1]))
    return BurstDetector(files, seconds)


# ------------------------------------------------------------- snapshots that met the burst


def unsettled(
    store: Any, parts: list[tuple[Any, Burst]], before: Callable[[float], Any]
) -> list[tuple[Any, Burst]]:
    """*parts* (Burst.parts) with the paths whose destroyed version a part's snapshot may
    not hold taken from the snapshot before it (*before(t)*: the last one created before
    *t*), in a part of their own that says "an earlier version". The daemon stamps an event
    with the time it reads it: a write read only after a snapshot was committed, made while
    (or shortly before) that snapshot's walk ran, puts the burst against that snapshot,
    which may hold the writer's output, not the user's version. Which paths: a file
    written over whose ctime now is before the snapshot's commit (its last write was made
    before it, and read late) and whose copy there is what the disk holds now (the walk
    read it after that write); a deleted path the snapshot lacks whose deepest folder there
    changed while it was walked (the walk's record, the snapshot's meta ``unsettled``,
    docs/FORMAT.md; a snapshot without it, of an older version: no deleted path)."""
    out: list[tuple[Any, Burst]] = []
    todo = list(parts)
    while todo:
        snap, burst = todo.pop(0)
        moved = _raced(store, burst, snap) if burst.only is None else set()
        older = before(snap.created) if moved else None
        if older is None or older.created >= snap.created:
            out.append((snap, burst))
            continue
        kept = [p for p in burst.paths if p not in moved]
        if kept:
            out.append((snap, _only(burst, kept, burst.earlier)))
        part = _only(burst, [p for p in burst.paths if p in moved], True)
        # its entry names what a deleted folder held (record: _widen); what this snapshot
        # holds of that is named from this one, the newest holding it, never again from the
        # older one as "an earlier version" (a file made in a folder since this snapshot,
        # then rm -rf: two entries for one file, and undo put the older one back last)
        held = _named_from(store, snap, part.paths) - burst.elsewhere
        own = held - _named_from(store, snap, kept) if kept else held
        if own:  # (not named by the part kept: its events did not reach that far)
            out.append((snap, replace(_only(burst, list(part.paths), burst.earlier), only=own)))
        todo.append((older, replace(part, elsewhere=part.elsewhere | held)))
    return out


def _named_from(store: Any, snap: Any, paths: Any) -> frozenset[bytes]:
    """What record() names from *snap* for a part of *paths* (absolute) before its checks:
    what *snap* holds there and the disk no longer does, a deleted folder whole."""
    top = os.fsencode(snap.worktree)
    bases = dirtyset.worktree_bases(snap.worktree)
    rels = {r for p in paths if (r := dirtyset.rel_path(bases, p))}
    if not rels:
        return frozenset()
    return frozenset(rel for rel, _, _ in _lost_below(store, snap.root, top, rels))


def _only(burst: Burst, paths: list[str], earlier: bool) -> Burst:
    """*burst* narrowed to *paths*."""
    return Burst(
        tuple(paths),
        min(burst.times.get(p, burst.started) for p in paths),
        burst.ended,
        {p: burst.kinds[p] for p in paths if p in burst.kinds},
        {p: burst.times[p] for p in paths if p in burst.times},
        burst.lost_events,
        earlier,
        burst.elsewhere,
    )


def _raced(store: Any, burst: Burst, snap: Any) -> set[str]:
    """The paths of *burst* whose destroyed version *snap* may lack (see :func:`unsettled`)."""
    from git_snapshot.store.diff import lost

    meta = snap.meta.get("unsettled") if isinstance(snap.meta, dict) else None
    dirs: set[bytes] | None = set()  # (a snapshot without the meta: no deletion taken)
    if isinstance(meta, dict):
        dirs = None if meta.get("all") else {os.fsencode(d) for d in meta.get("dirs") or []}
    until = float(snap.created)
    top = os.fsencode(snap.worktree)
    bases = dirtyset.worktree_bases(snap.worktree)
    written: dict[bytes, str] = {}  # rel -> path: written over within the walk's window
    gone: dict[bytes, str] = {}  # not on disk now
    for p in burst.paths:
        rel = dirtyset.rel_path(bases, p)
        if not rel or rel in burst.elsewhere:  # (named from a newer snapshot: newer())
            continue
        try:
            st = os.lstat(p)
        except OSError:
            gone[rel] = p
            continue
        if (
            burst.kinds.get(p) in OVERWRITES
            and st.st_ctime_ns / 1e9 <= until
            and burst.times.get(p, burst.started) >= until
        ):
            # last written before the snapshot's commit, its event read after: read late
            # (an event read before it, Burst.parts' write saved by its snapshot: not late)
            written[rel] = p
    if gone and not burst.earlier:
        # a part's events were all read after its snapshot's commit: a deletion it lacks
        # may have been made before its walk, however long before (a daemon held, a
        # prepared tree read before the walk began), so its folder's stat settled: the
        # snapshot before holds what went, if any does ("an earlier version": the path may
        # have been made again since, and its later content is in no snapshot). (A part
        # taken from a newer one already: only where that one's walk was unsettled.)
        dirs = None
    if dirs is not None and not dirs:
        gone = {}  # no folder changed while it was walked
    if not written and not gone:
        return set()
    held = {rel for rel, _, _ in lost(store, snap.root, top, sorted(written))} if written else set()
    out = {p for rel, p in written.items() if rel not in held}  # its copy is the disk's now
    trees: dict[bytes, dict[bytes, Any]] = {}
    for rel, p in gone.items():
        if dirs is not None and not any(f in dirs for f in _above(rel)):
            continue  # (no tree read: no folder on its way is unsettled)
        folder = _deepest(store, snap.root, rel, trees)
        if folder is not None and (dirs is None or folder in dirs):
            out.add(p)
    return out


def _above(rel: bytes) -> list[bytes]:
    """The folders *rel* lies in, the top one (b"") first."""
    parts = rel.split(b"/")
    return [b"/".join(parts[:i]) for i in range(len(parts))]


def newer(
    store: Any, parts: list[tuple[Any, Burst]], after: Callable[[float], list[Any]]
) -> list[tuple[Any, Burst]]:
    """*parts* with what a newer snapshot tells of each path. A part's snapshot is the last
    committed before the burst began; a snapshot whose walk began before an event was read
    (during the burst: a hook's, or a walk under way as the tool started) read the file
    before or after the write. Each event read after such a walk began (walker.walk_began)
    is checked against the last such snapshot
    (*after(t)*: the snapshots created after *t*, oldest first): what it holds and the disk
    no longer does, in another version than the part's snapshot's or where that one has
    none (an edit since, a file made since: read before the write), is named from it, in a
    part of its own; a path it holds as the disk does (read after the write) keeps the
    part's snapshot, as "an earlier version" (the daemon forgets the writes it saw once a
    snapshot begins, so an edit made before that one began, which the write destroyed, is
    in no snapshot)."""
    from git_snapshot.store.walker import walk_began

    out: list[tuple[Any, Burst]] = []
    for snap, burst in parts:
        later = [] if burst.earlier or burst.only is not None else after(snap.created)
        starts = [(s, walk_began(s)) for s in later]
        groups: dict[int, tuple[Any, list[str]]] = {}
        for p in burst.paths:
            t = burst.times.get(p, burst.started)
            met = [s for s, start in starts if start is not None and start <= t]
            if met:
                groups.setdefault(met[-1].id, (met[-1], []))[1].append(p)
        moved: set[bytes] = set()
        extra: list[tuple[Any, Burst]] = []
        unheld: set[str] = set()
        for newer_snap, paths in groups.values():
            found, same = _newer_files(store, snap, newer_snap, paths)
            found -= moved
            unheld |= same
            if found:
                moved |= found
                part = _only(burst, paths, False)
                extra.append((newer_snap, replace(part, only=frozenset(found))))
        if moved:
            burst = replace(burst, elsewhere=burst.elsewhere | moved)
        rest = [p for p in burst.paths if p not in unheld]
        if rest:
            out.append((snap, burst if not unheld else _only(burst, rest, burst.earlier)))
        if unheld:
            out.append((snap, _only(burst, [p for p in burst.paths if p in unheld], True)))
        out.extend(extra)
    return out


def _newer_files(
    store: Any, snap: Any, newer_snap: Any, paths: list[str]
) -> tuple[set[bytes], set[str]]:
    """The files below *paths* that *newer_snap* holds, the disk no longer does, and *snap*
    holds in another version or not at all (relative to the worktree); and the *paths*
    below which *newer_snap* holds what the disk holds (nothing of them lost from it)."""
    from git_snapshot.store.diff import lost

    top = os.fsencode(newer_snap.worktree)
    bases = dirtyset.worktree_bases(newer_snap.worktree)
    rels = {p: r for p in paths if (r := dirtyset.rel_path(bases, p))}
    if not rels:
        return set(), set()
    there = {p: e for p, e, _ in lost(store, newer_snap.root, top, sorted(set(rels.values())))}
    same = {p for p, r in rels.items() if not any(f == r or f.startswith(r + b"/") for f in there)}
    if not there:
        return set(), same
    before = {p: e for p, e, _ in lost(store, snap.root, top, sorted(set(rels.values())))}
    found = {
        p
        for p, e in there.items()
        if p not in before or (before[p].ref, before[p].mode) != (e.ref, e.mode)
    }
    return found, same


def _mine(burst: Burst, items: list[tuple[bytes, Any, str]]) -> list[tuple[bytes, Any, str]]:
    """Of *items* (diff.lost's), those this part of a burst names (Burst.elsewhere, only)."""
    if burst.elsewhere:
        items = [x for x in items if x[0] not in burst.elsewhere]
    if burst.only is not None:
        items = [x for x in items if x[0] in burst.only]
    return items


def _deepest(
    store: Any, root: bytes, rel: bytes, trees: dict[bytes, dict[bytes, Any]]
) -> bytes | None:
    """The deepest folder on *rel*'s way that snapshot tree *root* holds, when it does not
    hold *rel* itself (None when it does, or a file stands on the way)."""
    from git_snapshot.store import validate
    from git_snapshot.store.objects import DIR

    parts = rel.split(b"/")
    tree, here = root, b""
    for i, part in enumerate(parts):
        names = trees.get(tree)
        if names is None:
            prefix = here + b"/" if here else b""
            names = trees[tree] = {e.name: e for e in validate.read_tree(store, tree, prefix)}
        e = names.get(part)
        if e is None:
            return here
        if i == len(parts) - 1 or e.kind != DIR:
            return None
        tree, here = e.ref, b"/".join(parts[: i + 1])
    return None


# ------------------------------------------------------------------ renames in the worktree


def settle_moves(store: Any, worktree: str, burst: Burst, before: Callable[[float], Any]) -> Burst:
    """*burst* with its renames (Burst.moves) taken into account. The watcher feeds a file's
    old name, renamed, as deleted (only the rename's pair says it was no deletion: a rename
    out of the worktree has none, and stays one); and nothing for a folder renamed. What a
    rename took elsewhere is lost only where its new name is lost:

    - an old name whose last going is a rename is left out when its content is on disk under
      its new name (that name not deleted, written over or renamed over since), or when the
      last snapshot before the new name went holds that name (or one it had between) and not
      the old one: it names the content, by the name it holds (RED35 M1: a file moved as the
      watch snapshot ran, which holds it under its new name only, then `rm -rf` of its new
      place, was also "deleted ... an earlier version is in snapshot 1" by its old name; two
      files renamed to one name, the first one's content gone, were both left out);
    - a path deleted below a renamed name, which the last snapshot before it went holds only
      under an old name (renamed, then deleted before a snapshot saw it there), is named by
      that old name too (a folder renamed, then deleted: nothing named what it held)."""
    if not burst.moves:
        return burst
    moves = _Moves(worktree, burst.moves)
    kinds, times = dict(burst.kinds), dict(burst.times)
    deleted = {p for p, k in kinds.items() if k in _DELETES}
    # (the snapshot to look in, an old name or a deleted path, its other names)
    asks: list[tuple[Any, str, list[str]]] = []
    gone: set[str] = set()  # old names whose last going is a rename
    for old in deleted:
        t = times.get(old, burst.started)
        if not moves.renamed(old, t):
            continue  # (deleted after its last rename, or never renamed)
        names = moves.after(old, t)
        gone.add(old)
        last, since = names[-1]
        over = moves.over(last, since)  # another rename onto it replaced what it held
        if (
            over is None
            and os.path.lexists(last)
            and not (last in kinds and times.get(last, 0.0) >= since)
        ):
            asks.append((None, old, []))  # on disk under its new name
            continue
        went = _gone_at(last, since, deleted, times, burst.ended)
        snap = before(went if over is None else min(over, went))
        if snap is not None:
            asks.append((snap, old, [n for n, _ in names[1:]]))
    for path in deleted - gone:
        t = times.get(path, burst.started)
        olds = [n for n in moves.before(path, t) if n not in deleted]
        snap = before(t) if olds else None
        if snap is not None:
            asks.append((snap, path, olds))
    drop, add = _settled(store, worktree, asks, gone)
    if not drop and not add:
        return burst
    paths = [p for p in burst.paths if p not in drop]
    for old, path in add.items():
        if old not in kinds:
            paths.append(old)
            kinds[old], times[old] = kinds[path], times.get(path, burst.started)
    kinds = {p: kinds[p] for p in paths if p in kinds}
    times = {p: times[p] for p in paths if p in times}
    first = [times.get(p, burst.started) for p in paths if kinds.get(p) in _DELETES]
    started = min(first) if first else burst.started
    return replace(burst, paths=tuple(paths), started=started, kinds=kinds, times=times)


def _settled(
    store: Any, worktree: str, asks: list[tuple[Any, str, list[str]]], gone: set[str]
) -> tuple[set[str], dict[str, str]]:
    """settle_moves' answers: the old names to leave out, and the old names to add (old name
    -> the deleted path it names). An ask of an old name (in *gone*): left out when its
    snapshot is None (on disk), or holds one of its later names and not it. An ask of a
    deleted path: each of its old names its snapshot holds, when it does not hold the path.
    One comparison a snapshot, of every name asked of it."""
    from git_snapshot.store.diff import lost

    top = os.fsencode(os.path.realpath(worktree))
    bases = dirtyset.worktree_bases(worktree)
    by_snap: dict[int, tuple[Any, set[bytes]]] = {}
    for snap, path, names in asks:
        if snap is not None:
            rels = {r for n in (path, *names) if (r := dirtyset.rel_path(bases, n))}
            by_snap.setdefault(snap.id, (snap, set()))[1].update(rels)
    # what each snapshot holds that the disk does not, and the folders that lie in: a set
    # looked up, not the list searched for each name (a renamed folder of 4,000 files then
    # deleted took 12 s, 15 billion steps for 100,000)
    held: dict[int, set[bytes]] = {}
    for sid, (snap, rels) in by_snap.items():
        within = held[sid] = set()
        for p, _, _ in lost(store, snap.root, top, sorted(rels)):
            while p and p not in within:
                within.add(p)
                p = p.rpartition(b"/")[0]

    def holds(snap: Any, name: str) -> bool:
        rel = dirtyset.rel_path(bases, name)
        return bool(rel) and rel in held[snap.id]

    drop: set[str] = set()
    add: dict[str, str] = {}
    for snap, path, names in asks:
        if path in gone:
            if snap is None or (any(holds(snap, n) for n in names) and not holds(snap, path)):
                drop.add(path)
        elif not holds(snap, path):
            add.update((n, path) for n in names if holds(snap, n))
    return drop, add


def _gone_at(
    path: str, since: float, deleted: set[str], times: Mapping[str, float], ended: float
) -> float:
    """When *path* (there since *since*) went: its deletion's time, or that of the folder it
    was in; *ended* (the burst's end) when the burst saw neither."""
    while len(path) > 1:
        t = times.get(path)
        if path in deleted and t is not None and t >= since:
            return t
        path = path.rpartition("/")[0]
    return ended


class _Moves:
    """A burst's renames, followed forward (the names a path had after a time) and back (the
    names a path had before it), a folder's rename carrying what it held."""

    def __init__(self, worktree: str, moves: Any) -> None:
        self.top = len(os.path.abspath(worktree))
        self.by_old: dict[str, list[tuple[float, str]]] = {}
        self.by_new: dict[str, list[tuple[float, str]]] = {}
        for old, new, when in moves:
            self.by_old.setdefault(old, []).append((float(when), new))
            self.by_new.setdefault(new, []).append((float(when), old))

    def _up(self, path: str) -> Any:
        """*path* and the folders it lies in, inside the worktree."""
        while len(path) > self.top:
            yield path
            path = path.rpartition("/")[0]

    def renamed(self, path: str, when: float) -> bool:
        """Whether *path* itself was renamed at or after *when* (its going then)."""
        return any(w >= when for w, _ in self.by_old.get(path, ()))

    def after(self, path: str, when: float) -> list[tuple[str, float]]:
        """The names *path* (as of *when*) had next, each with when it got it: itself
        first. The first rename at or after *when* of it or a folder it lies in, then on."""
        out = [(path, when)]
        while len(out) < MAX_HOPS:
            cur, t = out[-1]
            hop = None
            for anc in self._up(cur):
                for w, new in self.by_old.get(anc, ()):
                    if w >= t and (hop is None or w < hop[1]):
                        hop = (new + cur[len(anc) :], w)
            over = self.over(cur, t)
            if hop is None or hop[0] == cur or (over is not None and over < hop[1]):
                break  # (replaced first: what it held went then, not on with the name)
            out.append(hop)
        return out

    def over(self, path: str, when: float) -> float | None:
        """When another rename onto *path* (there since *when*) first replaced it, or None:
        the watcher feeds no loss for that (an editor's save renames over what it saves)."""
        return min((w for w, _ in self.by_new.get(path, ()) if w > when), default=None)

    def before(self, path: str, when: float) -> list[str]:
        """The names *path* (as of *when*) had before, the latest first."""
        out: list[str] = []
        cur, t = path, when
        while len(out) < MAX_HOPS:
            hop = None
            for anc in self._up(cur):
                for w, old in self.by_new.get(anc, ()):
                    if w <= t and (hop is None or w > hop[1]):
                        hop = (old + cur[len(anc) :], w)
            if hop is None or hop[0] == cur or hop[0] in out:
                break
            out.append(hop[0])
            cur, t = hop
        return out


MAX_HOPS = 16  # renames followed from one name (a swap renames back and forth)


# --------------------------------------------------------------------------- the record


def _covering(paths: set[bytes]) -> list[bytes]:
    """The fewest of *paths* whose folders hold all the others."""
    out: list[bytes] = []
    for p in sorted(paths):
        if out and (p == out[-1] or p.startswith(out[-1] + b"/")):
            continue
        out.append(p)
    return out


def _widen(top: bytes, rels: set[bytes]) -> set[bytes]:
    """Each path, or its highest folder that no longer exists: all a deleted folder held is
    lost, not only what events named (a queue overflow drops the rest of an rm -rf's events,
    the folder's own among them; a polled folder sends none)."""
    out: set[bytes] = set()
    for rel in _covering(rels):
        best, parent = rel, rel.rpartition(b"/")[0]
        while parent and not os.path.lexists(top + b"/" + parent):
            best, parent = parent, parent.rpartition(b"/")[0]
        out.add(best)
    return out


def _lost_below(
    store: Any, root: bytes, top: bytes, rels: set[bytes]
) -> list[tuple[bytes, Any, str]]:
    """What snapshot tree *root* holds at or below *rels* (a deleted folder whole: _widen)
    and the disk under *top* no longer does: files, links and empty folders (`git clean
    -fdx` took one: the entry and undo left it out), not a mode alone."""
    from git_snapshot.store.diff import lost
    from git_snapshot.store.diff_levels import MODE

    found = lost(store, root, top, _covering(_widen(top, rels)), complete=True)
    return [x for x in found if x[2] != MODE]


def _type(kind: int) -> str:
    """A snapshot entry's kind as losses.Loss's type (file, symlink or dir)."""
    from git_snapshot.store.objects import DIR
    from git_snapshot.store.objects import SYMLINK

    return {DIR: "dir", SYMLINK: "symlink"}.get(kind, "file")


def record(store: Any, worktree: str, burst: Burst, snapshot: Any) -> dict[str, Any] | None:
    """Append the loss entry for *burst* (what *snapshot*, the watcher's last before it,
    holds and the worktree no longer does) to the worktree's loss log, keep its line for the
    next git-snapshot command there, notify. Returns the entry, or None when nothing that
    git cannot give back was lost (a build rewriting its ignored output, a tool's temp dir)."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot import losses
    from git_snapshot import lossrecord
    from git_snapshot import lossreport
    from git_snapshot import output
    from git_snapshot import whichstore
    from git_snapshot.errors import UserError
    from git_snapshot.store.objects import DIR
    from git_snapshot.worktree import IGNORED
    from git_snapshot.worktree import LABELS

    removed = None  # the worktree itself is gone (git worktree remove --force, rm -rf)
    replaced = None  # another repository at that path now: the label of the snapshot's
    try:
        repo = gitrepo.find_repo(worktree)
        if identity.known_source(store, repo) != snapshot.source:
            # rm -rf, then git init or clone there: reported in the new repository's log,
            # where its user looks, with the old repository's qualified ID ("restore N"
            # there is the new repository's N) and --to (the old one has no worktree)
            replaced = identity.tagged(snapshot.source)
    except UserError:
        repo = _home(store, snapshot)
        if repo is not None:
            removed = worktree
        else:  # no other worktree of its repository: one made at its path since (git clone)?
            try:
                repo = gitrepo.find_repo(worktree)
            except UserError:
                if os.path.lexists(worktree):
                    return None  # (its .git alone went: no snapshot holds that)
                return _record_gone(store, worktree, burst, snapshot)
            if identity.known_source(store, repo) != snapshot.source:
                replaced = identity.tagged(snapshot.source)
    snap = snapshot
    top = os.fsencode(removed or repo.toplevel)
    rels: set[bytes] = set()
    for p in burst.paths:
        raw = os.fsencode(os.path.abspath(p))
        for base in (top, os.fsencode(os.path.realpath(repo.toplevel))):
            if raw.startswith(base + b"/"):
                rel = raw[len(base) + 1 :]
                if rel != b".git" and not rel.startswith(b".git/"):
                    rels.add(rel)
                break
    if not rels:
        return None
    items = _mine(burst, _lost_below(store, snap.root, top, rels))
    # a build tool rewriting ignored output is no loss; ignored files deleted are
    keep = [(p, e, st) for p, e, st in items if not (st != "deleted" and e.label == IGNORED)]
    # git never holds ignored files, nor folders
    check = [(p, e) for p, e, _ in keep if e.label != IGNORED and e.kind != DIR]
    # the commits HEAD was at since the snapshot: a branch switch that deleted tracked files,
    # a `git rm` then a commit, took nothing git cannot give back
    moved = _heads(repo, removed, snap) if check else []
    known = losses.git_has(repo, moved, [p for p, _ in check]) if check else {}
    ignored = [p for p, e, _ in keep if e.label == IGNORED]
    if ignored and removed is None:  # (git stash --all keeps them: RED30)
        for rel, oids in _stashed_ignored(repo, ignored).items():
            known.setdefault(rel, set()).update(oids)
    # what git writes back byte for byte (eol, filters: RED30; LF bytes that are git's blob
    # under eol=crlf are written back CRLF: session 43)
    held = losses.gives_back(store, repo, [(p, e) for p, e, _ in keep], known, snap.created)
    gone = [
        losses.Loss(p, LABELS.get(e.label) or "untracked", st, _type(e.kind))
        for p, e, st in keep
        if p not in held
    ]
    if removed is None and replaced is None and gone:
        # a git command with a hook (`checkout -- .`, `checkout -f`) that wrote over these
        # files: its report named them already, against the same snapshot
        said = _named_by_hook(lossrecord.history(store, repo), snap.id, burst.started)
        gone = [x for x in gone if x.path not in said]
    if all(x.type == "dir" for x in gone):
        # (empty folders alone held no data: a tool's empty build folders removed are no
        # loss worth a line; named with the files they went with, undo makes them again)
        return None
    # inside a big tree covered by stat scans (the watch budget ran out), an edit in place is
    # seen only by the deep scan: the snapshot may hold an earlier version of what went
    real = os.path.realpath(removed or repo.toplevel)
    scanned = [r + os.sep for r in scanned_trees(store.path, removed or repo.toplevel)]
    # a lost file written after that snapshot began: its last edit may be in no snapshot
    edited = {os.path.realpath(p) for p, k in burst.kinds.items() if k in EARLIER}
    older = [
        x.path
        for x in gone
        if burst.earlier
        or os.path.join(real, os.fsdecode(x.path)) in edited
        or any(os.path.join(real, os.fsdecode(x.path)).startswith(r) for r in scanned)
    ]
    exact = not older
    report = lossreport.Report(
        command="watcher: " + _verb(gone),
        snapshot=snap.id,
        saved_at=snap.created,
        exact=exact,
        losses=gone,
        when=burst.ended,
        store=store.path,
    )
    paths = [x.path for x in gone]
    common = _common_folder(paths)
    restore = lossreport.restore_paths(store, snap.root, gone, os.fsencode(real))
    entry = report.as_json()
    entry["restore"] = [os.fsdecode(p) for p in restore]
    entry["burst"] = {
        "started": output.iso(burst.started),
        "ended": output.iso(burst.ended),
        "events": len(burst.paths),
    }
    if removed is not None:  # reported in another worktree of the repository
        entry["removed_worktree"] = removed
    if replaced is not None:  # a snapshot of the repository that was at this path before
        entry["repo"] = replaced
        entry["source"] = snapshot.source
    if older:  # the paths whose copy may be older than what went (the rest: as it was)
        entry["maybe_older"] = [os.fsdecode(p) for p in older]
    if burst.lost_events:  # what was named may not be all that went
        entry["events_lost"] = True
    lossrecord.append(store, repo, entry)
    line = message(
        repo.toplevel,
        gone,
        common,
        burst.started,
        snap.id,
        restore,
        None if exact else snap,
        older=older,
        removed=removed,
        lost_events=burst.lost_events,
        replaced=replaced,
        # with another store of the repository, its numbers are other snapshots (RED44 F1)
        named=whichstore.prefix(repo.common_dir, store.path),
    )
    # held with its store: printed by a command of another store with this one named, and
    # with the time the files went (the burst is recorded later: its window, a retry)
    lossrecord.hold(repo, [line], store.path, (snap.id, snap.created), when=burst.started)
    notify(line)
    return entry


def _heads(repo: Any, removed: str | None, snap: Any) -> list[str]:
    """The commits, besides *repo*'s HEAD, whose versions of its files git gives back for the
    burst's worktree: those its HEAD was at since *snap* that a ref reaches or HEAD reached
    after *snap*'s (losses.given_heads: a commit amended away, only the reflog's, gave back a
    file the amend dropped, and its `rm` went unreported, review40 RF1); for a linked worktree
    *removed* whole, reported in *repo* (another worktree, with its own HEAD), its own:
    _removed_heads."""
    from git_snapshot import losses

    if removed is None:
        return losses.given_heads(repo, snap)
    return _removed_heads(repo, removed, snap)


def _removed_heads(repo: Any, removed: str, snap: Any) -> list[str]:
    """The commits linked worktree *removed*, deleted whole, had checked out, those a ref
    still reaches (_reached): its branch as *snap* names it (where it is now: a commit made
    there after the snapshot is on it), the snapshot's HEAD, and, while git keeps its admin
    dir (an rm -rf, until `git worktree prune`), its HEAD and where that moved since. A plain
    `git worktree remove` deletes only a clean worktree: every file of it was its HEAD's, and
    was called lost (RED40 F2). A commit only that HEAD or its reflog held (a detached HEAD's,
    one a reset left) goes with the admin dir: what only it holds is named (review40 RF2)."""
    from git_snapshot import losses

    revs = []
    if snap.meta.get("branch"):
        revs.append("refs/heads/" + snap.meta["branch"])
    admin = _admin_dir(repo, removed)
    if admin is not None:
        revs += [*_admin_head(admin), *losses.head_moves(admin, snap.created)]
    if snap.meta.get("head"):
        revs.append(snap.meta["head"])
    return _reached(repo, _commits(repo, revs))


def _reached(repo: Any, commits: list[str]) -> list[str]:
    """Those of *commits* a ref (a branch, a tag, the stash: refs/*) reaches: one `rev-list`
    of what they reach that no ref does. Not `--all` (losses._reachable): it counts every
    worktree's HEAD, a removed one's too while its admin dir is left; none when git cannot
    say (their files are named, not hidden)."""
    from git_snapshot import gitrepo

    if not commits:
        return []
    res = gitrepo._run(repo.toplevel, ["rev-list", *commits, "--not", "--glob=refs/*"])
    if res.returncode != 0:
        return []
    unreachable = set(res.stdout.decode("ascii", "replace").split())
    return [c for c in commits if c not in unreachable]


def _commits(repo: Any, revs: list[str]) -> list[str]:
    """The commit ids of *revs* that name one (a branch deleted since names none: asked of
    git for its files, it failed the check)."""
    from git_snapshot import gitrepo

    if not revs:
        return []
    asked = b"".join(os.fsencode(gitrepo._check_rev(r)) + b"^{commit}\n" for r in revs)
    out = gitrepo.run_git(
        repo.toplevel, "cat-file", "--batch-check=%(objectname) %(objecttype)", input=asked
    )
    found = [line.partition(b" ") for line in out.splitlines()]
    return list(dict.fromkeys(oid.decode("ascii") for oid, _, kind in found if kind == b"commit"))


def _admin_dir(repo: Any, worktree: str) -> str | None:
    """The admin dir git keeps for linked worktree *worktree* in *repo*'s common dir
    (``worktrees/NAME``, whose ``gitdir`` names the worktree's ``.git``: absolute, or relative
    to that dir with worktree.useRelativePaths), if it is still there. Read as bytes: another
    worktree's path may be no UTF-8."""
    root = os.path.join(repo.common_dir, "worktrees")
    want = os.path.join(os.path.realpath(worktree), ".git")
    try:
        names = os.listdir(root)
    except OSError:
        return None
    for name in names:
        admin = os.path.join(root, name)
        with contextlib.suppress(OSError), open(os.path.join(admin, "gitdir"), "rb") as f:
            named = os.fsdecode(f.read().strip())
            if named and os.path.realpath(os.path.join(admin, named)) == want:
                return admin
    return None


def _admin_head(admin: str) -> list[str]:
    """What the HEAD file of admin dir *admin* names (a ref, or a commit id); [] for none.
    (A branch name may be no UTF-8: read as bytes.)"""
    with contextlib.suppress(OSError), open(os.path.join(admin, "HEAD"), "rb") as f:
        text = os.fsdecode(f.read().strip())
        return [text.removeprefix("ref: ")] if text else []
    return []


def _stashed_ignored(repo: Any, paths: list[bytes]) -> dict[bytes, set[str]]:
    """path -> the blob ids stash entries made with --all (or -u) hold at it, of *paths*:
    git never holds an ignored file, except in such an entry's third parent (its untracked
    and ignored files), which ``git stash pop`` gives back. One ``ls-tree`` per such entry,
    not one question per path and entry (a burst of ignored files may be a node_modules)."""
    from git_snapshot import gitrepo
    from git_snapshot.gitrun import run_git

    wanted = set(paths)
    found: dict[bytes, set[str]] = {}
    for entry in gitrepo.stash_entries(repo):
        if len(entry) < 4:
            continue  # (a stash entry of tracked files only)
        out = run_git(repo.toplevel, "ls-tree", "-r", "-z", "--full-tree", entry[3], check=False)
        for item in out.split(b"\0"):
            head, tab, path = item.partition(b"\t")
            if tab and path in wanted:
                oid = head.split(b" ")[2].decode("ascii", "replace")
                found.setdefault(path, set()).add(oid)
    return found


def _record_gone(store: Any, worktree: str, burst: Burst, snapshot: Any) -> dict[str, Any] | None:
    """record() of a repository deleted whole (`rm -rf proj`, its only worktree), never made
    again there: no git dir is left to keep the line in, no other worktree to report it in,
    and git can give nothing back (its objects went too). Everything *snapshot* holds is
    lost: the entry goes to the gone worktree's own log (``git snapshot losses`` lists it
    where no repository is: lossrecord.gone_reports), the line to the next hook of any worktree
    using this store (lossrecord.hold_everywhere), and to a notification. Its restore command
    names the repository by its qualified label, which works pasted anywhere."""
    from git_snapshot import identity
    from git_snapshot import losses
    from git_snapshot import lossrecord
    from git_snapshot import lossreport
    from git_snapshot import output
    from git_snapshot.store.diff import lost
    from git_snapshot.worktree import LABELS

    common = identity.path_of(snapshot.source)
    # an rm -rf longer than a burst's window: all of it named once (not a deletion of what
    # was restored there since, a minute later or more)
    said = lossrecord.gone_entry(store, common, worktree, snapshot.id, burst.started - 60)
    if said is not None:
        return said
    items = _mine(burst, lost(store, snapshot.root, os.fsencode(worktree)))
    gone = [losses.Loss(p, LABELS.get(e.label) or "untracked", st) for p, e, st in items]
    if not gone:
        return None
    real = os.path.realpath(worktree)
    edited = {os.path.realpath(p) for p, k in burst.kinds.items() if k in EARLIER}
    scanned = [r + os.sep for r in scanned_trees(store.path, worktree)]
    older = [
        x.path
        for x in gone
        if os.path.join(real, os.fsdecode(x.path)) in edited
        or any(os.path.join(real, os.fsdecode(x.path)).startswith(r) for r in scanned)
    ]
    label = identity.tagged(snapshot.source)
    report = lossreport.Report(
        command="watcher: deleted",
        snapshot=snapshot.id,
        saved_at=snapshot.created,
        exact=not older,
        losses=gone,
        when=burst.ended,
    )
    entry = report.as_json()
    entry["restore"] = []  # all of it: restore --to the worktree, no paths
    entry["burst"] = {
        "started": output.iso(burst.started),
        "ended": output.iso(burst.ended),
        "events": len(burst.paths),
    }
    entry.update(removed_worktree=worktree, gone=True, repo=label, source=snapshot.source)
    if older:
        entry["maybe_older"] = [os.fsdecode(p) for p in older]
    if burst.lost_events:
        entry["events_lost"] = True
    lossrecord.append_at(store, common, worktree, entry)
    line = gone_message(worktree, gone, burst.started, snapshot, label, older)
    lossrecord.hold_everywhere(store, [line], burst.started)
    notify(line)
    return entry


def gone_message(
    worktree: str,
    gone: list[Any],
    started: float,
    snapshot: Any,
    label: str,
    older: list[bytes] | None = None,
) -> str:
    """ "git-snapshot: the repository /home/me/proj was deleted whole at 10:42 (22 files:
    ...); its files (not .git) are in snapshot proj#3f2a1c:1; restore with: git snapshot
    restore 'proj#3f2a1c:1' --to /home/me/proj" (a command that works pasted anywhere)."""
    from git_snapshot import lossreport
    from git_snapshot import output

    name = f"{label}:{snapshot.id}"
    at = time.strftime("%H:%M", time.localtime(started))
    n = len(gone)
    names = ", ".join(lossreport.fold([x.path for x in gone]))
    saved = f"its files (not .git: commits never pushed are in no snapshot) are in snapshot {name}"
    some = [p for p in older or [] if p in {x.path for x in gone}]
    if some:  # written after that snapshot began: their last edit may be in no snapshot
        age = output.age(snapshot.created, started).removesuffix(" ago")
        saved += (
            f"; of {', '.join(lossreport.fold(some))}, an earlier version, saved {age} before "
            f"that; {lossreport.LATER_EDITS}"
        )
    cmd = (
        f"git snapshot restore {output.shell_quote(os.fsencode(name))} "
        f"--to {output.shell_quote(os.fsencode(worktree))}"
    )
    return (
        f"git-snapshot: the repository {output.display(os.fsencode(worktree))} was deleted "
        f"whole at {at} ({n:,} {'file' if n == 1 else 'files'}: {names}); {saved}; "
        f"restore with: {cmd}"
    )


# how long before a burst began a hook's report of the same files counts as its report (the
# hook runs once git is done; the burst's first event is git's first write)
HOOK_SAID_S = 60.0


def _named_by_hook(entries: list[dict[str, Any]], snapshot: int, started: float) -> set[bytes]:
    """The paths the loss reports of hooks (not the watcher's) since shortly before
    *started* named as lost from *snapshot*: the git command whose writes made the burst
    has said them (two lines, two entries for one loss; and the hook's, taken after the
    command, says where the copy may be older)."""
    out: set[bytes] = set()
    for entry in entries:
        when = entry.get("time")
        if (
            entry.get("snapshot") == snapshot
            and isinstance(when, (int, float))
            and when >= started - HOOK_SAID_S
            and not str(entry.get("command", "")).startswith("watcher:")
        ):
            out.update(
                os.fsencode(x["path"]) for x in entry.get("lost") or [] if isinstance(x, dict)
            )
    return out


def _home(store: Any, snapshot: Any) -> Any:
    """Another worktree of the repository *snapshot* was taken in, existing (its main one
    first), for the report of a removed worktree; None when there is none. A repository at
    its common dir's path now is another one unless it has the snapshot's identity (the
    worktree deleted whole and cloned again there: its "restore N" is another N)."""
    from git_snapshot import gitrepo
    from git_snapshot import identity
    from git_snapshot.errors import UserError

    common = identity.path_of(snapshot.source)
    if not common.startswith("/"):
        return None
    tops = [os.path.dirname(common)] if os.path.basename(common) == ".git" else []
    with contextlib.suppress(OSError, UserError):
        tops += map(os.fsdecode, gitrepo.worktree_paths("/", ["--git-dir", common]) or [])
    for top in tops:
        if os.path.isdir(top):
            with contextlib.suppress(UserError):
                repo = gitrepo.find_repo(top)
                if (
                    os.path.realpath(repo.common_dir) == os.path.realpath(common)
                    and identity.known_source(store, repo) == snapshot.source
                ):
                    return repo
    return None


def scanned_trees(store_path: str, worktree: str) -> list[str]:
    """The big trees of *worktree* that the daemon covers by stat scans, not by watches (as
    its status file says; none when it cannot be read)."""
    from git_snapshot.watch import instance

    try:
        with open(os.path.join(instance.state_dir(store_path), instance.STATUS), "rb") as f:
            status = json.load(f)
        real = os.path.realpath(worktree)
        return [
            os.path.realpath(b["path"])
            for w in status.get("worktrees", [])
            if os.path.realpath(w.get("path", "")) == real
            for b in w.get("big_trees", [])
            if b.get("scanned")
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return []


def _verb(gone: list[Any]) -> str:
    kinds = {x.status for x in gone}
    if kinds == {"deleted"}:
        return "deleted"
    if "deleted" not in kinds:
        return "overwritten"
    return "deleted or overwritten"


def _common_folder(paths: list[bytes]) -> bytes:
    """The deepest folder holding every path (b"" for the worktree root)."""
    folders = [p.rpartition(b"/")[0] for p in paths]
    common = os.path.commonpath(folders) if all(folders) else b""
    # commonpath works by components; a single file's own folder is fine
    return common


def message(
    toplevel: str,
    gone: list[Any],
    common: bytes,
    started: float,
    snapshot: int,
    restore: list[bytes],
    taken: Any = None,
    removed: str | None = None,
    lost_events: bool = False,
    replaced: str | None = None,
    older: list[bytes] | None = None,
    named: str = "",
) -> str:
    """ "git-snapshot: 3,512 files under packages/ were deleted at 10:42; saved in snapshot
    88; restore with: git snapshot -C /w restore 88 packages/" (-C: works from any folder).
    *named*: what goes before each `git snapshot` (the store: whichstore.prefix)."""
    from git_snapshot import lossreport
    from git_snapshot import output

    n = len(gone)
    if n == 1:
        what = output.display(lossreport.shown(gone[0].path, gone[0]))
    elif common:
        what = f"{_counted(gone)} under {output.display(common)}/"
    else:
        what = f"{_counted(gone)} ({', '.join(lossreport.fold([x.path for x in gone]))})"
    verb = _verb(gone)
    at = time.strftime("%H:%M", time.localtime(started))
    # a path starting with '-' as ./-x, never after '--' (argparse drops a second '--')
    args = " ".join(
        output.shell_quote(output.path_word(p)) + ("/" if p == common and p else "")
        for p in restore
    )
    here = output.shell_quote(os.fsencode(toplevel))
    name = f"{replaced}:{snapshot}" if replaced is not None else str(snapshot)
    from git_snapshot import whichstore

    sure = whichstore.sure(named)
    cmd = f"{named}git snapshot -C {here} restore {sure}{output.shell_quote(os.fsencode(name))}"
    if removed is not None:  # written back where it was (restore --to makes the folder)
        cmd += f" --to {output.shell_quote(os.fsencode(removed))}"
        what = f"{what} in the removed worktree {output.display(os.fsencode(removed))}"
    if replaced is not None:  # the repository that was here before this one
        cmd += f" --to {here}"
        what = f"{what} of the repository that was at {output.display(os.fsencode(toplevel))}"
    saved = f"saved in snapshot {name}"
    if taken is not None:  # the snapshot, when it may hold an earlier version of *older*
        age = output.age(taken.created, started).removesuffix(" ago")
        earlier = (
            f"an earlier version, saved {age} before that, is in snapshot {name}; "
            f"{lossreport.LATER_EDITS}"
        )
        some = [p for p in older or [] if p in {x.path for x in gone}]
        if some and len(some) < n:  # the others are saved as they were
            saved += f"; of {', '.join(lossreport.fold(some))}, {earlier}"
        else:
            saved = earlier
    return (
        f"git-snapshot: {what} {'was' if n == 1 else 'were'} {verb} at {at}; {saved}; "
        f"restore with: {cmd}{' ' + args if args else ''}"
        + (
            "; events were lost (inotify queue overflow): more may have gone than named; "
            + (
                f"compare with: {named}git snapshot -C {here} diff {snapshot} --stat"
                if removed is None and replaced is None
                else f"see what snapshot holds with: {named}git snapshot show --repo {here} "
                f"{snapshot}"
                if replaced is None
                else f"see what snapshot holds with: {named}git snapshot -C {here} show "
                f"{output.shell_quote(os.fsencode(name))}"
            )
            if lost_events
            else ""
        )
    )


def _counted(gone: list[Any]) -> str:
    """ "3 files", "3 files, 1 folder" (an empty one)."""
    folders = sum(1 for x in gone if x.type == "dir")
    files = len(gone) - folders
    parts = [(files, "file"), (folders, "folder")]
    return ", ".join(f"{n:,} {word}{'' if n == 1 else 's'}" for n, word in parts if n)


def notify(line: str) -> None:
    """A desktop notification where one can be shown; never fails without one."""
    exe = shutil.which("notify-send")
    if exe is None or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.Popen(
            [exe, "--app-name=git-snapshot", "git-snapshot", line.removeprefix("git-snapshot: ")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
