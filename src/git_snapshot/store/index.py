"""The SQLite index: sources, snapshots, packs and where each object lives.

WAL mode, a long busy timeout, ``BEGIN IMMEDIATE`` for every write, and a retry loop around
it, so concurrent hooks wait for each other instead of failing on a lock.
"""

from __future__ import annotations

import errno
import os
import time

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot.ctx import contextmanager

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
    id INTEGER PRIMARY KEY,
    key TEXT UNIQUE NOT NULL,      -- identity: a git common dir, or a name given to the API
    path TEXT NOT NULL,            -- where it was last seen, for people
    next_seq INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS snapshots(
    id INTEGER PRIMARY KEY,
    source INTEGER NOT NULL REFERENCES sources(id),
    seq INTEGER NOT NULL,          -- the number people see, per source, never reused
    created REAL NOT NULL,         -- unix time
    trigger TEXT NOT NULL,
    message TEXT NOT NULL,
    worktree TEXT NOT NULL,
    root BLOB NOT NULL,            -- key of the root tree
    files INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    added_bytes INTEGER NOT NULL,
    skipped INTEGER NOT NULL,
    meta TEXT NOT NULL,            -- JSON: head, branch, skipped paths, warnings, ...
    record BLOB,                   -- key of its RECORD object in a pack (NULL: version 1)
    UNIQUE(source, seq)
);
CREATE TABLE IF NOT EXISTS packs(
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS objects(
    key BLOB PRIMARY KEY,
    pack INTEGER NOT NULL REFERENCES packs(id),
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    size INTEGER NOT NULL,
    type INTEGER NOT NULL,
    member INTEGER NOT NULL DEFAULT -1 -- where it starts in its group's content (-1: no group)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_pack ON objects(pack);
-- Objects of snapshots rebuilt from the watcher's dirty set (a hook's few changes): appended
-- here, a few pages, instead of at random places all over the objects B-tree (5,600 keys on
-- L: ~4,000 pages, a 16 MB WAL), and moved into objects off the hooks' time (merge_recent:
-- the watcher's worker, gc, any other snapshot). Every reader of locations looks in both: a
-- key in both (or twice here) has valid copies at each place, and a merge keeps the first.
CREATE TABLE IF NOT EXISTS recent(
    key BLOB NOT NULL,
    pack INTEGER NOT NULL REFERENCES packs(id),
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    size INTEGER NOT NULL,
    type INTEGER NOT NULL,
    member INTEGER NOT NULL DEFAULT -1
);
CREATE INDEX IF NOT EXISTS recent_key ON recent(key);
CREATE TABLE IF NOT EXISTS damaged(
    key BLOB PRIMARY KEY,          -- an object found damaged or missing by any read
    why TEXT NOT NULL,
    found REAL NOT NULL
) WITHOUT ROWID;
"""

# 2: snapshots.record, the damaged table; 3: objects.member; 4: packs of format 4 (P records,
# which code of schema 3 would call damaged; the tables are those of 3); 5: the recent table
# (code of schema 4 would miss the objects listed there)
SCHEMA_VERSION = 5
BUSY_TIMEOUT_S = 60.0
RETRY_FOR_S = 600.0


_Key = bytes  # the field named 'bytes' below hides the type inside the class

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from collections.abc import Iterator
else:  # the C module alone (sqlite3's package imports datetime), see git_snapshot/sqlite.py
    from git_snapshot import sqlite as sqlite3
if TYPE_CHECKING:
    from typing import Any

    from git_snapshot.store.packs import FinishedPack  # not imported by a hook that writes none

# Snapshot and Location are plain classes with __slots__, not dataclasses: every hook imports
# this module, and dataclasses imports inspect (ast, dis, tokenize...). Same fields, same
# keyword and positional construction, equality by value.

_SNAPSHOT_FIELDS = (
    "rowid",
    "source",
    "id",
    "created",
    "trigger",
    "message",
    "worktree",
    "root",
    "files",
    "bytes",
    "added_bytes",
    "skipped",
    "meta",
    "record",
)


# how a pulled snapshot's index row marks it, in the row's meta text (records.dumps with ", ",
# ": "; a quote inside a string value is escaped, so only the key matches)
_PULLED = '"pulled": true'


def json_scan(text: str) -> Any:
    """json.loads(text) by _json's C scanner, without json (which imports re)."""
    try:
        import _json
    except ImportError:  # not CPython
        import json

        return json.loads(text)
    import types

    ctx = types.SimpleNamespace(
        strict=True,
        object_hook=None,
        object_pairs_hook=None,
        parse_float=float,
        parse_int=int,
        parse_constant=float,
        memo={},
    )
    return _json.make_scanner(ctx)(text, 0)[0]  # type: ignore[arg-type]  # (duck-typed)


class Snapshot:
    # meta is parsed from the index's JSON on first use (_meta_json): a hook lists a
    # worktree's snapshots several times (up to keepLast of them) and reads the meta of one
    __slots__ = (*(f for f in _SNAPSHOT_FIELDS if f != "meta"), "_meta", "_meta_json")

    def __init__(
        self,
        rowid: int,
        source: str,  # source key
        id: int,  # per-source number
        created: float,
        trigger: str,
        message: str,
        worktree: str,
        root: bytes,
        files: int,
        bytes: int,
        added_bytes: int,
        skipped: int,
        meta: dict[str, Any] | None = None,
        record: _Key | None = None,  # key of its RECORD object (None: written by version 1)
    ) -> None:
        self.rowid = rowid
        self.source = source
        self.id = id
        self.created = created
        self.trigger = trigger
        self.message = message
        self.worktree = worktree
        self.root = root
        self.files = files
        self.bytes = bytes
        self.added_bytes = added_bytes
        self.skipped = skipped
        self._meta = {} if meta is None else meta
        self._meta_json: str | None = None
        self.record = record

    @classmethod
    def _from_row(cls, r: tuple[Any, ...]) -> Snapshot:
        """A snapshot from an index row (its meta still JSON text, parsed when read)."""
        record = bytes(r[13]) if r[13] is not None else None
        s = cls(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], None, record
        )
        s._meta_json = r[12]
        return s

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta_json is not None:
            import json  # here: json imports re (not on an unchanged hook's path)

            self._meta = json.loads(self._meta_json)
            self._meta_json = None
        return self._meta

    @meta.setter
    def meta(self, value: dict[str, Any]) -> None:
        self._meta = value
        self._meta_json = None

    def meta_value(self, key: str) -> Any:
        """self.meta.get(key), without json (which imports re) on a hook's path: the meta
        text, when not parsed yet, is read by _json's C scanner (json_scan)."""
        raw = self._meta_json
        return self._meta.get(key) if raw is None else json_scan(raw).get(key)

    @property
    def pulled(self) -> bool:
        """Whether a pull entered it into this store (Index.enter_snapshot): its number, the
        next free one, says nothing of when it was taken beside this store's own."""
        if self._meta_json is not None:  # (no json parse: the hook's path)
            return _PULLED in self._meta_json
        return self._meta.get("pulled") is True

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in _SNAPSHOT_FIELDS)

    def __eq__(self, other: object) -> bool:
        return type(other) is Snapshot and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in _SNAPSHOT_FIELDS)
        return f"Snapshot({inner})"

    def replace(self, **changes: Any) -> Snapshot:
        """A copy with *changes* (dataclasses.replace)."""
        values = {f: getattr(self, f) for f in _SNAPSHOT_FIELDS}
        values.update(changes)
        return Snapshot(**values)


class Location:
    __slots__ = ("inner", "length", "offset", "pack", "size", "type")

    def __init__(
        self,
        pack: str,
        offset: int,
        length: int,
        size: int,
        type: int,
        inner: int = -1,  # where it starts in its group's content (-1: a frame of its own)
    ) -> None:
        self.pack = pack
        self.offset = offset
        self.length = length
        self.size = size
        self.type = type
        self.inner = inner

    def _values(self) -> tuple[str, int, int, int, int, int]:
        return (self.pack, self.offset, self.length, self.size, self.type, self.inner)

    def __eq__(self, other: object) -> bool:
        return type(other) is Location and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        pack, offset, length, size, kind, inner = self._values()
        return (
            f"Location(pack={pack!r}, offset={offset}, length={length}, size={size}, "
            f"type={kind}, inner={inner})"
        )


def _locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc)
    return "locked" in msg or "busy" in msg


LOW_SPACE = 256 << 10  # below this, the index is only read: see Index._open_readonly


def _low_space(path: str) -> bool:
    """Whether this process cannot write LOW_SPACE bytes beside the index at *path*
    (safewrite.has_room: what it may write, not f_bavail alone, which stays 0 for root in
    the blocks ext4 keeps for root, nor f_bfree, which counts blocks no one may have: SQLite's
    -shm pages touched where the disk cannot give one are a SIGBUS). Its probe, when f_bavail
    is short, goes into the store's tmp/ (swept), beside the index otherwise."""
    from git_snapshot.store.safewrite import has_room

    where = os.path.dirname(path) or "."
    scratch = os.path.join(where, "tmp")
    try:
        return not has_room(scratch if os.path.isdir(scratch) else where, LOW_SPACE)
    except OSError:
        return False


def _no_room(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc)
    return "disk I/O error" in msg or "disk is full" in msg or "unable to open" in msg


def uri_path(path: str) -> str:
    """*path* as the path of an SQLite URI: the three characters a URI gives a meaning to
    escaped (urllib.parse is off the hook path)."""
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


def _code_key() -> tuple[int, int] | None:
    """This module's file on disk now (inode, mtime): another one after an upgrade in place."""
    try:
        st = os.stat(__file__)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


_LOADED = _code_key()  # the file this process loaded (one stat at import)


def _refuse_newer(path: str, version: int) -> None:
    """An index a newer git-snapshot wrote: its packs may hold what this version cannot
    read, and reading them as damaged (or writing the old schema number back) would hide
    snapshots. Nothing is written; the user upgrades. A process that started before the
    upgrade was installed (the watcher's, RED38 C1) is told to restart instead: "upgrade"
    was wrong advice to a user who just had."""
    from git_snapshot.errors import UserError

    said = (
        f"the snapshot store {os.path.dirname(path)} was written by a newer git-snapshot "
        f"(index schema {version}; this one reads up to {SCHEMA_VERSION}): "
    )
    if _code_key() != _LOADED:
        raise UserError(
            f"{said}this process (pid {os.getpid()}) started before git-snapshot was "
            "upgraded and still runs the old code: restart it (the watcher restarts itself; "
            "by hand: git snapshot watch stop, then git snapshot watch), nothing was changed"
        )
    raise UserError(
        f"{said}upgrade git-snapshot (under pre-commit: pre-commit autoupdate; a watcher "
        "started before then is replaced by the next hook), nothing was changed"
    )


_INSERT_OBJECTS = (
    "INSERT OR IGNORE INTO objects(key, pack, offset, length, size, type, member) VALUES "
)
_OBJECT_ROW = "(?, ?, ?, ?, ?, ?, ?)"
_INSERT_RECENT = "INSERT INTO recent(key, pack, offset, length, size, type, member) VALUES "
_OBJECT_COLS = "key, pack, offset, length, size, type, member"
# at most this many rows in the recent table (hooks with no watch snapshot between them): the
# snapshot that finds more moves them into objects (each hook's lookups look there too)
RECENT_MAX = 100_000
# A walk's snapshot (no watcher: every hook on a big tree) of at most SMALL_ROWS new rows puts
# them in recent too while it holds fewer than WALK_RECENT_MAX: 1,800 random keys (M, 1 %
# edited) into objects touched most of its leaf pages, 28-33 ms of CPU with the commit's
# WAL and checkpoint against 9-18 ms into recent; the snapshot that finds more merges them, in
# key order (16k rows: 90-116 ms, once per ~9 such snapshots; lookups meanwhile also read
# recent: +2.8 ms per 1,800 keys). Same machine, interleaved, load 4-5.
SMALL_ROWS = 20_000
WALK_RECENT_MAX = 20_000
ROWS_PER_INSERT = 142  # 994 parameters: SQLite before 3.32 allows 999 (500 rows: no faster)
ROWS_AT_ONCE = 64 * ROWS_PER_INSERT  # a pack's rows made at once (_add_packs)


# the keys of the damaged table's rows: blobs only (a text key, from a hand-edited or damaged
# index, names no object, and bytes() of it stopped every snapshot with an internal error)
_BLOB_KEY = "typeof(key) = 'blob'"
_DAMAGED_KEYS = f"SELECT key FROM damaged WHERE {_BLOB_KEY}"

_MARK_DAMAGED = (
    "INSERT INTO damaged(key, why, found) VALUES (?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET why = excluded.why"
)


def _insert_rows(db: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]]) -> None:
    """*rows* (objects' columns) entered by *insert* ("INSERT ... VALUES "), ROWS_PER_INSERT
    rows a statement, in their order: 72k rows 0.31-0.47 -> 0.21-0.36 s CPU against one row
    a statement (fewer steps through the sqlite3 module)."""
    from itertools import chain  # (built in: no file to load)

    flat = chain.from_iterable  # each statement's parameters, flattened in C
    whole = len(rows) - len(rows) % ROWS_PER_INSERT
    db.executemany(
        insert + ", ".join([_OBJECT_ROW] * ROWS_PER_INSERT),
        (list(flat(rows[i : i + ROWS_PER_INSERT])) for i in range(0, whole, ROWS_PER_INSERT)),
    )
    db.executemany(insert + _OBJECT_ROW, rows[whole:])


def _insert_snapshot(db: sqlite3.Connection, sid: int, snap: Snapshot) -> None:
    """The snapshot's row, in the caller's transaction; sets its rowid."""
    # json.dumps(meta, sort_keys=True)'s text without importing json (re): records.dumps
    from git_snapshot.store.records import dumps

    cur = db.execute(
        "INSERT INTO snapshots(source, seq, created, trigger, message, worktree, root, "
        "files, bytes, added_bytes, skipped, meta, record) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            sid,
            snap.id,
            snap.created,
            snap.trigger,
            snap.message,
            snap.worktree,
            snap.root,
            snap.files,
            snap.bytes,
            snap.added_bytes,
            snap.skipped,
            dumps(snap.meta, ", ", ": "),
            snap.record,
        ),
    )
    snap.rowid = int(cur.lastrowid or 0)


_LOCATE = (
    "SELECT p.name, o.offset, o.length, o.size, o.type, o.member FROM {} o "
    "JOIN packs p ON p.id = o.pack WHERE o.key=?1"
)
_LOCATE_OBJECTS = _LOCATE.format("objects")
# recent's row first (a key in both has a valid copy at each place: either would do)
_LOCATE_BOTH = f"{_LOCATE.format('recent')} UNION ALL {_LOCATE_OBJECTS} LIMIT 1"


class Index:
    """*path* must exist or be creatable. The caller (Store) decides whether a missing index
    may be created: a store whose packs exist but whose index is gone needs ``repair``."""

    # the recent table exists (False only for an index of schema 4 opened read-only on a
    # full disk, which cannot be migrated: it has none)
    has_recent = True

    def __init__(self, path: str, create: bool = True) -> None:
        """*create* False: open the index that is there, and never make one (FileNotFoundError
        when it is gone): a store with packs whose index vanished at that instant (a repair
        putting its new one in place, say) must not get an empty index."""
        self.path = path
        self.readonly = False
        if os.path.exists(path) and _low_space(path):
            self._open_readonly()
            return
        if create and not os.path.exists(path):
            # create it 0600 ourselves; SQLite gives -wal/-shm the same mode
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            if create:
                self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            else:  # SQLite's own open, without its O_CREAT
                uri = f"file:{uri_path(path)}?mode=rw"
                self.db = sqlite3.connect(
                    uri, timeout=BUSY_TIMEOUT_S, isolation_level=None, uri=True
                )
            self._retry(self._setup)
        except sqlite3.OperationalError as exc:
            if not create and not os.path.exists(path):
                raise FileNotFoundError(errno.ENOENT, "the index is gone", path) from None
            if not _no_room(exc):
                raise
            if hasattr(self, "db"):  # opened, then its setup failed
                self.db.close()
            try:
                self._open_readonly()
            except sqlite3.OperationalError:
                # not a full disk after all: an index no open can read (a directory in its
                # place, a file this user may not read, a real I/O error); the first error
                # says why, and the store's line for it names repair (RED34 D7)
                raise exc from None

    def _open_readonly(self) -> None:
        """Reads on a (nearly) full disk. SQLite maps its -shm file into memory; growing it
        when the disk has no free block kills the process with SIGBUS. In exclusive locking
        mode SQLite keeps the WAL index in its own memory and never touches -shm, and it
        still reads what the -wal holds. If another process holds the database, fall back to
        reading the main file alone (immutable). Raises sqlite3's error when neither reads."""
        self.readonly = True
        uri = f"file:{uri_path(self.path)}"
        db = None
        try:
            db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None)
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("SELECT value FROM meta LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            if db is not None:  # (connect itself may be what failed)
                db.close()
            db = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
            try:
                db.execute("SELECT value FROM meta LIMIT 1").fetchall()
            except BaseException:
                db.close()
                raise
        self.db = db
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self.db.close()
            _refuse_newer(self.path, version)
        self.has_recent = version >= 5

    def _reopen_for_writing(self) -> None:
        """A write on an index opened read-only: possible once the disk has room again (e.g.
        prune gave up its reserve); until then SQLite's own "disk is full" error."""
        if _low_space(self.path):
            raise sqlite3.OperationalError("database or disk is full")
        self.db.close()
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._retry(self._setup)
        self.readonly = False
        self.has_recent = True

    def _setup(self) -> None:
        self.db.execute("PRAGMA synchronous=FULL")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return  # the common case: nothing to write, so a read works on a full disk too
        if version > SCHEMA_VERSION:
            self.db.close()
            _refuse_newer(self.path, version)
        self.db.execute("PRAGMA journal_mode=WAL")
        with self.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            columns = {r[1] for r in db.execute("PRAGMA table_info(snapshots)")}
            if "record" not in columns:  # an index written by version 1
                db.execute("ALTER TABLE snapshots ADD COLUMN record BLOB")
            columns = {r[1] for r in db.execute("PRAGMA table_info(objects)")}
            if "member" not in columns:  # an index of schema 1 or 2: no groups
                db.execute("ALTER TABLE objects ADD COLUMN member INTEGER NOT NULL DEFAULT -1")
            # random, so that a files cache never matches a different (recreated) index
            db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', ?)",
                (os.urandom(16).hex(),),  # uuid4's randomness, not its import
            )
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _retry(self, fn: Any) -> Any:
        deadline = time.monotonic() + RETRY_FOR_S
        delay = 0.01
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE (waits, never fails on a lock)."""
        if self.readonly:
            self._reopen_for_writing()
        self._retry(lambda: self.db.execute("BEGIN IMMEDIATE"))
        try:
            yield self.db
            self._retry(lambda: self.db.execute("COMMIT"))
        except BaseException:
            if self.db.in_transaction:  # SQLite may have rolled back a failed COMMIT itself
                self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()

    # -- reads -------------------------------------------------------------------------------

    def meta_get(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def origin(self) -> str:
        """A random id of this index, made on first use and kept: which store took a snapshot,
        on a remote (remote.cache.origin_field). Not ``generation``, which every gc that
        deletes objects renews: the snapshots after it passed for another store's and were
        ordered by time again (review39 RF2)."""
        value = self.meta_get("origin")
        if not value:
            with self.write() as db:
                db.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('origin', ?)",
                    (os.urandom(16).hex(),),
                )
            value = self.meta_get("origin")
        return value

    def tables(self) -> tuple[str, ...]:
        """Where to look for objects, recent first: a merge moves rows from recent into
        objects (never back) between two queries, so a row missed in recent is then in
        objects. Without recent when it is empty: the objects a caller can know of were
        committed before, so they are in objects now and stay there (a query of an empty
        recent still costs its IN list: ~1.5 ms per 500 keys)."""
        if (
            not self.has_recent
            or self.db.execute("SELECT 1 FROM recent LIMIT 1").fetchone() is None
        ):
            return ("objects",)
        return ("recent", "objects")

    def has(self, key: bytes) -> bool:
        return any(
            self.db.execute(f"SELECT 1 FROM {table} WHERE key=?", (key,)).fetchone()
            for table in self.tables()
        )

    def locate(self, key: bytes) -> Location | None:
        """Where *key* lies, or None: one statement over recent and objects (one read of the
        database, so a merge moving the row between them cannot hide it), not tables()'s
        question first and then one per table (verify and restore look up every file)."""
        sql = _LOCATE_BOTH if self.has_recent else _LOCATE_OBJECTS
        row = self.db.execute(sql, (key,)).fetchone()
        return Location(*row) if row else None

    def known(self, keys: list[bytes]) -> set[bytes]:
        """Those of *keys* the index has: one query per 500 keys (a writer checks its
        objects in batches; a query per object, which lets go of the GIL, made the walking
        thread wait on the compressing ones)."""
        out: set[bytes] = set()
        tables = self.tables()
        if tables[0] == "recent":
            # a recent table of few rows (L's 1 % step: 1) read whole, recent first as
            # tables() says: an IN list costs ~1 us per key even against one row (L's 1 %
            # step, ~5,600 keys in batches of 256: ~6 of its ~25 ms)
            most = 2 * len(keys) + 64
            rows = self.db.execute("SELECT key FROM recent LIMIT ?", (most + 1,)).fetchall()
            if len(rows) <= most:
                there = {bytes(k) for (k,) in rows}
                out.update(k for k in keys if k in there)
                tables = ("objects",)
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            # padded with its last key to a multiple of 64: a few lengths, each a statement
            # prepared once (a new one for each length cost ~0.2 ms: L's 1 % step asks ~23
            # lists of 60-110 keys); SQLite looks a key given twice up once
            part += part[-1:] * (-len(part) % 64)
            marks = ",".join("?" * len(part))
            for table in tables:
                sql = f"SELECT key FROM {table} WHERE key IN ({marks})"
                out.update(bytes(k) for (k,) in self.db.execute(sql, part))
        return out

    def locate_many(self, keys: Iterable[bytes]) -> dict[bytes, Location]:
        """Where each of *keys* lies (keys the index lacks are left out): one query per few
        hundred keys instead of one per key, for readers of many objects (restore)."""
        out: dict[bytes, Location] = {}
        todo = list(keys)
        tables = self.tables()
        for i in range(0, len(todo), 500):
            part = todo[i : i + 500]
            for table in tables:  # (objects' row kept when a key is in both)
                rows = self.db.execute(
                    "SELECT o.key, p.name, o.offset, o.length, o.size, o.type, o.member "
                    f"FROM {table} o "
                    f"JOIN packs p ON p.id = o.pack WHERE o.key IN ({','.join('?' * len(part))})",
                    part,
                )
                for key, *loc in rows:
                    out[bytes(key)] = Location(*loc)
        return out

    _SNAP_COLS = (
        "s.id, src.key, s.seq, s.created, s.trigger, s.message, s.worktree, s.root, s.files, "
        "s.bytes, s.added_bytes, s.skipped, s.meta, s.record"
    )

    def snapshots(
        self, source: str | None = None, worktree: str | None = None, last: int | None = None
    ) -> list[Snapshot]:
        """Snapshots, oldest first: all, or of one source, or of one worktree of it; with
        *last*, only the newest *last* of those (a hook's questions are about the newest:
        every row of a worktree kept 14 days, ~300, cost it ~2.5 ms a question). Oldest is
        the number order, never the clock (a clock set back does not make a new snapshot
        old), but for snapshots a pull entered: those go in by when they were taken
        (in_time)."""
        sql = f"SELECT {self._SNAP_COLS} FROM snapshots s JOIN sources src ON src.id = s.source"
        where, args = [], []
        if source is not None:
            where.append("src.key = ?")
            args.append(source)
        if worktree is not None:
            where.append("s.worktree = ?")
            args.append(worktree)
        if where:
            sql += " WHERE " + " AND ".join(where)
        if last is None:
            rows = self.db.execute(sql + " ORDER BY src.id, s.seq", args).fetchall()
        else:
            newest = self.db.execute(
                sql + " ORDER BY src.id DESC, s.seq DESC LIMIT ?", [*args, last]
            ).fetchall()
            if not any(_PULLED in r[12] for r in newest):
                return [self._snap(r) for r in reversed(newest)]
            rows = self.db.execute(sql + " ORDER BY src.id, s.seq", args).fetchall()
        snaps = in_time([self._snap(r) for r in rows])
        return snaps if last is None else snaps[-last:] if last > 0 else []

    @staticmethod
    def _snap(r: tuple[Any, ...]) -> Snapshot:
        return Snapshot._from_row(r)

    def damaged(self) -> dict[bytes, str]:
        """Objects found damaged or missing, and why: the next snapshot stores them afresh.
        (A row whose key is no blob names no object: passed over, _BLOB_KEY.)"""
        rows = self.db.execute(f"SELECT key, why FROM damaged WHERE {_BLOB_KEY}")
        return {bytes(k): w for k, w in rows}

    def sources(self) -> list[tuple[str, str]]:
        return [(k, p) for k, p in self.db.execute("SELECT key, path FROM sources ORDER BY id")]

    def has_source(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM sources WHERE key=?", (key,)).fetchone() is not None

    def packs(self) -> dict[str, int]:
        return {n: s for n, s in self.db.execute("SELECT name, size FROM packs")}

    # -- writes ------------------------------------------------------------------------------

    def rekey_source(self, old: str, new: str, moved: tuple[str, str] | None = None) -> bool:
        """The snapshots of the source *old*, and its numbering, now the source *new*'s (a
        repository moved: identity.source), those taken in the worktree *moved*[0] now said
        taken in *moved*[1]; False when *new* has snapshots of its own or *old* is gone
        (another process took it first)."""
        with self.write() as db:
            if db.execute("SELECT 1 FROM sources WHERE key=?", (new,)).fetchone():
                return False
            row = db.execute("SELECT id FROM sources WHERE key=?", (old,)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE sources SET key=? WHERE id=?", (new, row[0]))
            if moved is not None:
                db.execute(
                    "UPDATE snapshots SET worktree=? WHERE source=? AND worktree=?",
                    (moved[1], row[0], moved[0]),
                )
            return True

    def merge_source(self, old: str, new: str, moved: tuple[str, str] | None = None) -> bool:
        """The snapshots of the source *old* now the source *new*'s, as rekey_source gives
        them when *new* has snapshots too (a repair gives a moved repository back what it
        had taken over: identity.rejoin_moved); False, nothing changed, when either is gone
        or a number is in both."""
        with self.write() as db:
            ids = [
                db.execute("SELECT id FROM sources WHERE key=?", (k,)).fetchone()
                for k in (old, new)
            ]
            if ids[0] is None or ids[1] is None:
                return False
            o, n = ids[0][0], ids[1][0]
            clash = db.execute(
                "SELECT 1 FROM snapshots a JOIN snapshots b ON a.seq = b.seq "
                "WHERE a.source=? AND b.source=? LIMIT 1",
                (o, n),
            ).fetchone()
            if clash:
                return False
            if moved is not None:  # (the ones given back alone: a linked worktree of the
                # moved repository may be at its old main worktree's path since)
                db.execute(
                    "UPDATE snapshots SET worktree=? WHERE source=? AND worktree=?",
                    (moved[1], o, moved[0]),
                )
            db.execute("UPDATE snapshots SET source=? WHERE source=?", (n, o))
            db.execute(
                "UPDATE sources SET next_seq = max(next_seq, "
                "(SELECT next_seq FROM sources WHERE id=?)) WHERE id=?",
                (o, n),
            )
            db.execute("DELETE FROM sources WHERE id=?", (o,))
            return True

    def move_worktree(self, source: str, old: str, new: str, ids: Iterable[int]) -> None:
        """The snapshots *ids* of *source* taken in the worktree *old* now said taken in *new*
        (a linked worktree moved: identity._worktree)."""
        with self.write() as db:
            db.executemany(
                "UPDATE snapshots SET worktree=? WHERE worktree=? AND seq=? AND source="
                "(SELECT id FROM sources WHERE key=?)",
                [(new, old, i, source) for i in ids],
            )

    def reserve_seq(self, source: str, source_path: str) -> int:
        """Hand out the next snapshot number of *source* (never reused, even if the snapshot
        that took it never commits): the record in the pack must carry it before the row."""
        with self.write() as db:
            db.execute(
                "INSERT INTO sources(key, path) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET path = excluded.path",
                (source, source_path),
            )
            sid, seq = db.execute(
                "SELECT id, next_seq FROM sources WHERE key=?", (source,)
            ).fetchone()
            db.execute("UPDATE sources SET next_seq = ? WHERE id = ?", (seq + 1, sid))
        return int(seq)

    def add_snapshot(
        self,
        packs: Iterable[FinishedPack],
        snap: Snapshot,
        recent: bool = False,
        recent_max: int = RECENT_MAX,
    ) -> Snapshot:
        """Enter new packs and the snapshot (whose number was reserved) in one transaction;
        with *recent* (a snapshot's few objects), their rows go to the recent table while it
        holds fewer than *recent_max*, else the recent rows are moved into objects first."""
        with self.write() as db:
            if recent and db.execute("SELECT count(*) FROM recent").fetchone()[0] < recent_max:
                self._add_recent(db, packs)
            else:
                self._merge_recent(db)
                self._add_packs(db, packs)
            (sid,) = db.execute("SELECT id FROM sources WHERE key=?", (snap.source,)).fetchone()
            _insert_snapshot(db, sid, snap)
        return snap

    def enter_snapshot(self, snap: Snapshot, source_path: str, *, handed_out: bool) -> int:
        """Enter *snap* (a remote's: its packs entered already) under its own number, or the
        next free one of its repository when that number is taken here: by a snapshot row,
        or (*handed_out*: a store where snapshots are taken) by any number reserve_seq gave,
        which a snapshot on its way may carry in its record and commit after this. One
        transaction, so no reserve_seq comes between the choice and the row (a pull beside a
        hook of the same repository made whichever committed second fail on the unique
        number). Returns the number it had."""
        had = snap.id
        with self.write() as db:
            db.execute(
                "INSERT INTO sources(key, path) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET path = excluded.path",
                (snap.source, source_path),
            )
            sid, next_seq = db.execute(
                "SELECT id, next_seq FROM sources WHERE key=?", (snap.source,)
            ).fetchone()
            taken = db.execute(
                "SELECT 1 FROM snapshots WHERE source=? AND seq=?", (sid, snap.id)
            ).fetchone()
            if taken is not None or (handed_out and snap.id < next_seq):
                snap.id = next_seq
            if handed_out:  # a store where snapshots are taken: order it by time (in_time)
                snap.meta = {**snap.meta, "pulled": True}
            db.execute(
                "UPDATE sources SET next_seq = ? WHERE id = ?", (max(next_seq, snap.id + 1), sid)
            )
            _insert_snapshot(db, sid, snap)
        return had

    def add_packs(self, packs: Iterable[FinishedPack]) -> None:
        with self.write() as db:
            self._add_packs(db, packs)

    def note_incoming(self, names: Iterable[str]) -> None:
        """Note, in an index that lists no packs yet, the packs a first pull is about to put
        in place before it enters them (with those noted already: a resumed pull's). A store
        whose every pack is so noted is not a lost index (core._open_index); enter_incoming
        forgets the note with the rows."""
        with self.write() as db:
            if db.execute("SELECT 1 FROM packs LIMIT 1").fetchone() is not None:
                return
            row = db.execute("SELECT value FROM meta WHERE key='incoming'").fetchone()
            noted = set(str(row[0]).split("\n")) if row else set()
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('incoming', ?)",
                ("\n".join(sorted((noted | set(names)) - {""})),),
            )

    def incoming(self) -> set[str]:
        """The pack names note_incoming noted and no enter_incoming entered yet."""
        return set(self.meta_get("incoming").split("\n")) - {""}

    def enter_incoming(self, packs: Iterable[FinishedPack]) -> None:
        """add_packs, and forget note_incoming's note in the same transaction."""
        with self.write() as db:
            self._add_packs(db, packs)
            db.execute("DELETE FROM meta WHERE key='incoming'")

    def merge_recent(self) -> int:
        """Move the recent table's rows into objects (off the hooks' time: the watcher's
        worker after its snapshot, gc before its plan); how many rows were there."""
        if self.tables()[0] != "recent":
            return 0  # (no transaction: the common case of an empty table costs one read)
        with self.write() as db:
            return self._merge_recent(db)

    @staticmethod
    def _merge_recent(db: sqlite3.Connection) -> int:
        """In key order into objects (the first row of a key stays, as in _add_packs: the
        oldest recent row, or the one objects had), in the caller's transaction."""
        (n,) = db.execute("SELECT count(*) FROM recent").fetchone()
        if n:
            db.execute(
                f"INSERT OR IGNORE INTO objects({_OBJECT_COLS}) "
                f"SELECT {_OBJECT_COLS} FROM recent ORDER BY key, rowid"
            )
            db.execute("DELETE FROM recent")
        return int(n)

    @staticmethod
    def _add_recent(db: sqlite3.Connection, packs: Iterable[FinishedPack]) -> None:
        """_add_packs into the recent table: appended in a few pages. An object found damaged
        takes its place in objects (as _add_packs heals it) and leaves recent."""
        from operator import itemgetter  # (see _add_packs)

        damaged = {bytes(k) for (k,) in db.execute(_DAMAGED_KEYS)}
        for p in packs:
            cur = db.execute("INSERT INTO packs(name, size) VALUES (?, ?)", (p.name, p.size))
            pid = cur.lastrowid
            rows = [(o.key, pid, o.offset, o.length, o.size, o.type, o.inner) for o in p.objects]
            # in key order, as _add_packs: recent's index on key is then appended to, not
            # split at random pages (L's 1 % step, 5,600 rows: 13.6-14.1 -> 8.5-8.9 ms of
            # CPU, the sort 1.3). A key given twice keeps its rows' order (a stable sort):
            # a merge keeps the first
            rows.sort(key=itemgetter(0))
            healed = [r for r in rows if r[0] in damaged] if damaged else []
            if healed:
                keys = {r[0] for r in healed}
                rows = [r for r in rows if r[0] not in keys]
                db.executemany("DELETE FROM recent WHERE key=?", [(k,) for k in keys])
                db.executemany(
                    f"INSERT OR REPLACE INTO objects({_OBJECT_COLS}) VALUES {_OBJECT_ROW}",
                    healed,
                )
                db.executemany("DELETE FROM damaged WHERE key=?", [(k,) for k in keys])
            _insert_rows(db, _INSERT_RECENT, rows)

    @staticmethod
    def _add_packs(db: sqlite3.Connection, packs: Iterable[FinishedPack]) -> None:
        damaged = {bytes(k) for (k,) in db.execute(_DAMAGED_KEYS)}
        # here, not at the top: an unchanged hook imports this module and writes nothing, and
        # only some environments load operator at Python's start (a .pth file's import; not
        # the shims' `python -S`: tests/test_hook_imports.py)
        from operator import attrgetter

        by_key = attrgetter("key")
        for p in packs:
            cur = db.execute("INSERT INTO packs(name, size) VALUES (?, ?)", (p.name, p.size))
            pid = cur.lastrowid
            # in key order: inserts into the key's B-tree then go page by page instead of
            # at random (62k rows into 0-190k: 0.43-0.71 s CPU against 0.66-1.12 s); sorted
            # by the key alone, not as tuples: 72k rows 0.17-0.21 -> 0.07-0.11 s (one pack's
            # rows at a time: L's all at once would hold ~28 MB more). The rows are made
            # ROWS_AT_ONCE at a time: a first snapshot's index thread (archiver._Indexer)
            # enters a pack while the walk goes on, and a whole pack's rows (L: ~40k, ~5 MB)
            # held beside it raised L's peak RSS
            objs = sorted(p.objects, key=by_key)
            healed: list[tuple[Any, ...]] = []
            for i in range(0, len(objs), ROWS_AT_ONCE):
                rows = [
                    (o.key, pid, o.offset, o.length, o.size, o.type, o.inner)
                    for o in objs[i : i + ROWS_AT_ONCE]
                ]
                _insert_rows(db, _INSERT_OBJECTS, rows)  # (the first of a key stays)
                if damaged:
                    healed += [r for r in rows if r[0] in damaged]
            if not healed:
                continue
            # a fresh copy of an object found damaged takes its place: healed
            db.executemany(
                "UPDATE objects SET pack=?, offset=?, length=?, size=?, type=?, member=? "
                "WHERE key=?",
                [(*r[1:], r[0]) for r in healed],
            )
            db.executemany("DELETE FROM damaged WHERE key=?", [(r[0],) for r in healed])

    def mark_damaged(self, key: bytes, why: str, group: bool = False) -> None:
        """Record *key* as damaged; with *group* (its group could not be read), every other
        member of its group too."""
        with self.write() as db:
            rows = [(key, why, time.time())]
            if group:
                note = f"{why} (in the same group as {key.hex()[:16]})"
                for a in ("objects", "recent"):
                    for b in ("objects", "recent"):
                        others = db.execute(
                            f"SELECT o.key FROM {a} g JOIN {b} o "
                            "ON o.pack = g.pack AND o.offset = g.offset AND o.member >= 0 "
                            "WHERE g.key = ? AND g.member >= 0 AND o.key != g.key",
                            (key,),
                        )
                        rows += [(bytes(k), note, rows[0][2]) for (k,) in others]
            db.executemany(_MARK_DAMAGED, rows)

    def mark_damaged_each(self, found: list[tuple[bytes, str, bool]]) -> None:
        """mark_damaged(key, why, group) for each of *found* in its order, in one transaction
        and one row a key: each key's why as the calls one after the other left it (the last
        written). A restore of a pack whose groups are all damaged marks every file, and each
        call wrote its whole group again: 1,100 files 6.8 s (review RR46's test), each group
        now read once."""
        if not found:
            return
        final: dict[bytes, str] = {}
        groups: dict[tuple[int, int], list[bytes]] = {}
        tables = ("objects", "recent")
        with self.write() as db:
            for key, why, group in found:
                final[key] = why
                if not group:
                    continue
                note = f"{why} (in the same group as {key.hex()[:16]})"
                for a in tables:
                    for pack, offset in db.execute(
                        f"SELECT pack, offset FROM {a} WHERE key = ? AND member >= 0", (key,)
                    ).fetchall():
                        members = groups.get((pack, offset))
                        if members is None:
                            members = groups[(pack, offset)] = [
                                bytes(k)
                                for b in tables
                                for (k,) in db.execute(
                                    f"SELECT key FROM {b} "
                                    "WHERE pack = ? AND offset = ? AND member >= 0",
                                    (pack, offset),
                                )
                            ]
                        for other in members:
                            if other != key:
                                final[other] = note
            now = time.time()
            db.executemany(_MARK_DAMAGED, [(k, why, now) for k, why in final.items()])

    def mark_damaged_many(self, keys: list[bytes], why: str) -> None:
        """mark_damaged for each of *keys*, in one transaction."""
        now = time.time()
        with self.write() as db:
            db.executemany(_MARK_DAMAGED, [(key, why, now) for key in keys])

    def mark_pack_damaged(self, pack: str, why: str) -> None:
        """Record every object the index places in *pack* as damaged: the pack file is gone,
        so each of them is (not only the one a reader met first)."""
        with self.write() as db:
            for table in ("objects", "recent") if self.has_recent else ("objects",):
                db.execute(
                    f"INSERT INTO damaged(key, why, found) SELECT key, ?, ? FROM {table} "
                    "WHERE pack = (SELECT id FROM packs WHERE name = ?) "
                    "ON CONFLICT(key) DO UPDATE SET why = excluded.why",
                    (why, time.time(), pack),
                )

    def forget(self, snaps: Iterable[Snapshot], tombstones: Iterable[FinishedPack] = ()) -> None:
        """Drop the rows of *snaps*; *tombstones* (packs holding FORGET objects naming their
        records) are entered in the same transaction. Each row is found by what its snapshot
        is (repository, number, root and record), never by the row id it was read with: a
        ``repair`` between that read and this lock numbers the rows afresh, and a row id
        then names another snapshot (RED30: ``forget 5`` dropped 6). One gone meanwhile is
        not there to drop."""
        with self.write() as db:
            self._add_packs(db, tombstones)
            db.executemany(
                "DELETE FROM snapshots WHERE source=(SELECT id FROM sources WHERE key=?) "
                "AND seq=? AND root=? AND record IS ?",
                [(s.source, s.id, s.root, s.record) for s in snaps],
            )

    def restate(
        self,
        snap: Snapshot,
        meta: dict[str, Any],
        record: bytes | None,
        packs: Iterable[FinishedPack],
    ) -> bool:
        """The row of *snap* takes *meta* and the record *record*, and *packs* (which hold that
        record and a tombstone of the one it replaces: records.restate; none when the record
        stays) are entered, in one transaction; False, with nothing done, when the row is no
        longer there as read (its repository, number, root and record, as forget finds it)."""
        from git_snapshot.store.records import dumps

        with self.write() as db:
            cur = db.execute(
                "UPDATE snapshots SET meta=?, record=? WHERE source=(SELECT id FROM sources "
                "WHERE key=?) AND seq=? AND root=? AND record IS ?",
                (dumps(meta, ", ", ": "), record, snap.source, snap.id, snap.root, snap.record),
            )
            if cur.rowcount != 1:
                return False
            self._add_packs(db, packs)
        return True

    def set_source(self, key: str, path: str, next_seq: int) -> None:
        """Enter a source (repair), never lowering the number it hands out next."""
        with self.write() as db:
            db.execute(
                "INSERT INTO sources(key, path, next_seq) VALUES (?, ?, ?) ON CONFLICT(key) "
                "DO UPDATE SET path = excluded.path, "
                "next_seq = max(next_seq, excluded.next_seq)",
                (key, path, next_seq),
            )

    def object_keys(self) -> list[bytes]:
        sql = " UNION ".join(f"SELECT key FROM {t}" for t in self.tables())
        return [bytes(k) for (k,) in self.db.execute(sql)]

    def object_count(self) -> int:
        """Rows of objects and recent (a key in both counted twice: rare, an estimate)."""
        return sum(
            self.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in self.tables()
        )

    def has_packs(self) -> bool:
        return self.db.execute("SELECT 1 FROM packs LIMIT 1").fetchone() is not None

    def has_root(self, root: bytes) -> bool:
        return (
            self.db.execute("SELECT 1 FROM snapshots WHERE root=? LIMIT 1", (root,)).fetchone()
            is not None
        )

    # -- garbage collection and retention (SQL lives here) --

    def gc_snapshot_keys(self, without: Iterable[int] = ()) -> tuple[list[bytes], list[bytes]]:
        """Where gc's marking starts: the root tree keys and the record keys of every snapshot
        but those whose row id is in *without* (a dry run's forgotten ones). Snapshots written
        before records existed have none."""
        skip = set(without)
        roots: list[bytes] = []
        records: list[bytes] = []
        for rowid, root, record in self.db.execute("SELECT id, root, record FROM snapshots"):
            if rowid in skip:
                continue
            roots.append(bytes(root))
            if record is not None:
                records.append(bytes(record))
        return roots, records

    def gc_packs(self) -> dict[int, tuple[str, int]]:
        """Every pack the index names: id -> (file name, size)."""
        rows = self.db.execute("SELECT id, name, size FROM packs")
        return {pid: (name, size) for pid, name, size in rows}

    def gc_objects(self) -> list[tuple[bytes, int, int, int]]:
        """(key, pack id, frame length, type) of every object."""
        rows = self.db.execute("SELECT key, pack, length, type FROM objects").fetchall()
        return [(bytes(k), p, n, t) for k, p, n, t in rows]

    def gc_members(self) -> list[tuple[bytes, int, int, int]]:
        """(key, pack id, group offset, size) of every object inside a group."""
        rows = self.db.execute(
            "SELECT key, pack, offset, size FROM objects WHERE member >= 0"
        ).fetchall()
        return [(bytes(k), p, o, s) for k, p, o, s in rows]

    def keys_of_type(self, type_: int) -> list[bytes]:
        """The keys of every object of *type_* (pull reads the tombstones: what this store
        forgot is not pulled back)."""
        tables = self.tables()
        sql = " UNION ".join(f"SELECT key FROM {t} WHERE type=?" for t in tables)
        return [bytes(k) for (k,) in self.db.execute(sql, (type_,) * len(tables))]

    def objects_in_pack(self, pack_id: int) -> list[tuple[bytes, int, int, int, int, int]]:
        """(key, offset, length, size, type, inner) of the objects the index places in a
        pack, in storage order."""
        rows = self.db.execute(
            "SELECT key, offset, length, size, type, member FROM objects WHERE pack=? "
            "ORDER BY offset, member",
            (pack_id,),
        ).fetchall()
        return [(bytes(k), o, n, s, t, i) for k, o, n, s, t, i in rows]

    def keys_in_pack(self, name: str) -> set[bytes]:
        """The keys of the objects the index places in pack *name* (recent's rows too)."""
        out: set[bytes] = set()
        for table in self.tables():
            rows = self.db.execute(
                f"SELECT o.key FROM {table} o JOIN packs p ON p.id = o.pack WHERE p.name = ?",
                (name,),
            )
            out.update(bytes(k) for (k,) in rows)
        return out

    def gc_doomed(self) -> set[str]:
        """Pack files an earlier gc dropped from the index but may not have unlinked (killed
        in between): deletable whatever they hold."""
        import json

        return set(json.loads(self.meta_get("gc_doomed", "[]")))

    def gc_drop(
        self,
        dead: list[bytes],
        packs: list[int],
        doomed: list[str],
        unmarked: Iterable[bytes] = (),
    ) -> None:
        """Forget dead objects and the packs they leave empty, in one transaction, and note
        the files about to be unlinked (*doomed*); drop the marks of damage of *unmarked*
        (keys no snapshot needs that the index lacks: gc._stale_marks). A new generation,
        when objects or marks go, invalidates every files cache (a cache may name the
        objects deleted here, or a key no longer marked) but those gc then carries over
        (gc._carry_caches), and the watcher's prepared trees."""
        import json

        unmarked = list(unmarked)
        with self.write() as db:
            self._gc_set_meta(db, "last_gc", str(time.time()))
            self._gc_set_meta(db, "gc_doomed", json.dumps(sorted(doomed)))
            if dead or unmarked:
                self._gc_set_meta(db, "generation", os.urandom(16).hex())
            self._merge_recent(db)  # (gc merged them before its plan: none, unless a bug)
            db.executemany("DELETE FROM objects WHERE key=?", [(k,) for k in dead])
            db.executemany("DELETE FROM damaged WHERE key=?", [(k,) for k in [*dead, *unmarked]])
            db.executemany("DELETE FROM objects WHERE pack=?", [(p,) for p in packs])
            db.executemany("DELETE FROM packs WHERE id=?", [(p,) for p in packs])

    def gc_move(self, new: list[FinishedPack], old: list[int], doomed: list[str]) -> None:
        """Point the objects of repacked packs at their copies in *new* and forget the *old*
        packs, whose files (*doomed*) are unlinked next."""
        import json

        with self.write() as db:
            self._gc_set_meta(db, "gc_doomed", json.dumps(sorted(doomed)))
            for p in new:
                cur = db.execute("INSERT INTO packs(name, size) VALUES (?, ?)", (p.name, p.size))
                db.executemany(  # length too: a repack may compress an object again
                    "UPDATE objects SET pack=?, offset=?, length=?, member=? WHERE key=?",
                    [(cur.lastrowid, o.offset, o.length, o.inner, o.key) for o in p.objects],
                )
            db.executemany("DELETE FROM packs WHERE id=?", [(p,) for p in old])

    @staticmethod
    def _gc_set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def in_time(snaps: list[Snapshot]) -> list[Snapshot]:
    """*snaps* (number order, grouped by source) with the pulled ones merged in by when they
    were taken: this store's own and the pulled each keep their number order (a clock set
    back reorders neither), a pulled snapshot goes before the first own one taken after it.
    A pull gives an older snapshot a number above this store's newer ones when its own
    number is taken; by number it passed for the newest (latest, a hook's loss report)."""
    if not any(s.pulled for s in snaps):
        return snaps
    out: list[Snapshot] = []
    start = 0
    for i in range(1, len(snaps) + 1):
        if i == len(snaps) or snaps[i].source != snaps[start].source:
            out += _merged(snaps[start:i])
            start = i
    return out


def _merged(snaps: list[Snapshot]) -> list[Snapshot]:
    own = [s for s in snaps if not s.pulled]
    pulled = [s for s in snaps if s.pulled]
    out: list[Snapshot] = []
    i = j = 0
    while i < len(own) and j < len(pulled):
        if pulled[j].created < own[i].created:
            out.append(pulled[j])
            j += 1
        else:
            out.append(own[i])
            i += 1
    return out + own[i:] + pulled[j:]
