"""Pack files: many compressed objects in one file, written once.

A pack is ``PACK_MAGIC`` followed by records. A record is a header (``REC``: marker, object
type, SHA-256 key, raw size, compressed length) and one zstd frame. The SQLite index maps keys
to (pack, offset, length); the headers make a pack readable without the index.

A writer fills a temp file in ``tmp/``, then fsyncs it and renames it into ``packs/``: a pack
under ``packs/`` is always complete. Only after that are its objects entered in the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import BinaryIO

import zstandard

from git_snapshot.store.safewrite import fsync_dir as fsync_dir  # kill-point tests patch it here

PACK_MAGIC = b"GSNPACK1"
REC = struct.Struct("<cB32sQQ")  # b"R", type, key, raw size, compressed length
CHUNK = 1 << 20
MAX_PACK = 64 << 20
LEVEL = 3


@dataclass
class PackedObject:
    key: bytes
    type: int
    offset: int  # of the zstd frame
    length: int  # of the zstd frame
    size: int  # raw


@dataclass
class FinishedPack:
    name: str
    size: int
    objects: list[PackedObject] = field(default_factory=list)


class PackWriter:
    """Appends objects to temp packs; ``finish()`` makes them durable and visible."""

    def __init__(self, root: str, max_size: int = MAX_PACK) -> None:
        self._tmpdir = os.path.join(root, "tmp")
        self._packdir = os.path.join(root, "packs")
        self._max = max_size
        self._cctx = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
        self._file: BinaryIO | None = None
        self._tmpname = ""
        self._current: FinishedPack | None = None
        self.done: list[FinishedPack] = []
        self.written = 0  # bytes added to packs, headers included

    def _open(self) -> tuple[BinaryIO, FinishedPack]:
        if self._file is not None and self._current is not None:
            if self._file.tell() < self._max:
                return self._file, self._current
            self._seal()
        name = secrets.token_hex(16) + ".pack"
        self._tmpname = os.path.join(self._tmpdir, name + ".tmp")
        fd = os.open(self._tmpname, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._file.write(PACK_MAGIC)
        self._current = FinishedPack(name, 0)
        return self._file, self._current

    def add(self, type_: int, key: bytes, data: bytes) -> int:
        """Store *data* under *key*; returns the bytes added to the pack."""
        f, pack = self._open()
        frame = self._cctx.compress(data)
        start = f.tell()
        f.write(REC.pack(b"R", type_, key, len(data), len(frame)))
        f.write(frame)
        pack.objects.append(PackedObject(key, type_, start + REC.size, len(frame), len(data)))
        added = REC.size + len(frame)
        self.written += added
        return added

    def add_frame(self, type_: int, key: bytes, size: int, frame: bytes) -> None:
        """Copy an already compressed object (repacking)."""
        f, pack = self._open()
        start = f.tell()
        f.write(REC.pack(b"R", type_, key, size, len(frame)))
        f.write(frame)
        pack.objects.append(PackedObject(key, type_, start + REC.size, len(frame), size))
        self.written += REC.size + len(frame)

    def begin_stream(self) -> StreamRecord:
        f, pack = self._open()
        return StreamRecord(self, f, pack)

    def _seal(self) -> None:
        assert self._file is not None and self._current is not None
        f = self._file
        f.flush()
        os.fsync(f.fileno())
        self._current.size = f.tell()
        f.close()
        self._file = None
        if self._current.objects:
            os.rename(self._tmpname, os.path.join(self._packdir, self._current.name))
            self.done.append(self._current)
        else:
            os.unlink(self._tmpname)
        self._current = None

    def finish(self) -> list[FinishedPack]:
        """fsync and rename every pack into place; returns them for the index."""
        if self._file is not None:
            self._seal()
        if self.done:
            fsync_dir(self._packdir)
        return self.done

    def abort(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # e.g. the flush of a full disk
                self._file.close()
            self._file = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmpname)


class StreamRecord:
    """One object written as it is read: hashed and compressed in a single pass."""

    def __init__(self, writer: PackWriter, f: BinaryIO, pack: FinishedPack) -> None:
        self._writer = writer
        self._f = f
        self._pack = pack
        self._start = f.tell()
        f.write(b"\0" * REC.size)
        self._comp = writer._cctx.compressobj(size=-1)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        out = self._comp.compress(chunk)
        if out:
            self._f.write(out)

    def digest(self) -> bytes:
        return self._hash.digest()

    def commit(self, type_: int) -> int:
        """Keep the record; returns the bytes added."""
        self._f.write(self._comp.flush())
        end = self._f.tell()
        length = end - self._start - REC.size
        self._f.seek(self._start)
        key = self._hash.digest()
        self._f.write(REC.pack(b"R", type_, key, self.size, length))
        self._f.seek(end)
        self._pack.objects.append(
            PackedObject(key, type_, self._start + REC.size, length, self.size)
        )
        added = end - self._start
        self._writer.written += added
        return added

    def discard(self) -> None:
        """Drop the record (a duplicate, or a torn read)."""
        self._f.seek(self._start)
        self._f.truncate()


class PackReader:
    """Reads objects back; keeps packs open while it lives."""

    def __init__(self, root: str) -> None:
        self._packdir = os.path.join(root, "packs")
        self._files: dict[str, BinaryIO] = {}
        self._dctx = zstandard.ZstdDecompressor()

    def _file(self, pack: str) -> BinaryIO:
        f = self._files.get(pack)
        if f is None:
            f = open(os.path.join(self._packdir, pack), "rb")  # noqa: SIM115 - cached
            self._files[pack] = f
        return f

    def read(self, pack: str, offset: int, length: int, size: int) -> bytes:
        frame = self.frame(pack, offset, length)
        data = self._dctx.decompress(frame, max_output_size=size)
        if len(data) != size:
            raise zstandard.ZstdError("object has the wrong size")
        return data

    def frame(self, pack: str, offset: int, length: int) -> bytes:
        f = self._file(pack)
        f.seek(offset)
        data = f.read(length)
        if len(data) != length:
            raise zstandard.ZstdError("pack is truncated")
        return data

    def stream(self, pack: str, offset: int, length: int, size: int) -> Iterator[bytes]:
        """The object in chunks of at most CHUNK bytes: memory stays bounded however well
        the object compressed."""
        f = self._file(pack)
        f.seek(offset)
        reader = self._dctx.stream_reader(_Slice(f, length), read_across_frames=False)  # type: ignore[arg-type]
        produced = 0
        while True:
            out = reader.read(CHUNK)
            if not out:
                break
            produced += len(out)
            yield out
        if produced != size:
            raise zstandard.ZstdError("object is truncated")

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()


class _Slice:
    """The next *length* bytes of a file, as a file object for zstandard's stream_reader."""

    def __init__(self, f: BinaryIO, length: int) -> None:
        self._f = f
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        if len(data) < n:
            raise zstandard.ZstdError("pack is truncated")
        self._left -= len(data)
        return data


def scan_pack(path: str) -> Iterator[PackedObject]:
    """Records of a pack read from its headers alone (for repair and tests)."""
    with open(path, "rb") as f:
        if f.read(len(PACK_MAGIC)) != PACK_MAGIC:
            raise ValueError(f"{path}: not a pack")
        pos = len(PACK_MAGIC)
        end = os.fstat(f.fileno()).st_size
        while pos < end:
            head = f.read(REC.size)
            if len(head) < REC.size:
                raise ValueError(f"{path}: truncated record at {pos}")
            marker, type_, key, size, length = REC.unpack(head)
            if marker != b"R":
                raise ValueError(f"{path}: bad record at {pos}")
            if pos + REC.size + length > end:
                raise ValueError(f"{path}: truncated record at {pos}")
            yield PackedObject(key, type_, pos + REC.size, length, size)
            pos += REC.size + length
            f.seek(pos)
