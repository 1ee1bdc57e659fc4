"""Where every object of the store lies, read in one pass over the index and kept compact, for
a whole restore: 72 bytes per object in one buffer sorted by key, found through the keys'
first 8 bytes (SHA-256 keys are uniform, so a table of buckets by their top bits finds a key
in about one comparison).

Why not a dict of tuples, as before: on the L tree (225,000 objects) that took 66 MB and
~1 s of CPU to build, so restores of stores beyond 100,000 objects located every tree and
every job's files by key in SQLite instead (~30 us per key: 4-5 s of the restoring process on
L). This takes 16 MB and ~0.3 s: SQLite formats the rows (printf, in C) and bytes.fromhex
reads them back (in C); Python touches each row only to fill the bucket table.
"""

from __future__ import annotations

import operator
import struct
from array import array

TYPE_CHECKING = False
if TYPE_CHECKING:
    from git_snapshot.store.index import Index

# Where a file's content lies: pack, offset, frame length, size, place in its group (or -1).
Loc = tuple[str, int, int, int, int]

KEY = 32
ROW = KEY + 5 * 8  # key, pack id, offset, frame length, size, member (signed)
_FIELDS = struct.Struct(">QQQQq")
_PREFIX = struct.Struct(f">Q{ROW - 8}x")  # a row's first 8 bytes, as a number
_FIRST = operator.itemgetter(0)
# one row as hex: the key, then the five numbers as 16 hex digits each (a negative member as
# its 64-bit two's complement, read back signed)
_ROW_SQL = "printf('%s%016x%016x%016x%016x%016x', hex(key), pack, offset, length, size, member)"
_CHUNKS = 16  # queries, by the key's first byte: no one string of the whole table at once
# objects at most: ~36 MB with the prefixes and buckets, about what the dict of tuples took
# at its limit (100,000 objects, ~30 MB); beyond, a restore locates by key
LIMIT = 400_000


class Located:
    """Every object of the index: get(key) -> Loc or None."""

    __slots__ = ("buf", "names", "prefixes", "shift", "starts")

    def __init__(self, index: Index) -> None:
        self.names = {pack_id: name for pack_id, (name, _) in index.gc_packs().items()}
        tables = index.tables()
        # grown in place, chunk by chunk (a big buffer's realloc moves no bytes): joining the
        # chunks' bytes made two copies at once (the prefixes' slices, the buckets' list of
        # ints: in all, ~50 MB above this table's 16 MB on L, the restore's peak then)
        buf = self.buf = bytearray()
        for c in range(_CHUNKS):
            lo = bytes([c * 256 // _CHUNKS])
            hi = bytes([(c + 1) * 256 // _CHUNKS]) if c + 1 < _CHUNKS else None
            where = "length(key) = 32 AND key >= ?" + (" AND key < ?" if hi is not None else "")
            args = [lo] if hi is None else [lo, hi]
            rows = " UNION ALL ".join(
                f"SELECT key, pack, offset, length, size, member FROM {t} WHERE {where}"
                for t in tables
            )
            (text,) = index.db.execute(
                f"SELECT group_concat(x, '') FROM (SELECT {_ROW_SQL} AS x FROM ({rows}) "
                "ORDER BY key)",
                args * len(tables),
            ).fetchone()
            if text:
                buf += bytes.fromhex(text)
                del text
        n = len(buf) // ROW
        prefixes = array("Q", map(_FIRST, _PREFIX.iter_unpack(buf)))
        if prefixes.itemsize != 8:  # pragma: no cover (no platform has another 'Q')
            raise ValueError("array 'Q' is not 8 bytes here")
        self.prefixes = prefixes
        bits = max(n - 1, 1).bit_length()  # at least as many buckets as keys
        self.shift = 64 - bits
        shift = self.shift
        # starts[b]: the first row whose key falls in bucket b or after it
        starts = array("I" if array("I").itemsize >= 4 else "L", [n]) * ((1 << bits) + 1)
        for i in range(n - 1, -1, -1):
            starts[prefixes[i] >> shift] = i
        for b in range(len(starts) - 2, -1, -1):
            if starts[b] > starts[b + 1]:
                starts[b] = starts[b + 1]
        self.starts = starts

    def __len__(self) -> int:
        return len(self.prefixes)

    def get(self, key: bytes) -> Loc | None:
        """Where *key* lies (a key held twice: either copy, both are valid), or None."""
        if len(key) != KEY:
            return None
        p = int.from_bytes(key[:8], "big")
        b = p >> self.shift
        starts, prefixes, buf = self.starts, self.prefixes, self.buf
        i, end = starts[b], starts[b + 1]
        while i < end:  # (no range object, no slice of the buffer: a lookup ~2.25 -> 2.1 us)
            if prefixes[i] == p and buf.startswith(key, i * ROW):
                pack, offset, length, size, member = _FIELDS.unpack_from(buf, i * ROW + KEY)
                name = self.names.get(pack)
                return None if name is None else (name, offset, length, size, member)
            i += 1
        return None
