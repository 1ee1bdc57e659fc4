"""The dirty set: which directories of a worktree changed since its last snapshot.

The watcher (watch/daemon) writes it; snapshots read it. One small SQLite file per worktree in
the store (``<store>/watch/<id>.dirty``, WAL): concurrent hooks and the daemon never block
each other for long and never lose an entry.

- ``watching()`` starts an *epoch*: every watch of the worktree is in place from now on. What
  happened before it is unknown, so the first snapshot of an epoch walks everything; that
  snapshot becomes the *base* the following ones are relative to.
- ``mark()`` appends what changed, each with a sequence number: *entries* (a file, link or
  folder created, written, deleted, renamed or chmodded: the event names it) and *folders*
  (their entries changed in ways no event named: a folder that appeared, a polled or scanned
  one). A snapshot re-reads a marked entry, lists a marked folder, and rebuilds every folder
  above either from the base snapshot's tree (see store/rebuild.py). An entry mark is stored
  as its folder plus its name: a reader that knows only folders (an older hook) lists the
  folder, which is what it did before entries were marked.
- ``mark_all()`` (a queue overflow, a failed watch) and ``stopped()`` end the epoch: the
  next snapshot walks everything again.
- A snapshot reads the marks up to sequence number S when it starts (:func:`begin`) and, once
  committed, drops only the entries <= S (:func:`finish`): whatever is marked while it walks
  stays for the next one. A snapshot started in another epoch, or older than the base
  (two hooks at once), never moves the base.

Hooks (not the daemon itself) first make sure the daemon has read every event up to now
(:func:`sync`): they write a token file into ``<store>/watch/``, which the daemon watches with
the same inotify queue, and wait until the daemon acknowledges it with :func:`synced` after
marking every earlier event. A daemon that does not answer within a moment means a full walk.
"""

from __future__ import annotations

import _thread
import os
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.hashes import name_digest

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import sqlite3
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    from collections.abc import Collection
    from collections.abc import Iterable
    from collections.abc import Iterator
    from collections.abc import Mapping
    from typing import Any

    # the linked folders (absolute), or a dict of them to their names of files with other
    # names (None: not named): see set_linked
    Linked = Iterable[str] | Mapping[str, Collection[str] | None]

SYNC_SUFFIX = ".sync"
SYNC_TIMEOUT_S = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    worktree TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    pid INTEGER NOT NULL,          -- the daemon watching in this epoch; 0: nobody is
    reason TEXT NOT NULL,          -- why the last epoch ended (mark_all, stopped)
    base_epoch INTEGER NOT NULL,   -- the epoch of the base snapshot; -1: none
    base_seq INTEGER NOT NULL,     -- marks <= this are in the base
    base_root BLOB NOT NULL,       -- root tree key of the base snapshot
    base_stamp TEXT NOT NULL,      -- what labels and excludes depend on, as the base saw it
    base_labels TEXT NOT NULL      -- digest of git's tracked and ignored sets at the base
);
-- name NULL: the folder dir is marked; else its entry dir/name; at (schema 9): when the
-- daemon wrote it (wall seconds; NULL: by older code), the change was made before that
CREATE TABLE IF NOT EXISTS marks (seq INTEGER PRIMARY KEY AUTOINCREMENT, dir BLOB NOT NULL,
    name BLOB, at REAL);
CREATE TABLE IF NOT EXISTS syncs (token TEXT PRIMARY KEY, at REAL NOT NULL);
-- big trees the daemon covers by a root watch and slow scans: a file rewritten in place in
-- them has no event, so no folder in them is ever taken as clean (tagged: CACHEDIR.TAG)
CREATE TABLE IF NOT EXISTS scanned (dir BLOB PRIMARY KEY, tagged INTEGER NOT NULL);
-- the prepared tree (schema 3): the watcher's worker rebuilt the base with the marks up to seq
-- and stored its objects (no snapshot names them); a snapshot of the same epoch, base, stamp,
-- labels and store generation commits it, rebuilding only what was marked after seq
CREATE TABLE IF NOT EXISTS prep (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    epoch INTEGER NOT NULL,
    base_seq INTEGER NOT NULL,     -- the base it was built on (state.base_seq, base_root then)
    base_root BLOB NOT NULL,
    seq INTEGER NOT NULL,          -- marks <= this are in it
    root BLOB NOT NULL,
    stamp TEXT NOT NULL,
    labels TEXT NOT NULL,
    generation TEXT NOT NULL,      -- the index's: gc deleting objects makes another
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    extra BLOB NOT NULL            -- marshal: (skipped paths, changed paths or None, git ids)
);
-- the worker is preparing one with the marks up to seq (a hook may wait for it)
CREATE TABLE IF NOT EXISTS preparing (one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL, pid INTEGER NOT NULL, at REAL NOT NULL);
-- (schema 4) a hook synced while the worker could prepare what it would rebuild: the daemon
-- (pid) has the worker prepare the marks up to seq next, and the hook waits for that
CREATE TABLE IF NOT EXISTS wanted (one INTEGER PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL, pid INTEGER NOT NULL, at REAL NOT NULL);
-- (schema 5) the worktree's top (dir b'') or mount points in it on a file system outside
-- walker.TRUSTED_FS (fs: its type): a change made elsewhere (the other side of a FUSE, NFS, 9p
-- or cifs mount) raises no event, so no folder at or below one is ever taken as clean, not
-- even by the daemon's own snapshots: they are walked as without a watcher (RED38 A1c)
CREATE TABLE IF NOT EXISTS blind (dir BLOB PRIMARY KEY, fs TEXT NOT NULL);
-- (schema 6) folders holding a regular file with other names (st_nlink > 1): a write through
-- another name, in another folder or outside the worktree, raises no event here, so every
-- snapshot lists them as if marked (the daemon keeps them: WatchSet.linked; RED38 A1a)
CREATE TABLE IF NOT EXISTS linked (dir BLOB PRIMARY KEY);
-- (schema 11) their files with other names, as the daemon (pid) found them: name b'' for
-- every file of the folder (it named none: too many, or all of them); gone: when it found
-- the name no longer so (a look after git wrote a file there with one name), kept a while:
-- post-checkout asks whether the file git wrote had other names at any time after the
-- prepared tree read it, and asks about that file, not its folder (s51). A linked folder
-- without a row here of the daemon watching (state.pid: an older daemon keeps linked alone
-- and leaves these as they were) counts whole. Dir x'00' (ALL, which an older hook takes
-- for a folder no path lies in; s52): name 'deleted', gone: the newest gone of a name
-- deleted as older than GONE_KEPT_S (0.0: none), a prepared tree begun before it is set
-- aside (a daemon writing no such row is older code); name b'', gone NULL while a link made
-- has other names no look has found yet, then when one did: a tree is set aside when git
-- began before that
CREATE TABLE IF NOT EXISTS linked_names (dir BLOB NOT NULL, name BLOB NOT NULL,
    pid INTEGER NOT NULL, gone REAL, PRIMARY KEY (dir, name));
-- (schema 7) the mounts at or below the worktree when the daemon set it up (:func:`mounts`):
-- a mount made since covers folders whose watches stay on the folders below it, so while
-- those a snapshot finds differ, it takes no folder as clean (review38 RA)
CREATE TABLE IF NOT EXISTS mounts (mount BLOB PRIMARY KEY);
-- (schema 8) the worktree's top folder (st_dev, st_ino) the daemon set up: another folder put
-- at its path (a backup copy swapped in, a fresh clone) raises no event on the watches, which
-- stay on the folder moved away, so while the top a snapshot finds differs, it takes no folder
-- as clean (RED39 E1)
CREATE TABLE IF NOT EXISTS top (one INTEGER PRIMARY KEY CHECK (one = 1), dev INTEGER NOT NULL,
    ino INTEGER NOT NULL);
"""


def _id(worktree: str) -> str:
    real = os.path.realpath(worktree)
    return name_digest(os.fsencode(real))[:32]  # without OpenSSL (hooks call this)


def watch_dir(store_path: str) -> str:
    """The folder of the dirty sets and sync tokens (the daemon watches it for tokens)."""
    return os.path.join(store_path, "watch")


def journal_path(store_path: str, worktree: str) -> str:
    return os.path.join(watch_dir(store_path), _id(worktree) + ".dirty")


# PRAGMA user_version once the schema is in place (2: marks.name, 3: prep, 4: wanted, 5: blind,
# 6: linked, 7: mounts, 8: top, 9: marks.at, 10: state.base_ignored, 11: linked_names;
# code of schema 2 reads a file of 3 and leaves its prep alone: it only ever matches the base it
# was built on; code of schema 3 never writes wanted, and its hooks do not wait for it)
SCHEMA_VERSION = 11
# journal path and thread -> its connection, kept for the life of the process: a hook opens
# the journal once (plan, sync, begin and finish share it), the daemon once per worktree
_OPEN: dict[tuple[str, int], sqlite3.Connection] = {}
MAX_OPEN = 16


@contextlib.contextmanager
def _db(store_path: str, worktree: str, create: bool = True) -> Iterator[sqlite3.Connection]:
    path = journal_path(store_path, worktree)
    key = (path, _thread.get_ident())  # a connection serves the thread that made it
    con = _OPEN.get(key)
    if con is None:
        con = _open(store_path, worktree, path, create)
        while len(_OPEN) >= MAX_OPEN:  # a long-lived process with many journals
            _OPEN.pop(next(iter(_OPEN))).close()
        _OPEN[key] = con
    try:
        yield con
    except sqlite3.Error:
        _OPEN.pop(key, None)  # opened afresh next time
        con.close()
        raise


def _open(store_path: str, worktree: str, path: str, create: bool) -> sqlite3.Connection:
    if create:
        os.makedirs(watch_dir(store_path), mode=0o700, exist_ok=True)
    elif not os.path.exists(path):
        raise FileNotFoundError(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # 0600 before sqlite opens it
    os.close(fd)
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    try:
        con.execute("PRAGMA synchronous=NORMAL")
        if con.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
            return con
        con.execute("PRAGMA journal_mode=WAL")  # kept in the file
        con.executescript(_SCHEMA)
        columns = {r[1] for r in con.execute("PRAGMA table_info(marks)")}
        for column, kind in (("name", "BLOB"), ("at", "REAL")):
            if column not in columns:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it
                    con.execute(f"ALTER TABLE marks ADD COLUMN {column} {kind}")
        if con.execute("SELECT 1 FROM state").fetchone() is None:
            con.execute(
                "INSERT OR IGNORE INTO state (one, worktree, epoch, pid, reason, base_epoch,"
                " base_seq, base_root, base_stamp, base_labels)"
                " VALUES (1, ?, 0, 0, 'new', -1, 0, x'', '', '')",
                (os.path.realpath(worktree),),
            )
        # (schema 10) git's ignored answer at the base, packed (:func:`pack`), NULL: not kept
        if "base_ignored" not in {r[1] for r in con.execute("PRAGMA table_info(state)")}:
            with contextlib.suppress(sqlite3.OperationalError):  # another process added it
                con.execute("ALTER TABLE state ADD COLUMN base_ignored BLOB")
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def _tx(con: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """A write transaction (*begin* "BEGIN": a read one, which sees one state throughout)."""
    con.execute(begin)
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _new_epoch(con: sqlite3.Connection, pid: int, reason: str) -> None:
    con.execute(
        "UPDATE state SET epoch = epoch + 1, pid = ?, reason = ?, base_epoch = -1, base_seq = 0,"
        " base_root = x'', base_stamp = '', base_labels = '', base_ignored = NULL",
        (pid, reason),
    )
    con.execute("DELETE FROM marks")
    con.execute("DELETE FROM prep")
    con.execute("DELETE FROM wanted")


# --------------------------------------------------------------------------- the daemon's side


def watching(
    store_path: str,
    worktree: str,
    big: Iterable[tuple[str, bool]] = (),
    blind: Iterable[tuple[str, str]] = (),
    linked: Linked = (),
    mounts_seen: Iterable[bytes] = (),
    top: tuple[int, int] | None = None,
) -> None:
    """Every watch of *worktree* is set up (by this process): a new epoch starts; everything
    before it counts as dirty. *big*: (absolute root, has CACHEDIR.TAG) of every tree covered
    by slow scans instead of watches (see :func:`scanned`); *blind*: (absolute folder, file
    system type) of the top or mount points on a file system events do not cover; *linked*:
    see :func:`set_linked`; *mounts_seen*: :func:`mounts` as the watches were set up; *top*:
    the (st_dev, st_ino) of the top folder watched (None: not known, not compared)."""
    rows = _big_rows(worktree, big)
    bases = worktree_bases(worktree)
    dark = [(r, fs) for r, fs in ((rel_path(bases, d), fs) for d, fs in blind) if r is not None]
    with _db(store_path, worktree) as con, _tx(con):
        _new_epoch(con, os.getpid(), "watching")
        con.execute("DELETE FROM scanned")
        con.executemany("INSERT OR REPLACE INTO scanned VALUES (?, ?)", rows)
        con.execute("DELETE FROM blind")
        con.executemany("INSERT OR REPLACE INTO blind VALUES (?, ?)", dark)
        _put_linked(con, bases, linked)
        con.execute("DELETE FROM mounts")
        con.executemany("INSERT OR REPLACE INTO mounts VALUES (?)", [(m,) for m in mounts_seen])
        con.execute("DELETE FROM top")
        if top is not None:
            con.execute("INSERT INTO top VALUES (1, ?, ?)", top)


def set_linked(store_path: str, worktree: str, linked: Linked) -> None:
    """*linked* (absolute folders) are those of *worktree* that hold a regular file with other
    names, now: every snapshot lists them (see :func:`begin`); a dict gives each one's names
    of those files (None: not named, the whole folder counts), and its key OTHERS_UNKNOWN
    that a link was made whose other names no look has found yet. A folder that leaves the set is
    marked in the same transaction: what was written there through another name before may be
    in no snapshot yet, and a hook reading the set without it must read its mark (the daemon
    writes its own marks in a later transaction, after a hook's sync may have been answered)."""
    bases = worktree_bases(worktree)
    with _db(store_path, worktree) as con, _tx(con):
        gone = linked_dirs(con) - _put_linked(con, bases, linked)
        at = time.time()
        con.executemany(
            "INSERT INTO marks (dir, name, at) VALUES (?, NULL, ?)", [(d, at) for d in gone]
        )


# how long a name found no longer linked is kept (linked_names.gone): a prepared tree begun
# before the newest gone of those deleted is set aside (ALL DELETED; prep.changed_since)
GONE_KEPT_S = 3600.0
# linked_names' rows that set aside every prepared tree (see _SCHEMA): the folder, and the
# names of the newest gone deleted, and of a link whose other names no look has found yet
ALL = b"\0"
DELETED = b"deleted"
UNKNOWN = b""
# ALL's name for a linked folder published whole only while UNKNOWN is: session 51's hooks
# judge a file by the names alone, and relied on its daemon publishing every linked folder
# whole meanwhile (9a83c20); gone with that folder's row b'' at once, which this code's hooks
# then skip (linked_names): they are judged by UNKNOWN against git's start
WHOLE = b"whole/"
# the key of *linked* (set_linked) that says a link was made whose other names no look has
# found yet (WatchSet.unknown_at): ALL UNKNOWN is published without a gone
OTHERS_UNKNOWN = "\0"


def _put_linked(con: sqlite3.Connection, bases: tuple[bytes, ...], linked: Linked) -> set[bytes]:
    """Replace the linked folders by *linked*, and their names: a name no longer among them
    is kept as gone (now), up to GONE_KEPT_S, then ALL DELETED's gone is at least its gone;
    those now in the table."""
    named = linked if isinstance(linked, dict) else {}
    rows = {}
    for d in linked:
        r = rel_path(bases, d) if d != OTHERS_UNKNOWN else None
        if r is not None:
            rows[r] = named.get(d) or ("",)  # (b'': the whole folder)
    con.execute("DELETE FROM linked")
    con.executemany("INSERT OR REPLACE INTO linked VALUES (?)", [(r,) for r in rows])
    pid, now = os.getpid(), time.time()
    con.execute("DELETE FROM linked_names WHERE pid != ?", (pid,))  # (another epoch's)
    old = (now - GONE_KEPT_S, ALL)
    # (a folder's row b'' of an UNKNOWN period, gone with its WHOLE row: no name deleted)
    (cut,) = con.execute(
        "SELECT max(n.gone) FROM linked_names n WHERE n.gone < ?1 AND n.dir != ?2 AND NOT"
        " (n.name = x'' AND EXISTS (SELECT 1 FROM linked_names m WHERE m.dir = ?2"
        " AND m.name = CAST(?3 || n.dir AS BLOB) AND m.gone = n.gone))",
        (*old, WHOLE),
    ).fetchone()
    con.execute("DELETE FROM linked_names WHERE gone < ? AND dir != ?", old)
    con.execute(
        "DELETE FROM linked_names WHERE gone < ? AND dir = ? AND substr(name, 1, ?) = ?",
        (*old, len(WHOLE), WHOLE),
    )
    con.execute("INSERT OR IGNORE INTO linked_names VALUES (?, ?, ?, 0.0)", (ALL, DELETED, pid))
    if cut is not None:
        con.execute(
            "UPDATE linked_names SET gone = max(gone, ?) WHERE dir = ? AND name = ?",
            (cut, ALL, DELETED),
        )
    want = {(r, os.fsencode(name)) for r, names in rows.items() for name in names}
    if OTHERS_UNKNOWN in named:
        want.add((ALL, UNKNOWN))
        # (a folder found whole before keeps that row's gone: this code's hooks judge by it)
        kept = {
            bytes(d)
            for (d,) in con.execute(
                "SELECT n.dir FROM linked_names n WHERE n.name = x'' AND n.gone IS NOT NULL"
                " AND n.dir != ?1 AND NOT EXISTS (SELECT 1 FROM linked_names m"
                " WHERE m.dir = ?1 AND m.name = CAST(?2 || n.dir AS BLOB) AND m.gone = n.gone)",
                (ALL, WHOLE),
            )
        }
        for r, names in rows.items():
            if names != ("",) and r not in kept:  # (whole already: a row b'' of its own)
                want |= {(r, b""), (ALL, WHOLE + r)}
    have = {
        (bytes(d), bytes(n))
        for d, n in con.execute("SELECT dir, name FROM linked_names WHERE gone IS NULL")
    }
    con.executemany(
        "UPDATE linked_names SET gone = ? WHERE dir = ? AND name = ?",
        [(now, d, n) for d, n in have - want],
    )
    con.executemany(
        "INSERT OR REPLACE INTO linked_names VALUES (?, ?, ?, NULL)",
        [(d, n, pid) for d, n in want - have],
    )
    return set(rows)


def linked_dirs(con: sqlite3.Connection) -> set[bytes]:
    """The folders holding a file with other names (in a transaction of *con*): listed by
    every snapshot, as marked ones are, and never part of what a prepared tree settled."""
    return {bytes(d) for (d,) in con.execute("SELECT dir FROM linked")}


def linked_names(
    con: sqlite3.Connection, since: float | None = None
) -> dict[bytes, frozenset[bytes] | None]:
    """The folders holding a file with other names (in a transaction of *con*), each with
    the names of those files, or None: the whole folder counts (the daemon named none: too
    many, all of them, or the set is older code's); with *since* (wall seconds), also those
    found so at any time after it (gone since, see _put_linked). Names written by another
    process than the daemon watching (state.pid) are not trusted: every folder of
    :func:`linked_dirs` counts whole then."""
    named: dict[bytes, set[bytes] | None] = {}
    current: set[bytes] = set()
    # (a folder published whole for older hooks while a link's other names were unknown:
    # judged by its names and by ALL UNKNOWN, prep.changed_since)
    whole = {
        bytes(n)[len(WHOLE) :]: gone
        for n, gone in con.execute(
            "SELECT n.name, n.gone FROM linked_names n, state s WHERE n.pid = s.pid"
            " AND n.dir = ? AND substr(n.name, 1, ?) = ? AND n.gone IS NOT NULL",
            (ALL, len(WHOLE), WHOLE),
        )
    }
    for d, n, gone in con.execute(
        "SELECT n.dir, n.name, n.gone FROM linked_names n, state s WHERE n.pid = s.pid"
        " AND s.pid != 0 AND (n.gone IS NULL OR n.gone > ?) AND n.dir != ?",
        (float("inf") if since is None else since, ALL),
    ):
        d = bytes(d)
        if not n and gone is not None and whole.get(d) == gone:
            continue
        if gone is None:
            current.add(d)
        got = named.setdefault(d, set())
        if not n:
            named[d] = None
        elif got is not None:
            got.add(bytes(n))
    for d in linked_dirs(con) - current:
        named[d] = None
    return {d: None if n is None else frozenset(n) for d, n in named.items()}


def scanned(store_path: str, worktree: str, big: Iterable[tuple[str, bool]]) -> None:
    """More trees covered by slow scans (a node_modules that appeared). A snapshot never
    reuses a folder in them: call this before marking anything found in them."""
    rows = _big_rows(worktree, big)
    if rows:
        with _db(store_path, worktree) as con, _tx(con):
            con.executemany("INSERT OR REPLACE INTO scanned VALUES (?, ?)", rows)


def _big_rows(worktree: str, big: Iterable[tuple[str, bool]]) -> list[tuple[bytes, int]]:
    bases = worktree_bases(worktree)
    return [(r, int(t)) for r, t in ((rel_path(bases, d), t) for d, t in big) if r is not None]


def mark(store_path: str, worktree: str, dirs: Iterable[str], entries: Iterable[str] = ()) -> None:
    """*dirs* (absolute folders) had entries added, removed or changed that no event named;
    *entries* (absolute paths) were created, written, deleted, renamed or chmodded."""
    bases = worktree_bases(worktree)
    rows: list[tuple[bytes, bytes | None]] = [
        (r, None) for r in (rel_path(bases, d) for d in dirs) if r is not None
    ]
    for p in entries:
        r = rel_path(bases, p)
        if r is None:
            continue
        if not r:  # the worktree's root itself: its folder
            rows.append((r, None))
            continue
        parent, _, name = r.rpartition(b"/")
        rows.append((parent, name))
    if not rows:
        return
    with _db(store_path, worktree) as con, _tx(con):
        at = time.time()  # (after the change: a hook asks whether git had begun by then)
        con.executemany(
            "INSERT INTO marks (dir, name, at) VALUES (?, ?, ?)", [(*r, at) for r in rows]
        )


def mark_all(store_path: str, worktree: str, reason: str) -> None:
    """Events were lost (queue overflow, a failed watch, polling): the next snapshot walks
    everything. The daemon goes on watching: the epoch it starts is still its own."""
    with _db(store_path, worktree) as con, _tx(con):
        _new_epoch(con, os.getpid(), reason or "mark_all")


def stopped(store_path: str, worktree: str) -> None:
    """Nobody watches *worktree* any more."""
    with (
        contextlib.suppress(FileNotFoundError),
        _db(store_path, worktree, create=False) as con,
        _tx(con),
    ):
        _new_epoch(con, 0, "stopped")
        con.execute("DELETE FROM scanned")
        con.execute("DELETE FROM blind")
        con.execute("DELETE FROM linked")
        con.execute("DELETE FROM linked_names")
        con.execute("DELETE FROM mounts")
        con.execute("DELETE FROM top")


def top_seq(con: sqlite3.Connection) -> int:
    """The seq of the last mark, or the base's when none is left (in a transaction of *con*)."""
    return int(
        con.execute(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM marks), 0), base_seq) FROM state"
        ).fetchone()[0]
    )


def marked_upto(store_path: str, worktree: str) -> tuple[int, int]:
    """The daemon, answering a hook's sync: the epoch and the seq the hook's snapshot covers
    at least (:func:`top_seq`); (-1, -1) without a dirty set."""
    try:
        with _db(store_path, worktree, create=False) as con:
            return int(con.execute("SELECT epoch FROM state").fetchone()[0]), top_seq(con)
    except (FileNotFoundError, sqlite3.Error, TypeError):
        return -1, -1


def covered(store_path: str, worktree: str, synced: tuple[int, int]) -> bool:
    """A snapshot covering the marks :func:`marked_upto` gave (*synced*) was committed (the
    base of that epoch reached its seq), or that epoch ended (the next snapshot walks
    everything): nothing to wait for. False while it may still be under way, also while the
    epoch has no base yet (its first snapshot, the hook's maybe, has not committed)."""
    try:
        with _db(store_path, worktree, create=False) as con:
            epoch, base_epoch, base_seq = con.execute(
                "SELECT epoch, base_epoch, base_seq FROM state"
            ).fetchone()
    except (FileNotFoundError, sqlite3.Error, TypeError):
        return True
    if epoch != synced[0]:
        return True
    return bool(base_epoch == epoch and base_seq >= synced[1])


def clean(store_path: str, worktree: str) -> bool:
    """The base of the current epoch holds every mark made in it: a committed snapshot (a
    hook's, say) holds all the daemon has seen change, and a watch snapshot now would be that
    snapshot again. False without a base of this epoch, or when anything is marked after it."""
    try:
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            epoch, base_epoch, base_seq = con.execute(
                "SELECT epoch, base_epoch, base_seq FROM state"
            ).fetchone()
            later = con.execute("SELECT 1 FROM marks WHERE seq > ? LIMIT 1", (base_seq,))
            return bool(base_epoch == epoch and later.fetchone() is None)
    except (FileNotFoundError, sqlite3.Error, TypeError):
        return False


def synced(store_path: str, token_path: str) -> None:
    """The daemon read the event of sync token *token_path* (a file in :func:`watch_dir`) after
    marking every earlier event: acknowledge it to the waiting snapshot."""
    name = os.path.basename(token_path)
    if not name.endswith(SYNC_SUFFIX):
        return
    wid, _, token = name[: -len(SYNC_SUFFIX)].partition("-")
    path = os.path.join(watch_dir(store_path), wid + ".dirty")
    if not token or not os.path.exists(path):
        return
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        con.execute("INSERT OR REPLACE INTO syncs VALUES (?, ?)", (token, time.time()))
    finally:
        con.close()


def token_pid(token_path: str) -> int:
    """The pid of the process that wrote sync token *token_path* (``WID-PID-RANDOM.sync``;
    0 for a token of an older version, ``WID-RANDOM.sync``)."""
    name = os.path.basename(token_path)[: -len(SYNC_SUFFIX)]
    pid, dash, _ = name.partition("-")[2].partition("-")
    return int(pid) if dash and pid.isdigit() else 0


def entry_path(d: bytes, name: bytes) -> bytes:
    """A marks row's entry (its folder *d*, b"" at the top, and *name*) as one relative path."""
    return bytes(d) + b"/" + bytes(name) if d else bytes(name)


def worktree_bases(worktree: str) -> tuple[bytes, ...]:
    """What the daemon's paths of *worktree* start with: its real path, or the path as given
    (found once for a batch of paths: a realpath is an lstat of each of its components)."""
    return os.fsencode(os.path.realpath(worktree)), os.fsencode(os.path.abspath(worktree))


def rel_path(bases: tuple[bytes, ...], d: str) -> bytes | None:
    """*d* (a path the daemon gives) from the worktree's top (b"": the top itself), or None
    when it is outside it or in its .git (*bases*: worktree_bases)."""
    raw = os.fsencode(d)
    # the daemon gives the paths it watches: under the worktree's real path or as given
    for base in bases:
        if raw == base:
            return b""
        if raw.startswith(base + b"/"):
            rel = os.path.normpath(raw[len(base) + 1 :])
            if rel == b".git" or rel.startswith(b".git/"):
                return None
            return rel
    return None


# --------------------------------------------------------------------------- the snapshot's side


class Begun:
    """What a snapshot read when it started (a plain class: no dataclasses on the hook path)."""

    __slots__ = (
        "base_epoch",
        "base_labels",
        "base_root",
        "base_seq",
        "base_stamp",
        "blind",
        "dirs",
        "entries",
        "epoch",
        "mounts",
        "pid",
        "scanned",
        "seq",
        "top",
    )

    def __init__(
        self,
        epoch: int,
        pid: int,  # the daemon watching in this epoch, 0 if none
        seq: int,  # every mark <= seq is in ``dirs`` and ``entries``
        dirs: frozenset[bytes],  # relative folders marked since the base (b"" is the root)
        base_epoch: int,
        base_root: bytes,
        base_stamp: str,
        base_labels: str,
        # trees covered by slow scans (root, has CACHEDIR.TAG): never clean
        scanned: frozenset[tuple[bytes, bool]] = frozenset(),
        entries: frozenset[bytes] = frozenset(),  # relative paths of the entries marked
        base_seq: int = -1,  # the base's (state.base_seq)
        # folders on a file system whose changes made elsewhere raise no event: never clean
        blind: frozenset[bytes] = frozenset(),
        # the mounts at or below the worktree as the daemon set it up (mounts())
        mounts: frozenset[bytes] = frozenset(),
        # the top folder's (st_dev, st_ino) the daemon set up; None: not recorded
        top: tuple[int, int] | None = None,
    ) -> None:
        self.epoch = epoch
        self.pid = pid
        self.seq = seq
        self.dirs = dirs
        self.base_epoch = base_epoch
        self.base_root = base_root
        self.base_stamp = base_stamp
        self.base_labels = base_labels
        self.scanned = scanned
        self.entries = entries
        self.base_seq = base_seq
        self.blind = blind
        self.mounts = mounts
        self.top = top

    def replace(self, **changes: Any) -> Begun:
        values = {k: getattr(self, k) for k in self.__slots__}
        values.update(changes)
        return Begun(**values)

    @property
    def has_base(self) -> bool:
        return self.base_epoch == self.epoch and self.pid != 0

    @property
    def marked(self) -> bool:
        """Anything changed since the base."""
        return bool(self.dirs or self.entries)

    def untrusted(self, skip_cache_dirs: bool = True) -> frozenset[bytes]:
        """The roots of the trees whose folders are never taken as clean: those the daemon
        only scans (a CACHEDIR.TAG tree only when it is snapshotted at all), those on a file
        system events do not cover (blind)."""
        scanned = (d for d, tagged in self.scanned if not (tagged and skip_cache_dirs))
        return frozenset(scanned) | self.blind

    def clean(self, skip_cache_dirs: bool = True) -> CleanSet:
        return CleanSet(self.dirs, self.untrusted(skip_cache_dirs), self.entries)


class CleanSet:
    """Answers "is this directory and everything below it unchanged since the base?", and,
    for store/rebuild.py, which entries of a changed folder to look at again.

    A folder in an *untrusted* tree (covered by slow scans: a file rewritten in place there
    has no event) never is clean, nor any folder above one. A marked entry makes its folder
    and those above it changed, not itself (a folder chmodded is looked at, not listed)."""

    def __init__(
        self, dirs: Iterable[bytes], untrusted: Iterable[bytes] = (), entries: Iterable[bytes] = ()
    ) -> None:
        from git_snapshot.store.walker import touched_up  # (loaded: the archiver's)

        self.untrusted = frozenset(untrusted)
        self.listed = frozenset(dirs)  # folders whose entries must all be looked at
        # folder -> the names in it to look at again: marked entries, changed folders
        names: dict[bytes, set[bytes]] = {}
        marked: list[bytes] = []
        tops = [*self.listed, *self.untrusted]
        for d in entries:
            if d in self.listed or d in self.untrusted:
                tops.append(d)
            else:  # an entry: its folder changed
                parent, _, name = d.rpartition(b"/")
                names.setdefault(parent, set()).add(name)
                marked.append(d)
                tops.append(parent)
        # they and every folder above them have changed below them
        self.touched = touched_up(tops, names)
        self.names = {k: frozenset(v) for k, v in names.items()}
        self.marked = marked  # the entries marked (the rebuild reads small files ahead)

    def __call__(self, rel: bytes) -> bool:
        if rel in self.touched:
            return False
        if self.untrusted:
            d = rel
            while d:
                d = d.rpartition(b"/")[0]
                if d in self.untrusted:
                    return False
        return True

    def changed(self, rel: bytes) -> bool:
        """Something at or below folder *rel* changed (the rebuild looks inside it)."""
        return rel in self.touched

    def relist(self, rel: bytes) -> bool:
        """Folder *rel* must be listed: its entries changed in ways no event named."""
        return rel in self.listed

    def look_at(self, rel: bytes) -> frozenset[bytes]:
        """The names in changed folder *rel* to look at again (the others are as in the
        base)."""
        return self.names.get(rel, _NONE)


_NONE: frozenset[bytes] = frozenset()


def begin(
    store_path: str, worktree: str, marks: bool = True, upto: int | None = None
) -> Begun | None:
    """The state and the marks so far (without *marks*: none read, for a caller that reads
    them again after a sync; with *upto*: only those up to that seq), or None when no daemon
    ever watched *worktree*."""
    try:
        with _db(store_path, worktree, create=False) as con, _tx(con, "BEGIN"):
            row = con.execute(
                "SELECT epoch, pid, base_epoch, base_seq, base_root, base_stamp, base_labels"
                " FROM state"
            ).fetchone()
            epoch, pid, base_epoch, base_seq, root, stamp, labels = row
            seq = con.execute("SELECT COALESCE(MAX(seq), 0) FROM marks").fetchone()[0]
            if upto is not None:
                seq = min(seq, upto)
            dirs: set[bytes] = set()
            entries: set[bytes] = set()
            for d, name in con.execute(
                "SELECT DISTINCT dir, name FROM marks WHERE seq <= ?", (seq if marks else -1,)
            ):
                if name is None:
                    dirs.add(bytes(d))
                else:
                    entries.add(entry_path(d, name))
            big = frozenset(
                (bytes(d), bool(t)) for d, t in con.execute("SELECT dir, tagged FROM scanned")
            )
            blind = frozenset(bytes(d) for (d,) in con.execute("SELECT dir FROM blind"))
            seen = frozenset(bytes(m) for (m,) in con.execute("SELECT mount FROM mounts"))
            got = con.execute("SELECT dev, ino FROM top").fetchone()
            # a write through another name of a file there raises no event in its folder:
            # listed as if marked (RED38 A1a)
            dirs |= linked_dirs(con)
    except (FileNotFoundError, sqlite3.Error):
        return None
    return Begun(
        epoch,
        pid,
        max(seq, base_seq),
        frozenset(dirs),
        base_epoch,
        bytes(root),
        stamp,
        labels,
        big,
        frozenset(entries),
        base_seq,
        blind,
        seen,
        (int(got[0]), int(got[1])) if got is not None else None,
    )


def finish(
    store_path: str,
    worktree: str,
    begun: Begun,
    root: bytes,
    stamp: str,
    labels: str,
    ignored: bytes | None = None,
) -> None:
    """A snapshot that started with *begun* committed *root*: it becomes the base (when it is
    of the current epoch and newer than the base) and the marks it covered are dropped.
    *ignored*: git's ignored answer the *labels* were made of, packed (:func:`pack`); None:
    the base's is kept when the labels are the base's, else none is."""
    with (
        contextlib.suppress(FileNotFoundError, sqlite3.Error),
        _db(store_path, worktree, create=False) as con,
        _tx(con),
    ):
        epoch, pid, base_epoch, base_seq, base_root = con.execute(
            "SELECT epoch, pid, base_epoch, base_seq, base_root FROM state"
        ).fetchone()
        if epoch != begun.epoch or pid == 0:
            return  # the epoch ended while it walked: its base would miss events
        if base_epoch == epoch and base_seq > begun.seq:
            return  # a later snapshot finished first
        if base_epoch == epoch:
            _keep_dropped(con, epoch, base_seq, bytes(base_root), begun.seq)
        con.execute(
            "UPDATE state SET base_epoch = ?, base_seq = ?, base_root = ?, base_stamp = ?,"
            " base_ignored = CASE WHEN ?5 IS NOT NULL THEN ?5 WHEN base_labels = ?6 THEN"
            " base_ignored END, base_labels = ?6",
            (epoch, begun.seq, root, stamp, ignored, labels),
        )
        con.execute("DELETE FROM marks WHERE seq <= ?", (begun.seq,))
        # a prepared tree is built on one base: this one's only if the base stayed the same
        con.execute("DELETE FROM prep WHERE base_seq != ? OR base_root != ?", (begun.seq, root))


# The marks a finish dropped after a prepared tree logged on the base it replaced (s51): a
# post-checkout hook whose git began before that snapshot committed (the watcher's, sent as
# git began: its walk read git's versions) may still commit that tree (prep.logged_before),
# asking these as it asks the marks after a tree (prep.changed_since). The last finish's
# only (``dropcover``: the base they were after, and the marks kept, seq in (from, to]).
_DROPPED_TABLES = (
    "CREATE TABLE IF NOT EXISTS dropped (seq INTEGER PRIMARY KEY, dir BLOB NOT NULL,"
    " name BLOB, at REAL)",
    "CREATE TABLE IF NOT EXISTS dropcover (one INTEGER PRIMARY KEY CHECK (one = 1),"
    " epoch INTEGER NOT NULL, base_seq INTEGER NOT NULL, base_root BLOB NOT NULL,"
    " from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL)",
)
DROPPED_AT_MOST = 4096  # marks kept so; more, and none: such a tree is set aside


def _keep_dropped(
    con: sqlite3.Connection, epoch: int, base_seq: int, base_root: bytes, upto: int
) -> None:
    """finish: keep the marks it drops (up to *upto*) after the oldest logged prepared tree
    built on the base it replaces (*base_seq*, *base_root*), when there is one: one query
    of a usual finish (none logged, or none of the marks up to *upto*). A tree of all of
    them (none dropped after it) is covered too: the base moved all the same."""
    try:
        (first,) = con.execute(
            "SELECT MIN(seq) FROM prep_log WHERE epoch = ? AND base_seq = ? AND base_root = ?"
            " AND seq <= ?",
            (epoch, base_seq, base_root, upto),
        ).fetchone()
    except sqlite3.OperationalError:  # (no prep_log: no tree ever logged)
        return
    if first is None:
        return
    for table in _DROPPED_TABLES:
        con.execute(table)
    con.execute("DELETE FROM dropcover")
    con.execute("DELETE FROM dropped")
    (n,) = con.execute(
        "SELECT COUNT(*) FROM marks WHERE seq > ? AND seq <= ?", (first, upto)
    ).fetchone()
    if n > DROPPED_AT_MOST:
        return
    con.execute(
        "INSERT INTO dropped SELECT seq, dir, name, at FROM marks WHERE seq > ? AND seq <= ?",
        (first, upto),
    )
    con.execute(
        "INSERT INTO dropcover VALUES (1, ?, ?, ?, ?, ?)", (epoch, base_seq, base_root, first, upto)
    )


# (store, worktree) -> the token a hook wrote early (sync_start) and the path of its file
_STARTED: dict[tuple[str, str], tuple[str, str]] = {}
# token -> when waiting for its answer ends (time.monotonic), set by the first wait: a hook
# that waited for it before its snapshot's sync (prep.git_locked) waits one timeout in all
_GIVE_UP: dict[str, float] = {}


def _write_token(store_path: str, worktree: str) -> tuple[str, str] | None:
    # its name says which process synced: the daemon records a burst of the worktree that
    # ends meanwhile after that process (a hook) has written its loss report (token_pid)
    token = f"{os.getpid()}-{os.urandom(8).hex()}"
    path = os.path.join(watch_dir(store_path), f"{_id(worktree)}-{token}{SYNC_SUFFIX}")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except OSError:
        return None
    return token, path


def sync_start(store_path: str, worktree: str) -> None:
    """Write the token of the next :func:`sync` of *worktree* now: a hook (after git's own
    writes) does so as soon as it knows a daemon watches, and the daemon answers while the
    hook imports and opens the store (1-2 ms of waiting less, more on a loaded machine).
    What the sync promises is unchanged: every change made before the token was written."""
    if (store_path, worktree) not in _STARTED:
        got = _write_token(store_path, worktree)
        if got is not None:
            _STARTED[(store_path, worktree)] = got


def sync_abandon() -> None:
    """Remove the tokens sync_start wrote that no sync used (the acknowledgement's row goes
    with the next sync's sweep of rows older than a minute)."""
    _GIVE_UP.clear()
    while _STARTED:
        _, path = _STARTED.popitem()[1]
        with contextlib.suppress(OSError):
            os.unlink(path)


def sync(store_path: str, worktree: str, timeout: float = SYNC_TIMEOUT_S) -> bool:
    """Make sure the daemon has marked every change made before now (or before this hook's
    sync_start): True once it has acknowledged a fresh token, False if it did not within
    *timeout*."""
    got = _STARTED.pop((store_path, worktree), None) or _write_token(store_path, worktree)
    if got is None:
        return False
    token, path = got
    try:
        start = time.monotonic()
        deadline = min(start + timeout, _GIVE_UP.pop(token, start + timeout))
        delay = 0.0002
        with _db(store_path, worktree, create=False) as con:
            while True:
                got = con.execute("SELECT 1 FROM syncs WHERE token = ?", (token,)).fetchone()
                if got is not None:
                    con.execute(
                        "DELETE FROM syncs WHERE token = ? OR at < ?", (token, time.time() - 60)
                    )
                    return True
                if time.monotonic() > deadline:
                    return False
                time.sleep(delay)
                # the daemon answers in 1-2 ms: look every 0.2 ms until 20 ms have passed
                # (a query costs ~30 us), then back off (a doubling delay from 0.5 ms made
                # the usual hook wait 5-6 ms for an answer there after 1.5)
                if time.monotonic() - start > 0.02:
                    delay = min(delay * 2, 0.01)
    except (FileNotFoundError, sqlite3.Error):
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def status(store_path: str, worktree: str) -> dict[str, object]:
    """For ``watch status``: the epoch, who watches, why the last epoch ended, marks pending."""
    b = begin(store_path, worktree)
    if b is None:
        return {"epoch": 0, "watching": False, "pending_dirs": 0, "base": False}
    return {
        "epoch": b.epoch,
        "watching": b.pid != 0,
        "pending_dirs": len(b.dirs | {e.rpartition(b"/")[0] for e in b.entries}),
        "base": b.has_base,
    }


# --------------------------------------------------------------------------- worktree.take()


class Plan:
    """How one snapshot of a watched worktree may use the dirty set (see worktree.take)."""

    __slots__ = (
        "begun",
        "extra",
        "skip_cache_dirs",
        "stamp",
        "synced",
        "trust_scanned",
        "worktree",
    )

    def __init__(
        self,
        worktree: str,
        begun: Begun,
        stamp: str,
        synced: bool,  # the daemon has marked every change made before the snapshot started
        skip_cache_dirs: bool = True,  # snapshot.skipCacheDirs: CACHEDIR.TAG trees left out
        # the daemon's own snapshots trust what its scans of big trees found (a file rewritten
        # in place there is seen at the deep scan, snapshot.watchDeepScan); any other walks them
        trust_scanned: bool = False,
        extra: str = "",  # the snapshot.* settings the walk depends on (the stamp's start)
    ) -> None:
        self.worktree = worktree
        self.begun = begun
        self.stamp = stamp
        self.synced = synced
        self.skip_cache_dirs = skip_cache_dirs
        self.trust_scanned = trust_scanned
        self.extra = extra

    def same_rules(self) -> bool:
        """The snapshot.* settings the walk depends on (snapshot.exclude, skipCacheDirs) are
        the base's: else a folder the base's tree holds as it was excluded or kept under the
        old ones, so none may be reused (a file no longer excluded would stay out of every
        snapshot, and its "excluded" note in)."""
        files = self.stamp[len(self.extra) + 1 :]  # (the stamp: extra, then the files' parts)
        return self.begun.base_stamp.rsplit("|", files.count("|") + 1)[0] == self.extra

    @property
    def base_root(self) -> bytes:
        return self.begun.base_root

    def untrusted(self) -> frozenset[bytes]:
        """Roots of the trees this snapshot walks even when no folder in them is marked (the
        daemon's own snapshots trust its scans, never a file system events do not cover)."""
        if self.trust_scanned:
            return self.begun.blind
        return self.begun.untrusted(self.skip_cache_dirs)

    @property
    def fast(self) -> bool:
        """Nothing changed since the base, nor anything labels depend on, and no tree is
        covered by slow scans only: the base's root is this snapshot's root (given the
        worktree's last snapshot is the base)."""
        return (
            self.synced
            and self.begun.has_base
            and not self.begun.marked
            and not self.untrusted()
            and self.stamp == self.begun.base_stamp
        )

    def rebuildable(self) -> bool:
        """Changed folders may be rebuilt from the base's trees (store/rebuild.py), which
        leaves the files cache alone: not in a worktree with trees covered by slow scans or on
        a file system events do not cover, whose snapshots walk them through the files cache
        saved with the base."""
        return not self.begun.untrusted(self.skip_cache_dirs)

    def clean(self, labels: str, lazy: bool = False) -> CleanSet | None:
        """What is unchanged since the base, or None when everything must be walked: no base
        in this epoch, or git's tracked/ignored sets or the excludes differ from the base's.
        *lazy*: made only if asked more than whether the root is (a snapshot committing a
        prepared tree needs only the marks after it: on L 1 %, ~40 ms for 2,000 marks)."""
        b = self.begun
        if not (self.synced and b.has_base) or labels != b.base_labels or not self.same_rules():
            return None
        if lazy:
            return _LazyClean(self, b.marked)  # type: ignore[return-value]
        return CleanSet(b.dirs, self.untrusted(), b.entries)


class _LazyClean:
    """A CleanSet of a plan, made when first needed beyond ``clean(b"")``."""

    __slots__ = ("_got", "_marked", "_plan")

    def __init__(self, plan: Plan, marked: bool) -> None:
        self._plan = plan
        self._marked = marked
        self._got: CleanSet | None = None

    def _it(self) -> CleanSet:
        if self._got is None:
            b = self._plan.begun
            self._got = CleanSet(b.dirs, self._plan.untrusted(), b.entries)
        return self._got

    def __call__(self, rel: bytes) -> bool:
        if not rel and self._marked:
            return False  # a mark anywhere changes the root
        return self._it()(rel)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._it(), name)


def stamp(repo: Any, extra: str) -> str:
    """What labels and excludes depend on outside the worktree's files: git's index, the
    repository's info/exclude and config, the user's global ignore file and config (their
    size, mtime, ctime, inode), and *extra* (the snapshot.* settings)."""
    paths = stamp_paths(repo)
    paths.append(_excludes_file(repo, paths))  # core.excludesFile at a path of its own
    parts = [extra]
    for p in paths:
        try:
            st = os.stat(p) if p else None
        except OSError:
            st = None
        # the inode too: git writes a config or index file whole and renames it into place,
        # so two writes of the same size within one tick of the clock differ by it
        parts.append(
            "-" if st is None else f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"
        )
    return "|".join(parts)


def stamp_paths(repo: Any) -> list[str]:
    """The files :func:`stamp` looks at (their size and times), "" for none: git's index,
    then the config and ignore files."""
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return [
        os.path.join(repo.git_dir, "index"),
        os.path.join(repo.git_dir, "config.worktree"),
        os.path.join(repo.common_dir, "info", "exclude"),
        os.path.join(repo.common_dir, "config"),
        os.path.join(xdg, "git", "ignore"),
        os.path.join(xdg, "git", "config"),
        os.path.join(home, ".gitconfig"),
        os.environ.get("GIT_CONFIG_GLOBAL", ""),
        "" if os.environ.get("GIT_CONFIG_NOSYSTEM") else "/etc/gitconfig",
        os.environ.get("GIT_CONFIG_SYSTEM", ""),
    ]


def _excludes_file(repo: Any, configs: list[str]) -> str:
    """The file ``core.excludesFile`` names, "" when unset: asked of git only when a config
    file mentions it or includes another (most hooks: no git call, a few small reads)."""
    for p in configs[1:]:  # not the index
        try:
            with open(p, "rb") as f:
                text = f.read(1 << 20).lower()
        except OSError:
            continue
        if b"excludesfile" in text or b"include" in text:
            break
    else:
        return ""
    from git_snapshot import gitrepo

    res = gitrepo._run(repo.toplevel, ["config", "--path", "--get", "core.excludesFile"])
    value = os.fsdecode(res.stdout.rstrip(b"\n")) if res.returncode == 0 else ""
    return os.path.join(repo.toplevel, value) if value else ""


def plan(
    store_path: str,
    repo: Any,
    trigger: str,
    extra: str,
    skip_cache_dirs: bool = True,
    upto: int | None = None,
) -> Plan | None:
    """The dirty set for a snapshot of *repo* now (the daemon's own: with the marks up to
    *upto* only, when given), or None when no live daemon watches it (then the snapshot
    walks everything, exactly as without a watcher)."""
    from git_snapshot.watch import instance

    if not os.path.exists(journal_path(store_path, repo.toplevel)):
        return None
    pid = instance.serving(store_path, replace=True)  # (None: one of an older git-snapshot)
    if pid is None or pid <= 0:
        return None
    # a hook reads the marks after its sync: not here (on L 1 %, 2,000 of them)
    begun = begin(store_path, repo.toplevel, marks=trigger == "watch", upto=upto)
    if begun is None or begun.pid != pid:
        return None  # nobody watches it, or a daemon that died without saying so
    if not same_top(repo.toplevel, begun.top):
        return None  # another folder at its path: the daemon watches the one moved away
    # the daemon's own snapshots come after it has read the events; a hook's must wait for it
    synced = trigger == "watch" or (begun.has_base and sync(store_path, repo.toplevel))
    if synced and trigger != "watch":
        again = begin(store_path, repo.toplevel)  # with what the sync flushed
        if again is None:
            return None  # the journal went meanwhile: walk everything
        begun = again
    if mounts(repo.toplevel) != begun.mounts:
        # a mount came or went at or below it since the daemon set it up (one it has not
        # set up again for yet, or one made in another mount namespace, which it never
        # sees): what it covers raised no event there, so nothing is taken as clean
        return None
    trust = trigger == "watch"
    return Plan(repo.toplevel, begun, stamp(repo, extra), synced, skip_cache_dirs, trust, extra)


def same_top(worktree: str, top: tuple[int, int] | None) -> bool:
    """Whether *worktree*'s top folder is the one the daemon set up (*top*, its st_dev and
    st_ino; None: not recorded, by an older daemon). A folder put at the path since (`mv code
    code.old; mv code.bak code`, a fresh clone there) raised no event on the watches, which
    stay on the folders moved away: none of its folders is clean (RED39 E1). One stat."""
    if top is None:
        return True
    try:
        st = os.stat(worktree)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == top


# walker.MOUNTINFO (walker is not on the hook path): each mount's device, root and point
MOUNTINFO = "/proc/self/mountinfo"
# how the kernel writes these characters of a path there
_ESCAPES = ((b"\\", b"\\134"), (b" ", b"\\040"), (b"\t", b"\\011"), (b"\n", b"\\012"))


def mounts(worktree: str) -> frozenset[bytes]:
    """The mounts at or below *worktree* (its real path) in this process's mount table, each
    as ``MAJOR:MINOR ROOT POINT`` (its device, the folder of that file system it shows, its
    point relative to the worktree: b"" for the worktree's own; escaped as the table writes
    them); empty when there is none or the table cannot be read. Two equal sets show the
    same files at the same places. The daemon records them as it sets a worktree up
    (:func:`watching`) and sets it up again when they change; a snapshot compares (plan).
    One read of the table: ~35 us with 20 mounts (the kernel writes it), the time a hook
    pays for it."""
    top = os.fsencode(os.path.realpath(worktree))
    for raw, escaped in _ESCAPES:
        top = top.replace(raw, escaped)
    try:
        with open(MOUNTINFO, "rb") as f:
            table = f.read()
    except OSError:
        return frozenset()
    if top not in table:
        return frozenset()
    under = top.rstrip(b"/") + b"/"
    out = set()
    for line in table.splitlines():
        # ID PARENT MAJOR:MINOR ROOT POINT OPTIONS...
        fields = line.split(b" ", 5)
        if len(fields) < 6:
            continue
        point = fields[4]
        if point == top:
            out.add(b" ".join((fields[2], fields[3], b"")))
        elif point.startswith(under):
            out.add(b" ".join((fields[2], fields[3], point[len(under) :])))
    return frozenset(out)


def done(store_path: str, p: Plan, root: bytes, labels: str, ignored: bytes | None = None) -> None:
    """The snapshot planned by *p* committed *root* (*ignored*: see :func:`finish`)."""
    finish(store_path, p.worktree, p.begun, root, p.stamp, labels, ignored)


# git's ignored answer kept with a base (watch/take._relabel): at most this long packed
# (zlib), and at most this long unpacked (a bigger one: none kept; a preparation with other
# labels than its base's is then refused, as before)
PACKED_MOST = 256 << 10
RAW_MOST = 8 << 20


def pack(raw: bytes) -> bytes | None:
    """git's ignored answer *raw* as the dirty set keeps it (zlib), None when too big."""
    if len(raw) > RAW_MOST:
        return None
    import zlib

    packed = zlib.compress(raw, 1)
    return packed if len(packed) <= PACKED_MOST else None


def unpack(packed: object, part: str) -> bytes | None:
    """The answer :func:`pack` packed into *packed*, when it is one whose digest is *part*
    (gitrepo.labels_part: what the labels it came with say of it); None for anything else
    (none kept, damaged, too big, of other labels)."""
    if not isinstance(packed, bytes) or not packed or len(packed) > PACKED_MOST:
        return None
    import zlib

    from git_snapshot import gitrepo

    try:
        d = zlib.decompressobj()
        raw = d.decompress(packed, RAW_MOST + 1)
    except zlib.error:
        return None
    if len(raw) > RAW_MOST or d.unconsumed_tail or not d.eof or d.unused_data:
        return None
    return raw if gitrepo.labels_part(raw) == part else None


def base_ignored(store_path: str, worktree: str, begun: Begun) -> bytes | None:
    """git's ignored answer at the base *begun* read (packed), when the base is still that
    one; None without it."""
    try:
        with _db(store_path, worktree, create=False) as con:
            row = con.execute(
                "SELECT base_ignored FROM state WHERE epoch = ? AND base_epoch = epoch"
                " AND base_seq = ? AND base_root = ? AND base_labels = ?",
                (begun.epoch, begun.base_seq, begun.base_root, begun.base_labels),
            ).fetchone()
    except (FileNotFoundError, sqlite3.Error):
        return None
    return bytes(row[0]) if row is not None and isinstance(row[0], bytes) else None
