"""Snapshot records and tombstones: what the packs say about snapshots.

Every snapshot is also written into a pack as a RECORD object (JSON) before its index row, so
that ``repair`` can rebuild the index from the packs alone. Forgetting snapshots writes a
FORGET object (tombstone) naming their records, so that a rebuilt index does not bring back
what the user dropped on purpose.
"""

from __future__ import annotations

from git_snapshot.store.index import Snapshot
from git_snapshot.store.objects import CorruptObject

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from typing import Any

    from git_snapshot.store.core import Store

FORMAT = 1
# a snapshot number no store gives: a record or a tombstone naming one past it is damage (one
# near SQLite's 2**63 - 1 stopped the repair that read it: review RS45); JSON readers keep
# integers exact up to here
MAX_SEQ = 2**53


def encode_record(snap: Snapshot, source_path: str) -> bytes:
    doc = {
        "format": FORMAT,
        "source": snap.source,
        "source_path": source_path,
        "seq": snap.id,
        "created": snap.created,
        "trigger": snap.trigger,
        "message": snap.message,
        "worktree": snap.worktree,
        "root": snap.root.hex(),
        "files": snap.files,
        "bytes": snap.bytes,
        "added_bytes": snap.added_bytes,
        "skipped": snap.skipped,
        "meta": snap.meta,
    }
    return dumps(doc).encode()


def dumps(value: object, comma: str = ",", colon: str = ":") -> str:
    """``json.dumps(value, sort_keys=True, separators=(comma, colon))``, the same text, written
    with the C string encoder json itself uses but without importing json: json imports ``re``
    and compiles its patterns, about 30 M instructions of every hook that stores a snapshot.
    Anything but str, int, float, bool, None, lists, tuples and dicts with str keys goes to
    json (which says what it cannot encode)."""
    try:
        from _json import encode_basestring_ascii
    except ImportError:  # not CPython
        pass
    else:
        try:
            return _encode(value, encode_basestring_ascii, comma, colon, 0)
        except _Unusual:
            pass
    import json

    return json.dumps(value, sort_keys=True, separators=(comma, colon))


class _Unusual(Exception):
    """A value json.dumps must see (another key type, another type, a circular structure)."""


_FLOATS = {float("inf"): "Infinity", float("-inf"): "-Infinity"}


def _encode(value: object, quote: Any, comma: str, colon: str, depth: int) -> str:
    # the order and the forms of json.encoder's own checks
    if isinstance(value, str):
        return str(quote(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        return _FLOATS.get(value) or float.__repr__(value)
    if depth > 100:
        raise _Unusual
    depth += 1
    if isinstance(value, (list, tuple)):
        return "[" + comma.join([_encode(v, quote, comma, colon, depth) for v in value]) + "]"
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):
            raise _Unusual
        pairs = [
            quote(k) + colon + _encode(v, quote, comma, colon, depth)
            for k, v in sorted(value.items())
        ]
        return "{" + comma.join(pairs) + "}"
    raise _Unusual


# a record's creation time is a clock's, from 1970 until before the year 9999 (datetime's
# range, which list, log and retention's buckets read it with): any other (a hostile or
# hand-made record, pulled or read back by a repair) made every command reading it fail
LATEST = 253_370_764_800.0  # 9999-01-01 UTC: a margin for every time zone


def decode_record(data: bytes) -> tuple[Snapshot, str]:
    """(snapshot without rowid, source path); CorruptObject for anything malformed."""
    import json

    try:
        doc: dict[str, Any] = json.loads(data)
        if doc["format"] != FORMAT:
            raise ValueError(f"unknown record format {doc['format']!r}")
        snap = Snapshot(
            rowid=0,
            source=_typed(doc, "source", str),
            id=_typed(doc, "seq", int),
            created=float(_typed(doc, "created", (int, float))),
            trigger=_typed(doc, "trigger", str),
            message=_typed(doc, "message", str),
            worktree=_typed(doc, "worktree", str),
            root=bytes.fromhex(_typed(doc, "root", str)),
            files=_typed(doc, "files", int),
            bytes=_typed(doc, "bytes", int),
            added_bytes=_typed(doc, "added_bytes", int),
            skipped=_typed(doc, "skipped", int),
            meta=_typed(doc, "meta", dict),
        )
        source_path = _typed(doc, "source_path", str)
        _check_meta(snap.meta)
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptObject(f"bad snapshot record: {exc}") from exc
    if len(snap.root) != 32 or not 1 <= snap.id < MAX_SEQ:
        raise CorruptObject("bad snapshot record: root or number out of range")
    if not 0 <= snap.created < LATEST:  # (NaN too: json reads NaN, Infinity and 1e999)
        raise CorruptObject("bad snapshot record: created out of range")
    return snap, source_path


def restate(store: Store, snap: Snapshot, meta: dict[str, Any]) -> bool:
    """Give snapshot *snap* (a row of *store*'s index, read under the lock the caller holds
    still) the meta *meta* where a repair reads it too: a new record, in a pack of its own
    with a tombstone naming the record it replaces and the new one (by: a forget's tombstone
    of the old record is another object, so a repair tells the two apart), then one index
    transaction entering that pack and putting the meta and the new record in the row; data
    first, the row last, as every write (docs/FORMAT.md). An index rebuilt from the packs
    then has the new record alone; a kill before the transaction leaves a pack that a repair
    with the old index readable completes while the row still has the old record (RED36 B1)
    and removes once the snapshot is forgotten (repair._undone_forgets), and a forget of the
    snapshot since drops the new record too (repair._merge). False, with
    nothing changed, when the row is not the one read (gone meanwhile) or its record cannot
    be read; OSError or sqlite3.Error (a full disk) with nothing changed either."""
    import contextlib
    import hashlib
    import os

    from git_snapshot.store.objects import FORGET
    from git_snapshot.store.objects import RECORD
    from git_snapshot.store.packs import PackWriter
    from git_snapshot.store.safewrite import fsync_dir

    if snap.record is None:
        return False
    try:
        was, source_path = decode_record(store.read_object(snap.record))
    except CorruptObject:
        return False
    data = encode_record(was.replace(meta=meta), source_path)
    key = hashlib.sha256(data).digest()
    tombstone = encode_forget([snap.record], by=key)
    writer = PackWriter(store.path)
    try:
        writer.add(RECORD, key, data)
        writer.add(FORGET, hashlib.sha256(tombstone).digest(), tombstone)
        packs = writer.finish()
    except BaseException:
        writer.abort()
        raise
    done = False
    try:
        done = store.index.restate(snap, meta, key, packs)
    finally:
        if not done:  # no row names the pack: it goes (as a forget's that failed)
            for p in packs:
                with contextlib.suppress(OSError):
                    os.unlink(store.pack_path(p.name))
            with contextlib.suppress(OSError):
                fsync_dir(store.packs_dir)
    if done:
        snap.meta, snap.record = meta, key
    return done


def encode_forget(
    records: list[bytes],
    by: bytes | None = None,
    highest: dict[str, tuple[int, str]] | None = None,
) -> bytes:
    """A tombstone of *records*; *by*: the record that gives their snapshot anew (restate),
    so that it differs from a forget's tombstone of the same record (a repair tells the two).
    *highest*: source -> (the highest number of the snapshots forgotten, the source's path):
    a tombstone outlives the records it names (gc drops those), and a repair hands out
    numbers above it, so that a number a loss report printed is never given again (RED44
    F6b)."""
    import json

    doc: dict[str, Any] = {"format": FORMAT, "forget": sorted(r.hex() for r in records)}
    if by is not None:
        doc["by"] = by.hex()
    if highest:
        doc["highest"] = {src: [seq, path] for src, (seq, path) in sorted(highest.items())}
    return json.dumps(doc).encode()


def tombstone_highest(data: bytes) -> dict[str, tuple[int, str]]:
    """The *highest* a tombstone names (encode_forget): none when it names none (written
    before session 45, or a restatement's) or names them in another shape, or a number no
    store gives (MAX_SEQ)."""
    import json

    out: dict[str, tuple[int, str]] = {}
    try:
        doc = json.loads(data)
        named = doc.get("highest") if isinstance(doc, dict) else None
    except ValueError:
        return out
    if not isinstance(named, dict):
        return out
    for src, value in named.items():
        if (
            isinstance(value, list)
            and len(value) == 2
            and type(value[0]) is int
            and 1 <= value[0] < MAX_SEQ
            and isinstance(value[1], str)
        ):
            out[src] = (value[0], value[1])
    return out


def decode_forget(data: bytes) -> list[bytes]:
    return decode_tombstone(data)[0]


def decode_tombstone(data: bytes) -> tuple[list[bytes], bytes | None]:
    """The records a tombstone names, and the record giving their snapshot anew (None: a
    forget's)."""
    import json

    try:
        doc = json.loads(data)
        by = doc.get("by")
        return [bytes.fromhex(h) for h in doc["forget"]], None if by is None else bytes.fromhex(by)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptObject(f"bad tombstone: {exc}") from exc


def tombstones(store: Store) -> tuple[set[bytes], dict[bytes, bytes]]:
    """The records *store*'s tombstones name as forgotten (forget, retention), and those they
    name as given anew (restate: old -> new). One that does not read names nothing here
    (verify names it)."""
    from git_snapshot.store.objects import FORGET

    forgotten: set[bytes] = set()
    anew: dict[bytes, bytes] = {}
    for key in store.index.keys_of_type(FORGET):
        try:
            named, by = decode_tombstone(store.read_object(key))
        except CorruptObject:
            continue
        if by is None:
            forgotten.update(named)
        else:
            anew.update((k, by) for k in named if k != by)
    return forgotten, anew


def lineage(key: bytes, step: dict[bytes, bytes]) -> list[bytes]:
    """*key* and each record *step* leads to from it (records given anew: restate), in order."""
    out = [key]
    while (key := step.get(key, key)) not in out:
        out.append(key)
    return out


def _check_meta(meta: dict[str, Any]) -> None:
    """TypeError unless the fields of *meta* that commands read have the shapes snapshots
    write (archiver.create_snapshot, worktree.snapshot_meta): show, restore, run, diff, the
    hooks and the watcher read them unchecked (RED28)."""

    def strs(value: Any) -> bool:
        return type(value) is list and all(type(x) is str for x in value)

    skipped = meta.get("skipped_paths", [])
    if not (type(skipped) is list and all(strs(x) and len(x) == 2 for x in skipped)):
        raise TypeError("skipped_paths has the wrong shape")
    if not strs(meta.get("changed_while_read", [])):
        raise TypeError("changed_while_read has the wrong shape")
    unsettled = meta.get("unsettled", {})
    if not (
        type(unsettled) is dict
        and strs(unsettled.get("dirs", []))
        and type(unsettled.get("since", 0)) in (int, float)
    ):
        raise TypeError("unsettled has the wrong shape")
    for key in ("head", "branch"):
        if type(meta.get(key)) not in (str, type(None)):
            raise TypeError(f"{key} has the wrong type")


def _typed(doc: dict[str, Any], key: str, kind: Any) -> Any:
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{key} has the wrong type")
    return value
