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

FORMAT = 1


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
    import json  # here: json imports re, and compiles its patterns (the hook path)

    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


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
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptObject(f"bad snapshot record: {exc}") from exc
    if len(snap.root) != 32 or snap.id < 1:
        raise CorruptObject("bad snapshot record: root or number out of range")
    return snap, source_path


def encode_forget(records: list[bytes]) -> bytes:
    import json

    return json.dumps({"format": FORMAT, "forget": sorted(r.hex() for r in records)}).encode()


def decode_forget(data: bytes) -> list[bytes]:
    import json

    try:
        doc = json.loads(data)
        return [bytes.fromhex(h) for h in doc["forget"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptObject(f"bad tombstone: {exc}") from exc


def _typed(doc: dict[str, Any], key: str, kind: Any) -> Any:
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{key} has the wrong type")
    return value
