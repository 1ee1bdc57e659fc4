"""The prepared tree: the watcher's worker rebuilds a worktree's next snapshot ahead of it.

The worker (watch/take.prepare) rebuilds the dirty set's base with the marks so far, stores
the objects and records the tree here, in the dirty set's ``prep`` table (no snapshot names
it); a hook or watch snapshot that finds it current commits it (:class:`UsePrep`), rebuilding
only what was marked after it. A hook may wait for one under way (``preparing``) or promised
by the daemon (``wanted``, :func:`want`). Split from watch/dirtyset.py, whose journal,
marks and plans these build on (docs/ARCHITECTURE.md, "The watched hook"; its history:
docs/JOURNAL.md, "Session 9, the prepared snapshot").
"""

from __future__ import annotations

import os
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.watch.dirtyset import ALL
from git_snapshot.watch.dirtyset import DELETED
from git_snapshot.watch.dirtyset import GONE_KEPT_S
from git_snapshot.watch.dirtyset import UNKNOWN
from git_snapshot.watch.dirtyset import Begun
from git_snapshot.watch.dirtyset import CleanSet
from git_snapshot.watch.dirtyset import _db
from git_snapshot.watch.dirtyset import _tx
from git_snapshot.watch.dirtyset import entry_path
from git_snapshot.watch.dirtyset import linked_dirs
from git_snapshot.watch.dirtyset import linked_names
from git_snapshot.watch.dirtyset import top_seq

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import sqlite3
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Collection
    from collections.abc import Iterator
    from typing import Any

    from git_snapshot.watch.dirtyset import Plan


class Prep:
    """A prepared tree (see the prep table) and the marks after it: what a snapshot that
    commits it must still rebuild. The worker makes one (seq -1, no marks) for
    :func:`set_prepared`; :func:`prepared` reads it back with its seq and the marks after it."""

    __slots__ = (
        "began",
        "bytes",
        "changed",
        "dirs",
        "done",
        "entries",
        "epoch",
        "files",
        "generation",
        "ids",
        "labels",
        "root",
        "seq",
        "skipped",
        "stamp",
        "written",
    )

    def __init__(
        self,
        root: bytes,
        stamp: str,
        labels: str,
        generation: str,
        files: int,
        nbytes: int,
        skipped: list[tuple[str, str]],
        changed: list[bytes] | None,
        ids: dict[bytes, tuple[int, int, int, int, str, int]],
        written: int = 0,
    ) -> None:
        self.seq = -1
        self.root = root
        self.stamp = stamp
        self.labels = labels
        self.generation = generation
        self.files = files
        self.bytes = nbytes
        self.skipped = skipped
        # paths whose entry differs from the base's (Result.changed), None: not known
        self.changed = changed
        self.ids = ids
        # bytes the worker wrote into packs for it (and the prepared trees it was built on)
        self.written = written
        self.dirs: frozenset[bytes] = frozenset()  # marked after seq (up to the snapshot's)
        self.entries: frozenset[bytes] = frozenset()
        # when the worker began preparing it and recorded it (wall seconds; the log's:
        # :func:`logged`, 0.0 elsewhere)
        self.began = 0.0
        self.done = 0.0
        self.epoch = -1  # the dirty set's epoch it was logged in (:func:`logged`; -1 elsewhere)

    def extra(self) -> bytes:
        """The prep table's ``extra`` column: what has no column of its own."""
        import marshal

        return marshal.dumps(
            ([list(x) for x in self.skipped], self.changed, self.ids, self.written)
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Prep:
        """From the prep table's (seq, root, stamp, labels, generation, files, bytes, extra)."""
        import marshal

        seq, root, stamp, labels, generation, files, nbytes, extra = row
        skipped, changed, ids, *more = marshal.loads(bytes(extra))
        p = cls(
            bytes(root),
            stamp,
            labels,
            generation,
            files,
            nbytes,
            [tuple(x) for x in skipped],
            changed,
            ids,
            more[0] if more else 0,
        )
        p.seq = seq
        return p

    @property
    def marked(self) -> bool:
        """Anything marked after it."""
        return bool(self.dirs or self.entries)


def prepared(store_path: str, worktree: str, begun: Begun) -> Prep | None:
    """The prepared tree a snapshot that read *begun* may commit (with the marks after it up
    to ``begun.seq``), or None: none, of another epoch or base, or newer than *begun* (made
    with changes after it began). The caller checks the stamp, labels and generation."""
    try:
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            row = con.execute(
                "SELECT p.seq, p.root, p.stamp, p.labels, p.generation, p.files, p.bytes,"
                " p.extra FROM prep p, state s WHERE p.epoch = s.epoch AND s.pid != 0"
                " AND s.base_epoch = s.epoch AND p.base_seq = s.base_seq"
                " AND p.base_root = s.base_root AND p.epoch = ? AND p.base_root = ?"
                " AND p.seq <= ?",
                (begun.epoch, begun.base_root, begun.seq),
            ).fetchone()
            if row is None:
                return None
            dirs: set[bytes] = set()
            entries: set[bytes] = set()
            for d, name in con.execute(
                "SELECT DISTINCT dir, name FROM marks WHERE seq > ? AND seq <= ?",
                (row[0], begun.seq),
            ):
                if name is None:
                    dirs.add(bytes(d))
                else:
                    entries.add(bytes(d) + b"/" + bytes(name) if d else bytes(name))
            dirs |= linked_dirs(con)  # (what it holds of them may be stale since)
        p = Prep.from_row(row)
        p.dirs, p.entries = frozenset(dirs), frozenset(entries)
        return p
    except (FileNotFoundError, sqlite3.Error, ValueError, TypeError, EOFError):
        return None  # (a damaged extra: marshal's errors) today's path


def set_prepared(store_path: str, worktree: str, begun: Begun, p: Prep) -> bool:
    """The worker rebuilt the base of *begun* with its marks into *p* (its objects are in
    the index: call this under the store's lock, so that no gc runs in between). Kept only
    if the epoch and the base are still those (else a snapshot moved the base meanwhile)."""
    with _db(store_path, worktree, create=False) as con, _tx(con):
        epoch, pid, base_epoch, base_seq, base_root = con.execute(
            "SELECT epoch, pid, base_epoch, base_seq, base_root FROM state"
        ).fetchone()
        if (
            epoch != begun.epoch
            or pid == 0
            or base_epoch != epoch
            or base_seq != begun.base_seq
            or bytes(base_root) != begun.base_root
        ):
            return False
        con.execute("DELETE FROM wanted WHERE seq <= ?", (begun.seq,))  # the hooks' wait ends
        row = (
            epoch,
            base_seq,
            begun.base_root,
            begun.seq,
            p.root,
            p.stamp,
            p.labels,
            p.generation,
            p.files,
            p.bytes,
            p.extra(),
        )
        con.execute("INSERT OR REPLACE INTO prep VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        # and into the log, with when it was begun and done: the next one replaces it above,
        # while a post-checkout hook may want the one done before its git command began
        at = con.execute("SELECT at FROM preparing").fetchone()
        con.execute(_LOG_TABLE)
        con.execute(
            "INSERT INTO prep_log (epoch, base_seq, base_root, seq, root, stamp, labels,"
            " generation, files, bytes, extra, began, done)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, 0.0 if at is None else at[0], time.time()),
        )
        con.execute(
            "DELETE FROM prep_log WHERE n <= (SELECT MAX(n) FROM prep_log) - ?", (LOG_KEPT,)
        )
    return True


# The prepared trees recorded last (RED44 F6): the worktree as the worker read it, each
# done (recorded) at ``done``; its objects stored, its root a whole tree (base_root's with the
# marks up to seq). Made by set_prepared, in the dirty set's database (no schema step: a
# table of this module's own, made when first written).
_LOG_TABLE = """CREATE TABLE IF NOT EXISTS prep_log (n INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch INTEGER NOT NULL, base_seq INTEGER NOT NULL, base_root BLOB NOT NULL,
    seq INTEGER NOT NULL, root BLOB NOT NULL, stamp TEXT NOT NULL, labels TEXT NOT NULL,
    generation TEXT NOT NULL, files INTEGER NOT NULL, bytes INTEGER NOT NULL,
    extra BLOB NOT NULL, began REAL NOT NULL, done REAL NOT NULL)"""
LOG_KEPT = 8  # of them, the newest (a hook wants the last one done before git began)


def logged(store_path: str, worktree: str) -> list[tuple[bytes, Prep]]:
    """The logged prepared trees built on the dirty set's base (the snapshot whose root is
    the first of each pair: every version they hold was on disk after it was taken), newest
    first, each with its ``began``, ``done`` and ``epoch``, of them those with a mark after
    the base's and another root than the base's (a path whose entry differs, or one added:
    ``changed`` leaves those out); of the dirty set's epoch only (its marks after the tree's
    are there: :func:`changed_since` asks them);
    [] without any (no watcher, no log, nothing changed since the base: the usual hook, which
    pays this one query)."""
    try:
        with _db(store_path, worktree, create=False) as con:
            rows = con.execute(
                "SELECT l.seq, l.root, l.stamp, l.labels, l.generation, l.files, l.bytes,"
                " l.extra, l.began, l.done, l.base_root, l.epoch FROM prep_log l, state s"
                " WHERE l.base_root = s.base_root AND l.epoch = s.epoch AND l.seq > s.base_seq"
                " ORDER BY l.n DESC"
            ).fetchall()
        return _trees(rows)
    except (FileNotFoundError, sqlite3.Error, ValueError, TypeError, EOFError):
        return []


def logged_before(store_path: str, worktree: str) -> list[tuple[bytes, Prep]]:
    """As :func:`logged`, the trees logged on the base before the dirty set's (s51): when the
    snapshot that replaced it kept the marks it dropped after them (dirtyset._keep_dropped:
    the last finish's, the current base's), which :func:`changed_since` then asks (with
    ``dropped``). [] without."""
    try:
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            rows = con.execute(
                "SELECT l.seq, l.root, l.stamp, l.labels, l.generation, l.files, l.bytes,"
                " l.extra, l.began, l.done, l.base_root, l.epoch FROM prep_log l, dropcover c,"
                " state s WHERE s.epoch = c.epoch AND s.base_epoch = s.epoch"
                " AND s.base_seq = c.to_seq AND l.epoch = c.epoch AND l.base_seq = c.base_seq"
                " AND l.base_root = c.base_root AND l.seq >= c.from_seq AND l.seq <= c.to_seq"
                " ORDER BY l.n DESC"
            ).fetchall()
        return _trees(rows)
    except (FileNotFoundError, sqlite3.Error, ValueError, TypeError, EOFError):
        return []  # (no dropcover: none kept)


def _trees(rows: list[Any]) -> list[tuple[bytes, Prep]]:
    """prep_log's rows (seq, root, stamp, labels, generation, files, bytes, extra, began,
    done, base_root, epoch) as (base root, tree), each with its began, done and epoch; a row
    whose root is its base's (the base's own tree) left out."""
    out = []
    for row in rows:
        p = Prep.from_row(row[:8])
        p.began, p.done, p.epoch = float(row[8]), float(row[9]), int(row[11])
        if p.root != bytes(row[10]):
            out.append((bytes(row[10]), p))
    return out


def changed_since(
    store_path: str,
    worktree: str,
    p: Prep,
    began: float,
    paths: Collection[bytes],
    bound: int | None = None,
    dropped: bool = False,
) -> bool:
    """Whether one of *paths* may have changed after the logged tree *p* read it and before
    *began* (when the git command began): then *p* does not hold what git found there
    (review RW45: f deleted, or set back to the last snapshot's bytes, between the tree and
    `git switch B`, and f was named from it as destroyed). *paths*: what git wrote and where
    *p* differs from its base (elsewhere *p* holds the base's version: named from it, as
    from the base). A mark after p's seq that the daemon wrote before *began*, or up to
    *bound* (:func:`git_locked`: every mark up to it was of a change made before git took
    its index.lock), of one of *paths* or a folder above or below one, says so (git wrote
    nothing before it began), and so does one of unknown time (older code wrote it), a
    daemon no longer running, another epoch than p's, a file system events miss, one of
    *paths* in a scanned big tree, and one that is a file with other names after the tree
    began (a write through another raises no event here, until the daemon's look: the names
    the daemon published since, or any file of a linked folder it named none of; s51: the
    folders at or above a path were asked, and a hard link at the top set aside every tree),
    and any path of a tree begun before the newest gone of a name since deleted, or when git
    began before the daemon's look found the other names of a link made (dirtyset.ALL; s52:
    an hour after it began, in every worktree). Any other mark is taken as git's. Without *bound*, a
    change made a moment before git began that the daemon marked only after (`rm f && git
    switch B` in one line: the daemon's latency, and /proc's start time truncated to a
    clock tick; measured, 0 and 5 ms before git) is not seen. *dropped*: *p* is of the
    base before the dirty set's (:func:`logged_before`): the marks the snapshot since
    dropped after it are asked too (kept by it, else set aside); so they are when the base
    has moved past *p* since the caller found it on the base (:func:`logged`; the watcher's
    snapshot that committed before, finished after: s52)."""
    try:
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            state = con.execute("SELECT pid, epoch, base_seq FROM state").fetchone()
            pid, epoch, base_seq = state
            if pid == 0 or not _alive(int(pid)) or con.execute("SELECT 1 FROM blind").fetchone():
                return True
            if p.epoch >= 0 and epoch != p.epoch:
                return True  # (its marks went with its epoch)
            which = (p.seq, began, -1 if bound is None else bound)
            marks = con.execute(
                "SELECT dir, name FROM marks WHERE seq > ? AND (at IS NULL OR at < ? OR seq <= ?)",
                which,
            ).fetchall()
            # (a tree on the base, the base moved past it since the hook chose it: the
            # watcher's snapshot committed before, finished after, s52)
            if dropped or int(base_seq) > p.seq:
                if not con.execute(
                    "SELECT 1 FROM dropcover c, state s WHERE c.epoch = s.epoch"
                    " AND s.base_epoch = s.epoch AND c.to_seq = s.base_seq AND c.from_seq <= ?",
                    (p.seq,),
                ).fetchone():
                    return True  # (the marks after it went with the snapshot since)
                marks += con.execute(
                    "SELECT dir, name FROM dropped WHERE seq > ?"
                    " AND (at IS NULL OR at < ? OR seq <= ?)",
                    which,
                ).fetchall()
            quiet = {bytes(d) for (d,) in con.execute("SELECT dir FROM scanned")}
            # (a file linked at any time after the tree began reading: a look may have found
            # it no longer so after git wrote it, before this hook asks)
            linked = linked_names(con, p.began)
            # (names deleted since the tree began, and a link made whose other names no look
            # had found when git began: it is judged by none of them; without DELETED, an
            # older daemon's set: its names are deleted after GONE_KEPT_S, and nothing says when)
            every = {
                bytes(n): gone
                for n, gone in con.execute(
                    "SELECT n.name, n.gone FROM linked_names n, state s"
                    " WHERE n.dir = ? AND n.pid = s.pid",
                    (ALL,),
                )
            }
    except (FileNotFoundError, sqlite3.Error, TypeError):
        return True
    if DELETED not in every:
        if 0 < p.began < time.time() - GONE_KEPT_S:
            return True  # (older than the names kept)
    elif every[DELETED] is None or every[DELETED] > p.began:
        return True
    # (a link's other name, one git wrote, found one name by the look after git wrote; a look
    # before git began named it, and marked what was written through the link: asked below)
    if UNKNOWN in every and (every[UNKNOWN] is None or every[UNKNOWN] > began):
        return True
    given = set(paths)
    above = {f for path in given for f in _folders(path)}
    meets = touches(given, above)
    for d, name in marks:  # (a folder's mark: what it holds may have changed)
        if meets(bytes(d) if name is None else entry_path(d, name)):
            return True
    # (a scanned tree's root at or above one of them, or one a file with other names)
    return any(q in given or q in above for q in quiet) or any(
        _other_names(linked, path) for path in given
    )


def _other_names(linked: dict[bytes, frozenset[bytes] | None], path: bytes) -> bool:
    """Whether *path* may be a file with other names (:func:`dirtyset.linked_names`'s
    *linked*): its folder holds such files and names it, or names none."""
    folder, _, name = path.rpartition(b"/")
    if folder not in linked:
        return False
    names = linked[folder]
    return names is None or name in names


# -- where git began, in the daemon's order of events (bd48) -----------------------------------
#
# git checkout and switch create index.lock in the worktree's git dir (O_CREAT|O_EXCL; .git,
# or .git/worktrees/X for a linked worktree) before they write any file of the worktree, and
# take it once (strace -f of git 2.39's checkout, checkout -f, switch, switch
# --discard-changes). The daemon watches that folder too, on the one inotify descriptor that
# queues the worktree's events in the order they happen, and at each index.lock made, it
# writes the marks of every event before it, then a boundary: the seq of the last mark then.
# Tables of this module's own, made when the daemon first writes them (no schema step: a
# dirty set without them is an older daemon's, which writes no boundary).
_BOUND_TABLES = (
    "CREATE TABLE IF NOT EXISTS bounds (n INTEGER PRIMARY KEY AUTOINCREMENT,"
    " epoch INTEGER NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL)",
    # the epoch through which the daemon has watched the git dir (from before its first
    # mark; the row goes when that watch ends): then every index.lock made is in bounds
    "CREATE TABLE IF NOT EXISTS lockwatch (one INTEGER PRIMARY KEY CHECK (one = 1),"
    " epoch INTEGER NOT NULL)",
)
BOUNDS_KEPT = 64  # of them, the newest (a hook wants the last one)


def lock_watched(store_path: str, worktree: str, live: bool) -> None:
    """The daemon: *worktree*'s git dir is watched for index.lock since before the dirty
    set's epoch began (*live*), or no longer (or not: no boundary is trusted)."""
    with _db(store_path, worktree, create=False) as con, _tx(con):
        for table in _BOUND_TABLES:
            con.execute(table)
        con.execute("DELETE FROM lockwatch")
        if live:
            con.execute("INSERT INTO lockwatch SELECT 1, epoch FROM state")


def git_lock(store_path: str, worktree: str) -> None:
    """The daemon read an index.lock made in *worktree*'s git dir, having written the marks
    of every event before it: a boundary after them."""
    with _db(store_path, worktree, create=False) as con, _tx(con):
        for table in _BOUND_TABLES:
            con.execute(table)
        con.execute(
            "INSERT INTO bounds (epoch, seq, at) SELECT epoch, ?, ? FROM state",
            (top_seq(con), time.time()),
        )
        con.execute("DELETE FROM bounds WHERE n <= (SELECT MAX(n) FROM bounds) - ?", (BOUNDS_KEPT,))


def git_locked(store_path: str, worktree: str, p: Prep, began: float) -> int | None:
    """A post-checkout hook (its git has taken and released index.lock, then ran it): the
    seq up to which every mark after *p*'s is of a change made before git took its lock (the
    user's: an rm, a file set back, in the same shell line as git or not), or None when not
    known: then the marks' times are all there is (:func:`changed_since`). Known once the
    daemon has answered this hook's sync (every event before it marked: git's index.lock
    among them) while it watched the git dir through *p*'s epoch, and alive: the last
    boundary then. A later git's lock (an editor's `git status` after this one's) only
    moves it later, where more marks count as the user's: a tree set aside that could have
    been kept, never one kept that holds what git did not find. The last and not the first
    after *p*: a prompt's `git status` between the tree and the user's rm would put the rm
    after it. Only one written after *began* (when git's process began): git's own lock is
    made after that; an earlier one is another git's, and git's own then made none the
    daemon saw (a checkout with GIT_INDEX_FILE elsewhere locks that file; a git dir put
    in place of the watched one), so the user's last changes may lie after it."""
    if p.epoch < 0:
        return None
    try:
        with _db(store_path, worktree, create=False) as con:
            if not _watching(con, p.epoch):
                return None  # (no wait: nothing to sync with)
        if not _synced(store_path, worktree):
            return None
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            if not _watching(con, p.epoch):
                return None
            row = con.execute(
                "SELECT seq, at FROM bounds WHERE epoch = ? ORDER BY n DESC LIMIT 1", (p.epoch,)
            ).fetchone()
    except (FileNotFoundError, sqlite3.Error, TypeError):
        return None
    if row is None or int(row[0]) < p.seq or float(row[1]) < began:
        return None  # (git's own lock, after the tree, is not there: not trusted)
    return int(row[0])


def _watching(con: sqlite3.Connection, epoch: int) -> bool:
    """Whether a live daemon watches the worktree in *epoch*, and its git dir since before
    that epoch began (of dirty set *con*)."""
    if not con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lockwatch'"
    ).fetchone():
        return False  # an older daemon
    pid, now = con.execute("SELECT pid, epoch FROM state").fetchone()
    watched = con.execute("SELECT epoch FROM lockwatch").fetchone()
    if pid == 0 or now != epoch or watched is None or watched[0] != epoch:
        return False
    return _alive(int(pid))


def _synced(store_path: str, worktree: str) -> bool:
    """Whether the daemon has answered this hook's sync token (the one it wrote as it began,
    after git's writes: dirtyset.sync_start), leaving it for the snapshot's own sync
    (dirtyset.sync), which then finds the answer there."""
    from git_snapshot.watch import dirtyset

    got = dirtyset._STARTED.get((store_path, worktree))
    if got is None:
        return False  # (the hook found no daemon running: hooks._watched)
    token = got[0]
    # (the snapshot's sync waits for the same token no longer than this: a daemon that
    # does not answer costs the hook one timeout, not two)
    deadline = dirtyset._GIVE_UP.setdefault(token, time.monotonic() + dirtyset.SYNC_TIMEOUT_S)
    try:
        with _db(store_path, worktree, create=False) as con:
            while con.execute("SELECT 1 FROM syncs WHERE token = ?", (token,)).fetchone() is None:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.0005)
    except (FileNotFoundError, sqlite3.Error):
        return False
    return True


def touches(paths: Collection[bytes], above: set[bytes] | None = None) -> Callable[[bytes], bool]:
    """Whether a path is one of *paths*, a folder above one (b"", the top, above them all)
    or lies below one. *above*: those folders, when the caller has them."""
    given = paths if isinstance(paths, (set, frozenset)) else set(paths)
    if above is None:
        above = {f for path in given for f in _folders(path)}
    return lambda path: path in given or path in above or any(f in given for f in _folders(path))


def _folders(path: bytes) -> Iterator[bytes]:
    """b"" and every folder above relative *path*."""
    yield b""
    yield from (path[:i] for i in range(len(path)) if path[i : i + 1] == b"/")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (EPERM: another user's process has the pid: not ours)
        return False
    return True


def commit_logged(
    store: Any,
    source: str,
    worktree: str,
    base_root: bytes,
    p: Prep,
    meta: dict[str, Any],
    message: str,
    later: Callable[[Any], bool] | None = None,
) -> Any:
    """Commit the logged prepared tree *p* as a snapshot of its own (trigger ``prepared``,
    created when it was done: the worktree as it was then) when the worktree's last snapshot
    is still the one it was built on (*base_root*) and no gc deleted objects since it was
    recorded (the index's generation); returns the Snapshot, or None. Its objects are in the
    index (set_prepared): only its record is written. Under the worktree's turn and the
    store's lock, as a snapshot is (archiver.create_snapshot): the next one of the worktree,
    whose dirty set's base is still *base_root*, rebuilds widened by what this one holds
    (archiver._overlapped). *later*: whether a snapshot was committed after git began
    (findlosses._prepared_before's): the newest such ones, until one is not, are passed over
    (*p*, recorded before git began, is committed after them, created before them; s51: on
    the base before the dirty set's, which one moved; s52: one committed while the hook
    asked, after its own look at the snapshots)."""
    import hashlib  # (a hook that commits one only)

    from git_snapshot.ctx import gc_paused
    from git_snapshot.store import archiver
    from git_snapshot.store import records
    from git_snapshot.store.index import Snapshot
    from git_snapshot.store.objects import RECORD
    from git_snapshot.store.walker import RACY_NS

    with archiver._turn(store, source, worktree), store.lock(), gc_paused(freeze=True):
        mine = store.snapshots(source, worktree, last=1 if later is None else LATER_ROWS)
        while later is not None and mine and later(mine[-1]):
            mine.pop()
        if (
            not mine
            or mine[-1].root != base_root
            or mine[-1].created >= p.done
            or p.generation != store.index.meta_get("generation", "0")
            or not store.index.has(p.root)
            or store.index.damaged()
        ):
            return None
        info = dict(meta)
        info["skipped_paths"] = [[str(a), str(b)] for a, b in p.skipped]
        # its reads spanned the preparation: any file may be of any moment of it
        info["unsettled"] = {"since": p.began - RACY_NS / 1e9, "all": True}
        snap = Snapshot(
            rowid=0,
            source=source,
            id=store.index.reserve_seq(source, worktree),
            created=p.done,
            trigger=PREPARED,
            message=message,
            worktree=worktree,
            root=p.root,
            files=p.files,
            bytes=p.bytes,
            added_bytes=p.written,
            skipped=len(p.skipped),
            meta=info,
        )
        record = records.encode_record(snap, worktree)
        snap.record = hashlib.sha256(record).digest()
        writer = archiver._pack_writer(store.path)
        try:
            writer.add(RECORD, snap.record, record)
            packs = writer.finish()
        except BaseException:
            writer.abort()
            raise
        store.index.add_snapshot(packs, snap, recent=True)
    return snap


PREPARED = "prepared"  # the trigger of a snapshot commit_logged made
LATER_ROWS = 8  # commit_logged passes over that many committed after git began, at most


def preparing(store_path: str, worktree: str, seq: int | None) -> None:
    """The worker starts preparing a tree with the marks up to *seq* (None: it is done)."""
    with _db(store_path, worktree, create=False) as con:
        if seq is None:
            con.execute("DELETE FROM preparing")
        else:
            con.execute(
                "INSERT OR REPLACE INTO preparing VALUES (1, ?, ?, ?)",
                (seq, os.getpid(), time.time()),
            )


def want(store_path: str, worktree: str) -> int:
    """The daemon, answering a hook's sync: the worker prepares the marks so far next (the
    hook waits for that instead of rebuilding them itself, see :func:`wait_prepared`);
    returns their seq (the job's ``upto``). Call it before :func:`synced`."""
    with _db(store_path, worktree, create=False) as con, _tx(con):
        seq = top_seq(con)
        con.execute(
            "INSERT OR REPLACE INTO wanted VALUES (1, ?, ?, ?)", (seq, os.getpid(), time.time())
        )
    return int(seq)


def unwant(store_path: str, worktree: str) -> None:
    """The daemon will not prepare what a hook waits for (the preparation failed or had
    nothing to do): the hook stops waiting and rebuilds it itself."""
    with (
        contextlib.suppress(FileNotFoundError, sqlite3.Error),
        _db(store_path, worktree, create=False) as con,
    ):
        con.execute("DELETE FROM wanted")


PREP_WAIT_S = 3.0  # a hook waits at most this long for a prepared tree under way


def wait_prepared(
    store_path: str, worktree: str, begun: Begun, timeout: float = PREP_WAIT_S
) -> float:
    """Wait while the worker prepares a tree this snapshot can commit (it does the work the
    snapshot would do, in a warm process, and started earlier), or while the daemon has
    promised one with the marks up to this snapshot's (:func:`want`: the worker prepares
    them next, in chained steps when it was already preparing an older part): until it is
    done, its process (or the daemon) is gone, or *timeout*. Returns the seconds waited."""
    from git_snapshot.proc import alive  # only when a preparation is under way

    start = time.monotonic()
    warm = True
    try:
        with _db(store_path, worktree, create=False) as con:
            while True:
                row = con.execute("SELECT seq, pid FROM preparing").fetchone()
                if row is None or row[0] > begun.seq or not alive(row[1]):
                    # none, or with changes made after this snapshot began: one promised?
                    row = con.execute("SELECT seq, pid FROM wanted").fetchone()
                    if row is None or row[0] > begun.seq or not alive(row[1]):
                        break
                if warm:  # what committing it needs is imported while the worker works
                    warm = False
                    _warm_commit()
                    continue
                if time.monotonic() - start > timeout:
                    break
                time.sleep(0.003)
    except (FileNotFoundError, sqlite3.Error):
        pass
    return time.monotonic() - start


def _warm_commit() -> None:
    """Import what a snapshot committing a prepared tree imports after the wait (the
    archiver, the rebuild, the pack writer, zstd's backend: ~20-40 ms of a hook, off its
    critical path when it waits for the worker anyway)."""
    import git_snapshot.store.rebuild  # noqa: F401  (the archiver, the pack writer with it)
    from git_snapshot.store import zstd

    zstd.load()


class UsePrep:
    """Options.prepared for a snapshot planned by *plan* whose labels are *labels*: called by
    the archiver under the store's lock (so no gc runs before the snapshot is committed),
    with the worktree's last snapshot *base* (the dirty set's base); returns what the
    rebuild starts from instead of the base (rebuild.Base, the prepared root, the marks
    after it), or None for today's path (no prepared tree of this base, other labels, a gc
    deleted objects since, its root gone)."""

    __slots__ = ("labels", "plan", "used")

    def __init__(self, plan: Plan, labels: str) -> None:
        self.plan = plan
        self.labels = labels
        self.used: Prep | None = None

    def __call__(self, store: Any, base: Any) -> tuple[Any, bytes, CleanSet] | None:
        plan = self.plan
        p = prepared(store.path, plan.worktree, plan.begun)
        if (
            p is None
            or p.labels != self.labels
            or base.root != plan.begun.base_root
            or p.generation != store.index.meta_get("generation", "0")
            or not store.index.has(p.root)
        ):
            return None
        from git_snapshot.store.rebuild import Base

        self.used = p
        start = Base(base.root, p.files, p.bytes, p.skipped, p.written)
        return start, p.root, CleanSet(p.dirs, (), p.entries)

    def result(self, res: Any) -> None:
        """What *res* (a Result rebuilt from the prepared tree) changed since the base: the
        prepared tree's changed paths and git ids with its own (a superset: a path changed
        and changed back is looked at again by the hook, never missed)."""
        p = self.used
        if p is None or not res.new:
            return
        if res.changed is not None and p.changed is not None:
            res.changed = sorted(set(p.changed).union(res.changed))
        else:
            res.changed = None
        res.ids = {**p.ids, **(res.ids or {})}


# -- reading the marked files ahead (watch/warm.py, store/rebuild.ahead) -----------------------


def marked_since(
    store_path: str, worktree: str, after: int, limit: int
) -> tuple[int, int, bytes, list[tuple[int, bytes]]] | None:
    """(epoch, the highest seq now, the base's root, up to *limit* (seq, path) of the entries
    marked after seq *after*, oldest first), read in one transaction: every write made after
    this call is marked later, with a higher seq than the second; None without a dirty set."""
    try:
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            epoch, root = con.execute("SELECT epoch, base_root FROM state").fetchone()
            top = con.execute("SELECT COALESCE(MAX(seq), 0) FROM marks").fetchone()[0]
            rows = con.execute(
                "SELECT seq, dir, name FROM marks WHERE seq > ? AND seq <= ? AND name IS NOT"
                " NULL ORDER BY seq LIMIT ?",
                (after, top, limit),
            ).fetchall()
    except (FileNotFoundError, sqlite3.Error, TypeError):
        return None
    got = [(s, entry_path(d, n)) for s, d, n in rows]
    return int(epoch), int(top), bytes(root), got


def entry_seqs(store_path: str, worktree: str, upto: int) -> dict[bytes, int]:
    """Each entry marked up to seq *upto* -> its last mark's seq (what a file read ahead at a
    seq is checked against: a later mark means it was written since). A mark dropped
    meanwhile (a snapshot committed it) leaves its entry out: not known, never taken."""
    out: dict[bytes, int] = {}
    try:
        with _db(store_path, worktree, create=False) as con:
            for d, n, s in con.execute(
                "SELECT dir, name, MAX(seq) FROM marks WHERE seq <= ? AND name IS NOT NULL"
                " GROUP BY dir, name",
                (upto,),
            ):
                out[entry_path(d, n)] = s
    except (FileNotFoundError, sqlite3.Error):
        return {}
    return out
