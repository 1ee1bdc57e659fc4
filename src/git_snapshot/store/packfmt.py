"""The pack format. Pack files: many compressed objects in one file, written once.

A pack is a magic (``GSNPACK4``; packs of versions 1 to 3, ``GSNPACK1`` to ``GSNPACK3``, are
still read) followed by records. A record is a header (``REC``: marker, object type, SHA-256
key, raw size, length of what follows) and one zstd frame. The SQLite index maps keys to
(pack, offset, length, position in a group); the headers make a pack readable without the
index.

Small objects compress badly one by one (a 2 KiB file shares most of its words with its
neighbours, but a frame of its own sees none of them), so small blobs are written together in
group records (marker ``G``): a member table (count; type, key and size of each member) and one
zstd frame of the members' bytes, one after the other. Reading one member decompresses at most
its group (about GROUP_BYTES: bounded; each reading thread keeps the last GROUP_CACHE groups
it decompressed, so members read in storage order cost one decompression per group). A pack
may also begin with a dictionary record (marker ``D``): raw zstd content, pieces of the small
objects the writer saw first. Every frame of such a pack is decompressed with that dictionary
(a frame compressed without it decodes the same with it); it is cached per pack. Except the
frames of ``P`` records (format 4): one object compressed without the dictionary (trees,
records, tombstones, files streamed in), read without building it (from the record's
header, read with the frame).

Written by store/packs.py (PackWriter), read by store/packread.py (PackReader, scan_pack).
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing's own, without importing typing (the hook path imports this)
if TYPE_CHECKING:
    from typing import Any

PACK_MAGIC_V1 = b"GSNPACK1"  # one frame per object, no dictionary
PACK_MAGIC_V2 = b"GSNPACK2"  # may start with a dictionary record
PACK_MAGIC_V3 = b"GSNPACK3"  # and small blobs in group records
PACK_MAGIC = b"GSNPACK4"  # and P records: frames that need no dictionary
MAGICS = (PACK_MAGIC_V1, PACK_MAGIC_V2, PACK_MAGIC_V3, PACK_MAGIC)
REC = struct.Struct("<cB32sQQ")  # marker (R, P, G, D), type, key, raw size, length that follows
# An object's record: R, its frame is decompressed with the pack's dictionary (if it has one);
# P (format 4), its frame was compressed without one, and is read without building it. zstd
# cannot tell: a raw-content dictionary has no ID, so its frames' headers name none.
OBJECT_MARKERS = (b"R", b"P")
# A group record (b"G"): type 0, the key is the SHA-256 of the member table, the size the sum
# of the members' sizes, the length that of the table and the frame. The table: COUNT, then
# MEMBER (type, key, size) per member; the frame holds the members' bytes in table order.
COUNT = struct.Struct("<I")
MEMBER = struct.Struct("<B32sQ")
GROUP_LIMIT = 16 << 20  # a group claiming more raw bytes (or members) than this is damage
CHUNK = 1 << 20
DICT_MAX_SIZE = 4 << 20  # a dictionary record claiming more is damage


class PackedObject:
    """Where one object lies in a pack. One per object of a snapshot until the index has
    them: slots, no __dict__ each (-8 MB on L); a plain class (no dataclasses on the hook
    path)."""

    FIELDS = ("key", "type", "offset", "length", "size", "inner")  # remote index documents
    __slots__ = FIELDS

    def __init__(
        self, key: bytes, type: int, offset: int, length: int, size: int, inner: int = -1
    ) -> None:
        self.key = key
        self.type = type
        self.offset = offset  # of the zstd frame; of a group's body (table and frame)
        self.length = length  # of the zstd frame; of a group's body
        self.size = size  # raw
        self.inner = inner  # where it starts in its group's content; -1: a frame of its own

    def astuple(self) -> tuple[bytes, int, int, int, int, int]:
        return (self.key, self.type, self.offset, self.length, self.size, self.inner)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PackedObject) and self.astuple() == other.astuple()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return (
            f"PackedObject(key={self.key!r}, type={self.type}, offset={self.offset}, "
            f"length={self.length}, size={self.size}, inner={self.inner})"
        )


class FinishedPack:
    __slots__ = ("name", "objects", "size")

    def __init__(self, name: str, size: int, objects: list[PackedObject] | None = None) -> None:
        self.name = name
        self.size = size
        self.objects: list[PackedObject] = [] if objects is None else objects

    def __repr__(self) -> str:
        return f"FinishedPack(name={self.name!r}, size={self.size}, {len(self.objects)} objects)"


def _zstd() -> Any:
    """zstandard's API, loaded on first use (the hook path imports this module) without its
    package's costly __init__ (store/zstd.py)."""
    from git_snapshot.store import zstd

    return zstd.load()


def _zstd_error(message: str) -> Exception:
    zstandard = _zstd()
    error: Exception = zstandard.ZstdError(message)
    return error


def group_table(members: list[tuple[int, bytes, int]]) -> bytes:
    """The member table of a group of (type, key, size)."""
    pack = MEMBER.pack
    return COUNT.pack(len(members)) + b"".join([pack(*m) for m in members])


def parse_table(body: bytes | memoryview, where: str) -> tuple[list[tuple[int, bytes, int]], int]:
    """The members of a group record's *body* (its table and frame) and where its frame starts;
    ValueError when the table cannot be right (it runs past the body, names a key twice,
    claims more than GROUP_LIMIT)."""
    if len(body) < COUNT.size:
        raise ValueError(f"{where}: group table is cut short")
    (count,) = COUNT.unpack_from(body, 0)
    end = COUNT.size + count * MEMBER.size
    if count == 0 or end > len(body):
        raise ValueError(f"{where}: group table is damaged (runs past its record)")
    members: list[tuple[int, bytes, int]] = list(MEMBER.iter_unpack(body[COUNT.size : end]))
    if len({k for _, k, _ in members}) != count:
        raise ValueError(f"{where}: group table is damaged (a key twice)")
    if sum(s for _, _, s in members) > GROUP_LIMIT:
        raise ValueError(f"{where}: group table is damaged (too big)")
    return members, end
