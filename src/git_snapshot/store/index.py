"""The SQLite index: sources, snapshots, packs and where each object lives.

WAL mode, a long busy timeout, ``BEGIN IMMEDIATE`` for every write, and a retry loop around
it, so concurrent hooks wait for each other instead of failing on a lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from git_snapshot.store.packs import FinishedPack

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
    type INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_pack ON objects(pack);
CREATE TABLE IF NOT EXISTS damaged(
    key BLOB PRIMARY KEY,          -- an object found damaged or missing by any read
    why TEXT NOT NULL,
    found REAL NOT NULL
) WITHOUT ROWID;
"""

BUSY_TIMEOUT_S = 60.0
RETRY_FOR_S = 600.0


@dataclass
class Snapshot:
    rowid: int
    source: str  # source key
    id: int  # per-source number
    created: float
    trigger: str
    message: str
    worktree: str
    root: bytes
    files: int
    bytes: int
    added_bytes: int
    skipped: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Location:
    pack: str
    offset: int
    length: int
    size: int
    type: int


def _locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc)
    return "locked" in msg or "busy" in msg


class Index:
    def __init__(self, path: str) -> None:
        if not os.path.exists(path):
            # create it 0600 ourselves; SQLite gives -wal/-shm the same mode
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        self._retry(self._setup)

    def _setup(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        with self.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            # random, so that a files cache never matches a different (recreated) index
            db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', ?)",
                (uuid.uuid4().hex,),
            )

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
        self._retry(lambda: self.db.execute("BEGIN IMMEDIATE"))
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._retry(lambda: self.db.execute("COMMIT"))

    def close(self) -> None:
        self.db.close()

    # -- reads -------------------------------------------------------------------------------

    def meta_get(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0]) if row else default

    def has(self, key: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM objects WHERE key=?", (key,)).fetchone() is not None

    def locate(self, key: bytes) -> Location | None:
        row = self.db.execute(
            "SELECT p.name, o.offset, o.length, o.size, o.type FROM objects o "
            "JOIN packs p ON p.id = o.pack WHERE o.key=?",
            (key,),
        ).fetchone()
        return Location(*row) if row else None

    _SNAP_COLS = (
        "s.id, src.key, s.seq, s.created, s.trigger, s.message, s.worktree, s.root, s.files, "
        "s.bytes, s.added_bytes, s.skipped, s.meta"
    )

    def snapshots(self, source: str | None = None, worktree: str | None = None) -> list[Snapshot]:
        """Snapshots, oldest first: all, or of one source, or of one worktree of it."""
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
        rows = self.db.execute(sql + " ORDER BY src.id, s.seq", args).fetchall()
        return [self._snap(r) for r in rows]

    @staticmethod
    def _snap(r: tuple[Any, ...]) -> Snapshot:
        return Snapshot(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[10],
            r[11],
            json.loads(r[12]),
        )

    def damaged(self) -> dict[bytes, str]:
        """Objects found damaged or missing, and why: the next snapshot stores them afresh."""
        return {bytes(k): w for k, w in self.db.execute("SELECT key, why FROM damaged")}

    def sources(self) -> list[tuple[str, str]]:
        return [(k, p) for k, p in self.db.execute("SELECT key, path FROM sources ORDER BY id")]

    def packs(self) -> dict[str, int]:
        return {n: s for n, s in self.db.execute("SELECT name, size FROM packs")}

    # -- writes ------------------------------------------------------------------------------

    def add_snapshot(
        self, packs: Iterable[FinishedPack], source: str, source_path: str, snap: Snapshot
    ) -> Snapshot:
        """Enter new packs and the snapshot in one transaction; assigns ``snap.id``."""
        with self.write() as db:
            damaged = {bytes(k) for (k,) in db.execute("SELECT key FROM damaged")}
            for p in packs:
                cur = db.execute("INSERT INTO packs(name, size) VALUES (?, ?)", (p.name, p.size))
                pid = cur.lastrowid
                rows = [(o.key, pid, o.offset, o.length, o.size, o.type) for o in p.objects]
                db.executemany(
                    "INSERT OR IGNORE INTO objects(key, pack, offset, length, size, type) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                # a fresh copy of an object found damaged takes its place: healed
                healed = [r for r in rows if r[0] in damaged]
                db.executemany(
                    "UPDATE objects SET pack=?, offset=?, length=?, size=?, type=? WHERE key=?",
                    [(*r[1:], r[0]) for r in healed],
                )
                db.executemany("DELETE FROM damaged WHERE key=?", [(r[0],) for r in healed])
            db.execute(
                "INSERT INTO sources(key, path) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET path = excluded.path",
                (source, source_path),
            )
            sid, seq = db.execute(
                "SELECT id, next_seq FROM sources WHERE key=?", (source,)
            ).fetchone()
            db.execute("UPDATE sources SET next_seq = ? WHERE id = ?", (seq + 1, sid))
            cur = db.execute(
                "INSERT INTO snapshots(source, seq, created, trigger, message, worktree, root, "
                "files, bytes, added_bytes, skipped, meta) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sid,
                    seq,
                    snap.created,
                    snap.trigger,
                    snap.message,
                    snap.worktree,
                    snap.root,
                    snap.files,
                    snap.bytes,
                    snap.added_bytes,
                    snap.skipped,
                    json.dumps(snap.meta, sort_keys=True),
                ),
            )
            snap.rowid = int(cur.lastrowid or 0)
            snap.id = seq
            snap.source = source
        return snap

    def mark_damaged(self, key: bytes, why: str) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO damaged(key, why, found) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET why = excluded.why",
                (key, why, time.time()),
            )

    def forget(self, rowids: Iterable[int]) -> None:
        with self.write() as db:
            db.executemany("DELETE FROM snapshots WHERE id=?", [(r,) for r in rowids])
