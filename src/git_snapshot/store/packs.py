"""Pack files: many compressed objects in one file, written once.

A pack is a magic (``GSNPACK2``; packs of version 1, ``GSNPACK1``, are still read) followed by
records. A record is a header (``REC``: marker, object type, SHA-256 key, raw size, compressed
length) and one zstd frame. The SQLite index maps keys to (pack, offset, length); the headers
make a pack readable without the index.

Small objects compress badly one by one (a 2 KiB file shares most of its words with its
neighbours, but a frame of its own sees none of them), so a version 2 pack may begin with a
dictionary record (marker ``D``): raw zstd content, pieces of the small objects the writer saw
first. Every frame of such a pack is decompressed with that dictionary (a frame compressed
without it decodes the same with it); reading one object reads at most the dictionary (1 MiB,
cached per pack) and its own frame.

A writer fills a temp file in ``tmp/``, then fsyncs it and renames it into ``packs/``: a pack
under ``packs/`` is always complete. Only after that are its objects entered in the index.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import struct
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import BinaryIO

import zstandard

from git_snapshot.store.safewrite import fsync_dir as fsync_dir  # kill-point tests patch it here

if TYPE_CHECKING:
    from concurrent.futures import Future
    from concurrent.futures import ThreadPoolExecutor

PACK_MAGIC_V1 = b"GSNPACK1"  # one frame per object, no dictionary
PACK_MAGIC = b"GSNPACK2"  # may start with a dictionary record
MAGICS = (PACK_MAGIC_V1, PACK_MAGIC)
REC = struct.Struct("<cB32sQQ")  # b"R" (or b"D"), type, key, raw size, compressed length
CHUNK = 1 << 20
MAX_PACK = 64 << 20
LEVEL = 3
# The dictionary: DICT_PIECES pieces of DICT_PIECE bytes, taken evenly from the first small
# objects (at most DICT_SAMPLE raw bytes of them) a writer is given; objects up to DICT_OBJECT
# bytes are compressed with it. Below DICT_MIN bytes of small objects a pack has none.
DICT_OBJECT = 64 << 10
DICT_PIECE = 2048
DICT_PIECES = 512
DICT_SAMPLE = 4 << 20
DICT_HOLD = 12 << 20  # raw bytes held in memory while the dictionary is being chosen
DICT_MIN = 256 << 10
DICT_EPOCH = 48 << 20  # raw bytes of small objects after which a new pack gets a new dictionary
DICT_MAX_SIZE = 4 << 20  # a dictionary record claiming more is damage
# zstd copies a dictionary's match tables into its context for each small input, so smaller
# tables than level 3's (hash 2^17, chain 2^16) would make it cheaper. Measured on 6,400
# files of M (66 MB; CPU seconds of a whole snapshot): no dictionary 22.4 MB in 1.6 s; tables
# of 2^15 19.1 MB in 2.1 s; level 3's own 17.5 MB in 2.3 s. Level 3's own are kept.
DICT_HASH_LOG, DICT_CHAIN_LOG = 17, 16
# A pool is handed objects in batches (one task per BATCH_BYTES or BATCH_OBJECTS, not one
# per object: with 62k small files the futures, locks and GIL hand-offs of one task each cost
# more than compressing them)
BATCH_BYTES = 1 << 20
BATCH_OBJECTS = 256
QUEUE = 8  # batches in flight when a pool compresses, at most
QUEUE_BYTES = 8 << 20  # and at most this many raw bytes
POOL_AFTER = 8 << 20  # a writer given less than this compresses in its own thread


@dataclass
class PackedObject:
    # one per object of a snapshot until the index has them: no __dict__ each (-8 MB on L)
    __slots__ = ("key", "length", "offset", "size", "type")
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


class _Compressors(threading.local):
    """zstd contexts are not thread-safe: one set per thread."""

    def __init__(self) -> None:
        self.plain = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
        self.dicts: dict[int, zstandard.ZstdCompressor] = {}


_COMPRESSORS = _Compressors()


def _compress(data: bytes, zdict: zstandard.ZstdCompressionDict | None) -> bytes:
    c = _COMPRESSORS
    if zdict is None or len(data) > DICT_OBJECT:
        return c.plain.compress(data)
    comp = c.dicts.get(id(zdict))
    if comp is None:
        c.dicts.clear()  # one dictionary at a time per thread
        comp = zstandard.ZstdCompressor(dict_data=zdict, compression_params=_dict_params())
        c.dicts[id(zdict)] = comp
    return comp.compress(data)


def _compress_all(items: list[bytes], zdict: zstandard.ZstdCompressionDict | None) -> list[bytes]:
    return [_compress(data, zdict) for data in items]


def _give_back_big_blocks() -> None:
    """glibc raises its mmap threshold (up to 32 MiB) each time a big block is freed, and then
    keeps the big frames the compressing threads made in their arenas: peak RSS of a first
    snapshot of M was 209 MB, 99 MB with a fixed threshold. Fixed here (256 KiB) when the pool
    starts; elsewhere than glibc nothing happens."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).mallopt(-3, 256 << 10)  # M_MMAP_THRESHOLD


def _dict_params() -> zstandard.ZstdCompressionParameters:
    return zstandard.ZstdCompressionParameters.from_level(
        LEVEL, hash_log=DICT_HASH_LOG, chain_log=DICT_CHAIN_LOG, write_checksum=1
    )


class PackWriter:
    """Appends objects to temp packs; ``finish()`` makes them durable and visible.

    Only the calling thread writes the file. With *threads*, once it was given POOL_AFTER
    bytes, frames are compressed by that many threads (zstd releases the GIL) and written in
    the order they were added. With *dictionary*, the first small objects are held until the
    dictionary is chosen from them (see the module doc).
    """

    def __init__(
        self,
        root: str,
        max_size: int = MAX_PACK,
        *,
        dictionary: bool = False,
        threads: int = 0,
    ) -> None:
        self._tmpdir = os.path.join(root, "tmp")
        self._packdir = os.path.join(root, "packs")
        self._max = max_size
        self._cctx = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True)
        self._file: BinaryIO | None = None
        self._tmpname = ""
        self._current: FinishedPack | None = None
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._given = 0  # raw bytes given so far
        self._choosing = dictionary
        self._held: list[tuple[int, bytes, bytes, bool]] = []
        self._held_small = self._held_bytes = 0
        self._zdict: zstandard.ZstdCompressionDict | None = None
        self._dict_record = b""
        self._epochs = dictionary
        self._small_since = 0  # raw bytes of small objects since the dictionary was chosen
        self._batch: list[tuple[int, bytes, bytes, bool]] = []  # (type, key, data, dedupe)
        self._batch_bytes = 0
        # submitted batches, oldest first: (type, key, raw size) of each object, raw bytes
        self._queue: collections.deque[
            tuple[list[tuple[int, bytes, int]], int, Future[list[bytes]]]
        ] = collections.deque()
        self._queued = 0  # raw bytes in the queue
        # keys among those given that the store holds already (set by the archiver)
        self.known: Callable[[list[bytes]], set[bytes]] | None = None
        self.done: list[FinishedPack] = []
        self.written = 0  # bytes added to packs, headers included

    # -- the dictionary --------------------------------------------------------------------

    def _settle(self) -> None:
        """Choose the dictionary from what is held, and write what is held."""
        if not self._choosing:
            return
        self._choosing = False
        self._zdict = None
        self._dict_record = b""
        self._small_since = 0
        content = b""
        if self._held_small >= DICT_MIN:
            # at most a quarter of what it is chosen from: a small snapshot gets a small one
            pieces = max(1, min(DICT_PIECES, self._held_small // (4 * DICT_PIECE)))
            small = [d[:DICT_PIECE] for _, _, d, _ in self._held if 0 < len(d) <= DICT_OBJECT]
            step = max(1, len(small) // (2 * pieces))
            # pieces of what compresses (not of an archive or an image among the sources)
            good = [p for p in small[::step] if len(self._cctx.compress(p)) < 0.8 * len(p)]
            content = b"".join(good[:: max(1, len(good) // pieces)][:pieces])
        if len(content) >= DICT_MIN // 32:
            self._zdict = zstandard.ZstdCompressionDict(
                content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            self._zdict.precompute_compress(compression_params=_dict_params())
            frame = self._cctx.compress(content)
            key = hashlib.sha256(content).digest()
            self._dict_record = REC.pack(b"D", 0, key, len(content), len(frame)) + frame
        held, self._held = self._held, []
        self._held_small = self._held_bytes = 0
        held.reverse()
        while held:  # each object's memory goes as soon as it is compressed
            self._put(*held.pop())

    def _next_epoch(self) -> None:
        """Content far along a walk differs from where the dictionary was chosen: once
        DICT_EPOCH bytes of small objects went by, the next pack gets a dictionary of its
        own, chosen from the small objects that follow."""
        self._drain(0)
        if self._file is not None:
            self._seal()
        self._choosing = True

    # -- writing ---------------------------------------------------------------------------

    def _open(self) -> tuple[BinaryIO, FinishedPack]:
        if self._file is not None and self._current is not None:
            if self._file.tell() < self._max:
                return self._file, self._current
            self._seal()
        name = os.urandom(16).hex() + ".pack"
        self._tmpname = os.path.join(self._tmpdir, name + ".tmp")
        fd = os.open(self._tmpname, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._file.write(PACK_MAGIC + self._dict_record)
        self._current = FinishedPack(name, 0)
        return self._file, self._current

    def add(self, type_: int, key: bytes, data: bytes, dedupe: bool = False) -> None:
        """Store *data* under *key* (held, batched or queued objects are in the pack, and
        counted in ``written``, after ``flush``). With *dedupe*, left out if ``known`` says
        the store holds it already."""
        if self._choosing:
            self._held.append((type_, key, data, dedupe))
            self._held_bytes += len(data)
            if len(data) <= DICT_OBJECT:
                self._held_small += len(data)
            if self._held_small >= DICT_SAMPLE or self._held_bytes >= DICT_HOLD:
                self._settle()
        else:
            self._put(type_, key, data, dedupe)
            if self._small_since >= DICT_EPOCH:
                self._next_epoch()

    def _put(self, type_: int, key: bytes, data: bytes, dedupe: bool) -> None:
        self._given += len(data)
        if len(data) <= DICT_OBJECT and self._epochs:
            self._small_since += len(data)
        if self._pool is None and self._threads and self._given >= POOL_AFTER:
            from concurrent.futures import ThreadPoolExecutor  # imports logging: not for hooks

            _give_back_big_blocks()
            self._pool = ThreadPoolExecutor(self._threads, "git-snapshot-zstd")
        self._batch.append((type_, key, data, dedupe))
        self._batch_bytes += len(data)
        if self._batch_bytes >= BATCH_BYTES or len(self._batch) >= BATCH_OBJECTS:
            self._submit()
        if self._pool is not None:
            self._drain(QUEUE)

    def _submit(self) -> None:
        """Compress the batch with the dictionary of the moment: in the pool if there is one,
        else now. Objects added with *dedupe* that ``self.known`` says the store holds
        already are left out (one lookup per batch, not one per object)."""
        batch, size = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        ask = [k for _, k, _, dedupe in batch if dedupe]
        have = self.known(ask) if ask and self.known is not None else set()
        if have:
            batch = [x for x in batch if not (x[3] and x[1] in have)]
            size = sum(len(x[2]) for x in batch)
        if self._pool is None:
            for type_, key, data, _ in batch:
                self._write(type_, key, len(data), _compress(data, self._zdict))
            return
        fut = self._pool.submit(_compress_all, [d for _, _, d, _ in batch], self._zdict)
        self._queue.append(([(t, k, len(d)) for t, k, d, _ in batch], size, fut))
        self._queued += size

    def _drain(self, keep: int) -> None:
        """Write queued frames, oldest first, until at most *keep* batches wait (and any
        finished); with *keep* 0, the batch being filled goes first."""
        if keep == 0 and self._batch:
            self._submit()
        q = self._queue
        while q and (len(q) > keep or self._queued > QUEUE_BYTES or q[0][2].done()):
            items, size, fut = q.popleft()
            self._queued -= size
            for (type_, key, raw), frame in zip(items, fut.result(), strict=True):
                self._write(type_, key, raw, frame)

    def _write(self, type_: int, key: bytes, size: int, frame: bytes) -> None:
        f, pack = self._open()
        start = f.tell()
        f.write(REC.pack(b"R", type_, key, size, len(frame)))
        f.write(frame)
        pack.objects.append(PackedObject(key, type_, start + REC.size, len(frame), size))
        self.written += REC.size + len(frame)

    def flush(self) -> None:
        """Write everything held or queued (before a record that names it)."""
        self._settle()
        self._drain(0)

    def add_frame(self, type_: int, key: bytes, size: int, frame: bytes) -> None:
        """Copy an object compressed without a dictionary (repacking)."""
        self.flush()
        self._write(type_, key, size, frame)

    def begin_stream(self) -> StreamRecord:
        self.flush()
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
        self.flush()
        if self._file is not None:
            self._seal()
        if self.done:
            fsync_dir(self._packdir)
        self._stop()
        return self.done

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        for *_, fut in self._queue:
            fut.cancel()
        self._stop()
        self._queue.clear()
        self._queued = 0
        self._batch.clear()
        self._held.clear()
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


class _Decompressors(threading.local):
    def __init__(self) -> None:
        self.plain = zstandard.ZstdDecompressor()
        self.dicts: collections.OrderedDict[str, zstandard.ZstdDecompressor] = (
            collections.OrderedDict()
        )


DICT_CACHE = 4  # packs whose dictionaries each reading thread keeps


class PackReader:
    """Reads objects back; keeps packs open while it lives. Safe to share between threads
    (positioned reads; zstd contexts per thread)."""

    def __init__(self, root: str) -> None:
        self._packdir = os.path.join(root, "packs")
        self._files: dict[str, BinaryIO] = {}
        self._dict_records: dict[str, bytes | None] = {}
        self._lock = threading.Lock()
        self._local = _Decompressors()

    def _file(self, pack: str) -> BinaryIO:
        f = self._files.get(pack)
        if f is None:
            with self._lock:
                f = self._files.get(pack)
                if f is None:
                    f = open(os.path.join(self._packdir, pack), "rb")  # noqa: SIM115 - cached
                    self._files[pack] = f
        return f

    def dictionary(self, pack: str) -> bytes | None:
        """The content of *pack*'s dictionary (None: it has none)."""
        if pack in self._dict_records:
            return self._dict_records[pack]
        fd = self._file(pack).fileno()
        head = os.pread(fd, len(PACK_MAGIC) + REC.size, 0)
        content = None
        if head[: len(PACK_MAGIC)] not in MAGICS:
            raise zstandard.ZstdError("not a pack")
        if head[: len(PACK_MAGIC)] == PACK_MAGIC and len(head) == len(PACK_MAGIC) + REC.size:
            marker, _, key, size, length = REC.unpack_from(head, len(PACK_MAGIC))
            if marker == b"D":
                if size > DICT_MAX_SIZE or length > DICT_MAX_SIZE:
                    raise zstandard.ZstdError("the pack's dictionary is damaged")
                frame = self._pread(pack, len(head), length)
                content = zstandard.ZstdDecompressor().decompress(frame, max_output_size=size)
                if len(content) != size or hashlib.sha256(content).digest() != key:
                    raise zstandard.ZstdError("the pack's dictionary is damaged")
        self._dict_records[pack] = content
        return content

    def _dctx(self, pack: str) -> zstandard.ZstdDecompressor:
        local = self._local
        d = local.dicts.get(pack)
        if d is not None:
            local.dicts.move_to_end(pack)
            return d
        content = self.dictionary(pack)
        if content is None:
            return local.plain
        d = zstandard.ZstdDecompressor(
            dict_data=zstandard.ZstdCompressionDict(
                content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
        )
        local.dicts[pack] = d
        if len(local.dicts) > DICT_CACHE:
            local.dicts.popitem(last=False)
        return d

    def read(self, pack: str, offset: int, length: int, size: int) -> bytes:
        frame = self.frame(pack, offset, length)
        data = self._dctx(pack).decompress(frame, max_output_size=size)
        if len(data) != size:
            raise zstandard.ZstdError("object has the wrong size")
        return data

    def frame(self, pack: str, offset: int, length: int) -> bytes:
        return self._pread(pack, offset, length)

    def _pread(self, pack: str, offset: int, length: int) -> bytes:
        data = os.pread(self._file(pack).fileno(), length, offset)
        if len(data) != length:
            raise zstandard.ZstdError("pack is truncated")
        return data

    def stream(self, pack: str, offset: int, length: int, size: int) -> Iterator[bytes]:
        """The object in chunks of at most CHUNK bytes: memory stays bounded however well
        the object compressed."""
        src = _Slice(self._file(pack).fileno(), offset, length)
        reader = self._dctx(pack).stream_reader(src, read_across_frames=False)  # type: ignore[arg-type]
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
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            self._dict_records.clear()
        self._local = _Decompressors()


class _Slice:
    """*length* bytes of a file from *offset*, as a file object for zstandard's
    stream_reader (positioned reads: other readers of the same file do not disturb it)."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._pos = offset
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n < 0 else min(n, self._left)
        data = os.pread(self._fd, n, self._pos)
        if len(data) < n:
            raise zstandard.ZstdError("pack is truncated")
        self._left -= len(data)
        self._pos += len(data)
        return data


def scan_pack(path: str) -> Iterator[PackedObject]:
    """Records of a pack read from its headers alone (for repair and tests); the dictionary
    record is not an object and is skipped."""
    with open(path, "rb") as f:
        if f.read(len(PACK_MAGIC)) not in MAGICS:
            raise ValueError(f"{path}: not a pack")
        pos = len(PACK_MAGIC)
        end = os.fstat(f.fileno()).st_size
        first = True
        while pos < end:
            head = f.read(REC.size)
            if len(head) < REC.size:
                raise ValueError(f"{path}: truncated record at {pos}")
            marker, type_, key, size, length = REC.unpack(head)
            if marker != b"R" and not (marker == b"D" and first):
                raise ValueError(f"{path}: bad record at {pos}")
            if pos + REC.size + length > end:
                raise ValueError(f"{path}: truncated record at {pos}")
            if marker == b"R":
                yield PackedObject(key, type_, pos + REC.size, length, size)
            first = False
            pos += REC.size + length
            f.seek(pos)
