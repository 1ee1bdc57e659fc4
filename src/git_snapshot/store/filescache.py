"""The files cache: what each folder of a worktree held when its content was stored.

One record per folder: its tree key, and its listing as the last snapshot saw it, packed into
one bytes object (names, the lstat of each, the key of each). A folder whose listing is
byte-for-byte the record's keeps its tree key without encoding or hashing anything; in a
changed folder, a file whose size, mtime, ctime, inode and mode all match its record is
neither read nor hashed. One cache file per snapshotted directory, replaced atomically, or,
when a walk changed few records, with those appended at its end (``update``). It is only a
cache: a damaged or stale one is discarded, never trusted. Garbage collection that deletes
objects bumps the store's generation, which invalidates every cache (their keys may name
objects that are gone) but those it found naming only live objects (gc._carry_caches).
"""

from __future__ import annotations

import fcntl
import marshal
import os
import stat
import struct
import zlib

from git_snapshot import ctx as contextlib  # its two tools, without its imports
from git_snapshot import hashes
from git_snapshot.store.objects import held_ns
from git_snapshot.store.safewrite import temp_name

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable
    from collections.abc import Iterator
    from collections.abc import Sequence
    from typing import Any

# A folder's record (bytes): HEAD, then for each of its n names in byte order the packed
# lstat (STAT), then the key of each (KEY bytes: a file's content, a folder's tree, zeros for
# anything else or for what must be looked at again), then the names joined by NUL.
#   HEAD: tree key; files and bytes in the subtree; the folder's own inode, mtime_ns and
#   ctime_ns; files and bytes of its own entries; n; flags.
HEAD = struct.Struct("<32sqqQqqqqII")
STAT = struct.Struct("<qqqQQ")  # size, mtime_ns, ctime_ns, inode, mode
KEY = 32
REUSABLE = 1  # no entry was skipped, excluded, read while changing or a temp file
NO_STAT = bytes(STAT.size)  # an entry that must be looked at again (never matches a file)
NO_KEY = bytes(KEY)
# the byte of a packed STAT whose high nibble is the file type (mode bits 12-15), and a table
# giving "d" for a directory's
_MODE_TYPE_BYTE = 33
_DIR_BYTES = bytes(ord("d") if b >> 4 == stat.S_IFDIR >> 12 else ord(".") for b in range(256))


def pack_stats(sts: Sequence[os.stat_result | None]) -> bytes:
    """STAT's packing of each of *sts* (NO_STAT for None), a time out of an int64's range
    held as its bound (objects.held_ns): never equal to the time itself, so a later walk
    that compares it looks at that entry again."""
    pack = STAT.pack
    try:
        return b"".join(
            [
                NO_STAT
                if st is None
                else pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
                for st in sts
            ]
        )
    except struct.error:
        return b"".join([NO_STAT if st is None else pack_stat(st) for st in sts])


def pack_stat(st: os.stat_result) -> bytes:
    """STAT's packing of *st*, its times held (pack_stats)."""
    try:
        return STAT.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)
    except struct.error:
        size, mtime, ctime = st.st_size, held_ns(st.st_mtime_ns), held_ns(st.st_ctime_ns)
        return STAT.pack(size, mtime, ctime, st.st_ino, st.st_mode)


def kinds(stats: bytes) -> bytes:
    """For packed STATs (a record's or a listing's), "d" for each directory, "." for the rest."""
    return stats[_MODE_TYPE_BYTE :: STAT.size].translate(_DIR_BYTES)


# what the watcher's dirty set reuses for a folder with no change below it: (tree key, files,
# bytes and skipped paths below it, inode, mtime_ns, ctime_ns)
DirEntry = tuple[bytes, int, int, tuple[tuple[str, str], ...], int, int, int]

# The file: MAGIC, chunks (each a length and a marshal dict {folder: record}), the trailer
# (marshal: generation, root, rules, skipped, number of chunks, offsets of the appended
# chunks), its length, and the CRC-32 of all that and a zero word (_CHECK; format 5 had the
# Adler-32 there). The check is against damage (a flipped bit, a torn copy), not against
# someone who can write the store: SHA-256 here was 11 M instructions of an unchanged hook on
# S (233 KB by Python's _sha256), 9 % of it; zlib's two sums 0.1 M; on a big cache each sum
# is a pass over every byte at every load (M's 7.3 MB: CRC-32 2.0 ms, Adler-32 2.4 ms; L's
# 23.6 MB: ~10 and ~8-15 ms), before the walk: format 6 keeps the CRC-32 alone, which finds
# every burst of damage up to 32 bits and misses other damage once in 2^32.
#   A walk that changed few records appends them (``update``): a chunk of the changed records
# (b"" for a folder gone), a new trailer naming it after the older ones, its length and the
# check of the whole file before it, old trailers and checks included (the old check is the
# running state of the sum over the bytes before it: continued, not computed again). The
# load applies the appended chunks in order. A torn append fails the check: the whole cache
# is discarded (a re-read, never a wrong snapshot).
_MAGIC = b"GSCACHE6"
# still read, checked by both sums, never appended to (its sums are not this format's): its
# next save is a whole one (format 4: no appended chunks either)
_MAGIC5 = b"GSCACHE5"
_MAGIC4 = b"GSCACHE4"
_LEN = struct.Struct("<I")
_CHECK = struct.Struct("<II")
# marshal's version for the records, trailers and appended chunks: 2, without references.
# Version 4 (the default) enters every object that something else holds too (a walk's paths
# and records) in a table, to write a repeat as a reference: the cache has none (the same
# bytes either way), and the table cost its writes and every load. M's 7.3 MB in 1 MiB chunks,
# in-process: dumps 7.8-10.2 -> 5.4-6.7 ms, loads 5.2-6.8 -> 4.4-4.7 ms. Loads read both.
_VERSION = 2
# A walk's changed records are appended while the file's appended bytes (about as many dead
# ones: older records, trailers) stay within this share of its whole part, and it has fewer
# than MAX_APPENDS appended chunks; else the file is written whole again. A 1 % edit of L
# changes ~20 % of the records' bytes (every folder above a changed one: 3,571 of 30,554
# records, 4.7 of 23.6 MB). Appended (DEAD 0.25), its snapshot took 57 ms less CPU (the
# thread writing the cache 41 -> 7.5 ms) and 12 ms less wall, but the unchanged snapshot after
# it 32 ms more CPU and 31 ms more wall (the load reads the dead records, and the records'
# memory is laid out worse for the fork: the child's page faults 4,409 -> 6,533; 8
# interleaved rounds at nice -20, load 4-5): such a change is written whole. A hook's few
# changes (10 files of L: 396 KB, node_modules' record) are appended instead of 23.6 MB.
#   Session 53 (/work/scratch/notes53/step53a.md): a load in C that reads the appended chunks
# first and makes each record once, in the whole chunks' order, took the page faults back to a
# whole file's (25,735 against 25,286; today's load 28,479), but the load still cost +3 ms
# (4.7 MB more to check and map, 30k lookups), and with the replaced file let go off the
# critical path (closed by a thread: the rename's 5 ms of freeing; tried, not kept: ~5 ms of a
# 1.2 s step for a native thread) the appended step's end was no shorter (walk end to publish
# end 36.0 against 34.8 ms, medians of 13: the delta is made under the GIL beside the
# snapshot's rows): still written whole.
DEAD = 0.05
MAX_APPENDS = 32
SMALL = 1 << 16  # appended past DEAD too while the file stays this small


# load maps a file this big, and reads a smaller one (see load)
MAP_MIN = 1 << 20
# madvise's MADV_POPULATE_READ (Linux 5.14; not named by Python 3.11's mmap): the mapping's
# pages read in at once, a page that cannot be read reported as an error (EFAULT, EIO,
# EHWPOISON) instead of the SIGBUS its first touch would raise
_POPULATE_READ = 22


# data this big is summed by ctree.crc32: zlib.crc32's value by the CPU's carry-less multiply
# (L's 23.6 MB: ~6 -> ~1.8 ms, at each load before the walk and again in a whole write); a
# smaller one by zlib, without loading the C module (a small cache's hook: S's 233 KB)
BIG_CHECK = MAP_MIN


def _check(data: bytes | memoryview, crc: int = 0, zero: int = 0) -> tuple[int, int]:
    """The running check of *data* after (*crc*, 0): (CRC-32, 0)."""
    if len(data) >= BIG_CHECK:
        from git_snapshot.store import ctree  # (the load of a cache this big maps it too)

        return ctree.crc32(data, crc), 0
    return zlib.crc32(data, crc), 0


def _check5(data: bytes | memoryview, crc: int = 0, adler: int = 1) -> tuple[int, int]:
    """Format 5's (and 4's): the running (CRC-32, Adler-32) of *data*."""
    return zlib.crc32(data, crc), zlib.adler32(data, adler)


def cache_path(cache_dir: str, source: str, directory: str) -> str:
    name = hashes.name_digest(f"{source}\0{directory}".encode("utf-8", "surrogateescape"))
    return os.path.join(cache_dir, name[:32] + ".cache")


class Tail:
    """The cache file as it was loaded, for ``update`` to append to: its identity, size,
    closing check, trailer's chunk count and appended chunks' offsets, and generation."""

    __slots__ = ("appended", "check", "chunks", "generation", "ident", "size")

    def __init__(
        self,
        ident: tuple[int, int],
        size: int,
        check: bytes,
        chunks: int,
        appended: list[int],
        generation: str,
    ) -> None:
        self.ident = ident
        self.size = size
        self.check = check
        self.chunks = chunks
        self.appended = appended
        self.generation = generation


class FilesCache:
    """A plain class (no dataclasses import on the hook's path)."""

    __slots__ = ("dirs", "root", "rules", "skipped", "tail")

    def __init__(
        self,
        dirs: dict[bytes, bytes] | None = None,
        skipped: dict[bytes, tuple[tuple[str, str], ...]] | None = None,
        root: bytes = b"",
        rules: str | None = None,
    ) -> None:
        # relative folder (no trailing '/', the top is b"") -> its record
        self.dirs = {} if dirs is None else dirs
        # relative folder -> the skipped paths below it (only folders with some)
        self.skipped = {} if skipped is None else skipped
        # root tree of the snapshot this cache was saved with: every key above belongs to it
        self.root = root
        # what decided the labels and exclusions of the walk that saved it (Walker.rules)
        self.rules = rules
        # the file it was loaded from (load), which ``update`` may append to
        self.tail: Tail | None = None


def record(
    key: bytes,
    files: int,
    size: int,
    st: tuple[int, int, int] | None,
    own_files: int,
    own_size: int,
    flags: int,
    stats: list[bytes] | bytes,
    keys: list[bytes] | bytes,
    names: bytes,
    n: int,
) -> bytes:
    """A folder's record; *st* is its own (inode, mtime_ns, ctime_ns), None when unknown."""
    ino, mtime, ctime = st or (0, 0, 0)
    head = pack_head(key, files, size, ino, mtime, ctime, own_files, own_size, n, flags)
    if isinstance(stats, bytes) and isinstance(keys, bytes):
        return b"".join((head, stats, keys, names))
    return b"".join([head, *stats, *keys, names])


def pack_head(*fields: Any) -> bytes:
    """HEAD.pack(*fields*), the folder's own mtime and ctime held (pack_stats)."""
    try:
        return HEAD.pack(*fields)
    except struct.error:
        held = (*fields[:4], held_ns(fields[4]), held_ns(fields[5]), *fields[6:])
        return HEAD.pack(*held)


def parse(rec: object) -> tuple[Any, ...] | None:
    """HEAD's fields of a record, or None if *rec* is not one (a damaged or hostile cache)."""
    if type(rec) is not bytes or len(rec) < HEAD.size:
        return None
    head = HEAD.unpack_from(rec)
    if len(rec) < HEAD.size + (STAT.size + KEY) * head[8]:
        return None
    return head


def summary(rec: object, skipped: object = ()) -> DirEntry | None:
    """The folder's tree key, totals, skipped paths below it and own stat (what the
    watcher's dirty set reuses), or None if *rec* or *skipped* is damaged."""
    head = parse(rec)
    if head is None or not isinstance(skipped, tuple):
        return None
    for x in skipped:
        if not (isinstance(x, tuple) and len(x) == 2 and all(type(s) is str for s in x)):
            return None
    return (head[0], head[1], head[2], skipped, head[3], head[4], head[5])


def load(path: str, generation: str, indexed: Callable[[bytes], bool]) -> FilesCache:
    """The cache at *path*, or an empty one when it is damaged, of another generation, or
    saved with a snapshot that *indexed* (root key -> known to the index) does not know: an
    older index (restored from a backup) must never be handed keys it lacks.

    A file of MAP_MIN or more is mapped, not read: a read copied it whole into fresh memory
    first (M's 7.3 MB: 1,800 page faults, ~5 of a hook's ~18 ms of CPU here, before its walk
    starts); a smaller one is read (S's 233 KB: 57 faults, less than loading mmap). Every
    record comes out of it as bytes of its own (marshal copies), and the mapping is closed
    before the shared lock is let go: the only writer that shortens the file (an append that
    failed, cut back) holds the exclusive lock, and the others replace it by a rename.
    A mapped page that cannot be read (a disk's read error) would kill the process at its
    first touch (SIGBUS), and every later load of the file the same way, where read() says
    OSError: every page is read in first (_POPULATE_READ, no dearer than the faults it
    saves), and on an error the file is read instead."""
    try:
        with open(path, "rb") as f:
            # never half an append (Appender.publish holds LOCK_EX): a concurrent snapshot of
            # the same worktree (two hooks, the watcher and a hook) would read it as damaged
            fcntl.flock(f.fileno(), fcntl.LOCK_SH)
            st = os.fstat(f.fileno())
            if st.st_size < MAP_MIN:
                return _parse(f.read(), st, generation, indexed)
            import mmap  # (an extension module: ~0.5 M instructions to load)

            try:
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # a file system that maps nothing
                return _parse(f.read(), st, generation, indexed)
            try:
                # every page read in now: one the disk cannot give back (or a file cut short
                # under us) is an error here, where touching it would kill the process
                mapped.madvise(_POPULATE_READ)
            except OSError:  # (or a kernel before 5.14): read, as before, whatever it says
                mapped.close()
                return _parse(f.read(), st, generation, indexed)
            try:
                return _parse(mapped, st, generation, indexed)
            finally:
                mapped.close()
    except OSError:
        return FilesCache()


def _parse(
    blob: bytes | mmap.mmap,
    st: os.stat_result,
    generation: str,
    indexed: Callable[[bytes], bool],
) -> FilesCache:
    """load's reading of the file's bytes *blob*: nothing returned refers to them."""
    end = len(blob) - _CHECK.size - _LEN.size  # the trailer's length, then the checksum
    magic = blob[: len(_MAGIC)]
    if end < len(_MAGIC) or magic not in (_MAGIC, _MAGIC5, _MAGIC4):
        return FilesCache()
    sums = _check if magic == _MAGIC else _check5
    check = blob[len(blob) - _CHECK.size :]  # (bytes, copied)
    with memoryview(blob) as whole, whole[: end + _LEN.size] as body:
        if _CHECK.pack(*sums(body)) != check:
            return FilesCache()
    dirs: dict[bytes, bytes] = {}
    appended: list[int] = []
    with memoryview(blob) as view:
        # every slice of the view is let go (with) before the view: a mapping with a
        # buffer still exported cannot be closed
        def part(at: int, size: int) -> Any:
            if size > end:  # (a slice past it would be cut short, not an error)
                raise ValueError(size)
            with view[at : at + size] as piece:
                return marshal.loads(piece)

        try:
            (size,) = _LEN.unpack_from(blob, end)
            fields = part(end - size, size)
            if magic != _MAGIC4:
                gen, root, rules, skipped, chunks, appended = fields
            else:
                gen, root, rules, skipped, chunks = fields
            at = len(_MAGIC)
            for _ in range(chunks if type(chunks) is int else -1):
                (size,) = _LEN.unpack_from(blob, at)
                dirs.update(part(at + _LEN.size, size))
                at += _LEN.size + size
            for at in appended if type(appended) is list else [-1]:
                if type(at) is not int or not len(_MAGIC) <= at <= end:
                    raise ValueError(at)
                (size,) = _LEN.unpack_from(blob, at)
                for rel, rec in part(at + _LEN.size, size).items():
                    if rec:
                        dirs[rel] = rec
                    else:  # a folder gone
                        dirs.pop(rel, None)
        except (EOFError, ValueError, TypeError, AttributeError, struct.error):
            return FilesCache()
    if (
        gen != generation
        or not isinstance(skipped, dict)
        or not isinstance(root, bytes)
        or not (rules is None or isinstance(rules, str))
        or not indexed(root)
    ):
        return FilesCache()
    # records are checked where they are used (parse, and a listing compared byte for byte)
    cache = FilesCache(dirs, skipped, root, rules)
    if magic == _MAGIC:
        cache.tail = Tail((st.st_dev, st.st_ino), len(blob), check, chunks, appended, gen)
    return cache


class Writer:
    """A cache file written as it grows: records go in chunks of about CHUNK bytes, so a
    first snapshot of a big tree never holds them all (nor a copy of them all)."""

    CHUNK = 1 << 20

    def __init__(self, path: str, tmp_dir: str) -> None:
        self.path = path
        self.tmp = temp_name(path, tmp_dir)
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.f = os.fdopen(fd, "wb")
        self.h = _check(b"")
        self.chunks = 0
        self.records = 0
        self._buf = bytearray(_CHUNK_HEAD)  # a chunk's bytes (chunk)
        self._put(_MAGIC)

    def _put(self, data: bytes | memoryview) -> None:
        self.f.write(data)
        self.h = _check(data, *self.h)

    def chunk(self, dirs: dict[bytes, bytes]) -> None:
        """*dirs* (folder -> record) as chunks of about CHUNK bytes, each the bytes of one
        dict's ``marshal.dumps(chunk, _VERSION)``, written at version 2 PIECE records at a
        time (``_pieces``: one pass over *dirs*, in C); a path or record that is not bytes (a
        damaged cache's, carried over) is dropped."""
        if not dirs:
            return
        if _VERSION >= 3:  # (references, short tuples: no pieces; the tests' older files)
            data = marshal.dumps(dirs, _VERSION)
            self._put(_LEN.pack(len(data)))
            self._put(data)
            self.chunks += 1
            self.records += len(dirs)
            return
        # a chunk's bytes gathered in one buffer, kept for the whole write (its length goes
        # before its pieces): one write and one CRC-32 per chunk, where a write and a CRC-32
        # per piece each gave up the GIL and waited to take it back
        buf = self._buf
        fill = _filler()
        if fill is not None:  # the same bytes, copied in C without the GIL (_ctree.fill)
            pos = 0
            while pos >= 0:
                pos, end, count = fill(dirs, pos, buf, _CHUNK_HEAD, self.CHUNK, PIECE)
                if count:
                    self._put_chunk(end, count)
            return
        at = _CHUNK_HEAD  # (its length and b"{" go in front)
        count = 0
        for piece, n in _pieces(dirs):
            buf[at : at + len(piece)] = piece  # (past its end: the buffer grows)
            at += len(piece)
            count += n
            if at - _CHUNK_HEAD >= self.CHUNK:
                self._put_chunk(at, count)
                at, count = _CHUNK_HEAD, 0
        if count:
            self._put_chunk(at, count)

    def _put_chunk(self, end: int, count: int) -> None:
        # marshal (version 2) writes a dict of bytes as b"{", then each key and value as b"s",
        # its length (4 bytes) and its bytes, then b"0"
        buf = self._buf
        _LEN.pack_into(buf, 0, end - _CHUNK_HEAD + 2)
        buf[_LEN.size] = _DICT
        buf[end : end + 1] = b"0"
        with memoryview(buf) as view, view[: end + 1] as chunk:
            self._put(chunk)
        self.chunks += 1
        self.records += count

    def finish(
        self,
        generation: str,
        root: bytes,
        rules: str | None,
        skipped: dict[bytes, tuple[tuple[str, str], ...]],
        publish: bool = True,
    ) -> None:
        """The trailer and checksum, then the file replaces *path* (no fsync: only a cache,
        a lost one costs a re-read); with *publish* False, only once ``publish`` is called
        (when the snapshot it describes is committed)."""
        trailer = marshal.dumps((generation, root, rules, skipped, self.chunks, []), _VERSION)
        self._put(trailer)
        self._put(_LEN.pack(len(trailer)))
        self.f.write(_CHECK.pack(*self.h))
        self.f.close()
        if publish:
            self.publish()

    def publish(self) -> None:
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.f.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


# A chunk (about Writer.CHUNK bytes) is marshalled PIECE records at a time, each piece's
# pairs written as the whole dict's marshal would write them: the file's bytes are the same.
# One marshal.dumps of a 1 MiB dict grew its buffer in fresh memory (realloc past glibc's mmap
# threshold) at every chunk; pieces of ~50 KB reuse the same memory. M's whole cache (7.3 MB,
# written again by a 1 % step) alone in a thread: 1,149 -> 120 page faults, its CPU (user +
# system, medians of 12 processes each, load ~10) 15.4 -> 12.6 ms; M's 1 % step, split walk,
# 6 interleaved pairs: the process's page faults 17,618 -> 16,332 (CPU 0.855 s both: ~4 ms
# is below what rusage resolves at that load).
#   The pieces are cut from the records as they come (islice over the dict's items, in C)
# and a chunk's length is the sum of its pieces': one pass over the records, where a chunk
# dict built in Python, then its keys' and records' lengths summed, then its items cut into
# pieces were four (L's 30,553 records, 23.6 MB, written again by its 1 % step: each pass a
# first touch of most records, out of the CPU's caches; see docs/JOURNAL.md, SPLIT8).
PIECE = 64
_BYTES = {bytes}


def _filler() -> Callable[..., tuple[int, int, int]] | None:
    """ctree.fill: the pieces' bytes copied in C without the GIL (the thread that writes the
    whole cache after a walk held it ~20 ms of L's ~48 in marshal and its Python loop, while
    the main thread entered the snapshot's rows); None: the twin, marshal in Python."""
    from git_snapshot.store import ctree  # (the walk of a changed folder imported it)

    return ctree.fill


def _pieces(dirs: dict[bytes, bytes]) -> Iterator[tuple[memoryview, int]]:
    """The bytes marshal writes for *dirs*' keys and values, PIECE records at a time, and how
    many records each holds: each piece a tuple (key, value, key, ...) marshalled, without
    the tuple's own head (b"(" and its length: version 2 has no short tuples), which a
    dict's pairs lack. A pair whose path or record is not bytes is left out."""
    from itertools import chain  # (a builtin module, but not loaded at start: a hook that
    from itertools import islice  # writes no cache never imports it)

    items = iter(dirs.items())
    while pairs := tuple(chain.from_iterable(islice(items, PIECE))):
        if set(map(type, pairs)) != _BYTES:  # (a damaged cache's, carried over)
            keys, recs = pairs[::2], pairs[1::2]
            pairs = tuple(
                chain.from_iterable(
                    (k, r) for k, r in zip(keys, recs) if type(k) is bytes and type(r) is bytes
                )
            )
            if not pairs:
                continue
        yield memoryview(marshal.dumps(pairs, 2))[_TUPLE_HEAD:], len(pairs) // 2


_TUPLE_HEAD = 5  # marshal's b"(" and a 4-byte count, before a tuple's items (version < 4)
_CHUNK_HEAD = _LEN.size + 1  # a chunk's length, then marshal's b"{"
_DICT = ord("{")


def save(path: str, generation: str, cache: FilesCache, tmp_dir: str) -> None:
    prepare(path, generation, cache, tmp_dir).publish()


def prepare(path: str, generation: str, cache: FilesCache, tmp_dir: str) -> Writer:
    """The cache file written, not yet in place: ``publish()`` or ``discard()`` it."""
    w = Writer(path, tmp_dir)
    try:
        w.chunk(cache.dirs)  # (in chunks of about Writer.CHUNK bytes)
        w.finish(generation, cache.root, cache.rules, cache.skipped, publish=False)
    except BaseException:
        w.discard()
        raise
    return w


class Appender:
    """The changed records appended to the cache file as it was loaded, once ``publish`` is
    called (when the snapshot they describe is committed), as a Writer is put in place.
    *parts* are written one after the other: joined, each append copied its records twice
    more (a 4.7 MB append, L's 1 % step with DEAD at 0.25: ~2,200 page faults more, and the
    thread making it 23.1 -> 19.1 ms of CPU; session 19)."""

    def __init__(self, path: str, tail: Tail, parts: tuple[bytes, ...]) -> None:
        self.path = path
        self.tail = tail
        self.parts = parts

    def publish(self) -> None:
        """Appended, if the file is still the one loaded (same inode and size; else it is
        left as it is: another snapshot's cache, consistent in itself). The new check is
        written with the records, at the file's end: a write that fails is cut off again,
        one torn by a crash fails the check at the next load (a re-read)."""
        fd = os.open(self.path, os.O_WRONLY)
        try:
            # one append at a time, none while a load reads (the store's lock is shared: two
            # snapshots of one worktree may end together); the second finds the size changed
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != self.tail.ident or st.st_size != self.tail.size:
                return
            try:
                at = self.tail.size
                for part in self.parts:
                    done = 0
                    with memoryview(part) as data:
                        while done < len(data):
                            done += os.pwrite(fd, data[done:], at + done)
                    at += done
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, self.tail.size)
                raise
        finally:
            os.close(fd)

    def discard(self) -> None:
        pass


def update(
    path: str,
    generation: str,
    cache: FilesCache,
    tail: Tail | None,
    changed: list[bytes],
    old: dict[bytes, bytes],
    tmp_dir: str,
) -> Writer | Appender:
    """The cache file of *cache* (the records a walk leaves), not yet in place (``publish()``
    or ``discard()`` it): the records of *changed* (the folders whose record is not the one
    loaded) and the folders gone (those of the loaded file, *old* after the walk, that
    *cache* lacks) appended to the file *tail* describes, or the whole file written again
    when there is none, or appending would leave too many dead bytes (DEAD, MAX_APPENDS)."""
    if tail is not None and tail.generation == generation and len(tail.appended) < MAX_APPENDS:
        # what the file holds past its whole part: about as many dead bytes (each changed
        # record makes one older record dead)
        whole = tail.appended[0] if tail.appended else tail.size
        room = DEAD * whole + SMALL - (tail.size - whole)
        if _changed_fit(cache.dirs, changed, room) and (
            len(data := marshal.dumps(_delta(cache.dirs, changed, old), _VERSION)) <= room
        ):
            at = tail.size  # where the chunk goes
            trailer = marshal.dumps(
                (
                    generation,
                    cache.root,
                    cache.rules,
                    cache.skipped,
                    tail.chunks,
                    [*tail.appended, at],
                ),
                _VERSION,
            )
            parts = (_LEN.pack(len(data)), data, trailer, _LEN.pack(len(trailer)))
            # the old check is the sums' state over the bytes before it: continued over it
            h = _check(tail.check, *_CHECK.unpack(tail.check))
            for part in parts:
                h = _check(part, *h)
            return Appender(path, tail, (*parts, _CHECK.pack(*h)))
    return prepare(path, generation, cache, tmp_dir)


def _changed_fit(dirs: dict[bytes, bytes], changed: list[bytes], room: float) -> bool:
    """Whether the records of *changed* (their own bytes, each folder once) fit in *room*:
    counted until they pass it, so that a walk that changed many (M's 1 % step: 1,116 of
    9,634 records, the whole file written again) does not build the delta ``update`` would
    append (nor look at the folders gone) on the critical path of the snapshot's end, where
    the thread writing the cache is the last to finish. Only records' bytes are counted:
    ``update`` marshals the delta after, and a walk that changed them all (a second snapshot
    that read every file again) does not marshal a copy of the whole cache to drop it (L: 22
    MB more at its peak)."""
    seen: set[bytes] = set()
    size = 0
    for rel in changed:
        rec = dirs.get(rel)
        if type(rec) is bytes and rel not in seen:
            seen.add(rel)
            size += len(rec)
            if size > room:
                return False
    return True


def _delta(
    dirs: dict[bytes, bytes], changed: list[bytes], old: dict[bytes, bytes]
) -> dict[bytes, bytes]:
    """The chunk ``update`` appends: the records of *changed*, and b"" for each folder of the
    file loaded (*old*: what the walk left of it) that *dirs* no longer has (a folder gone)."""
    delta = {rel: rec for rel in changed if type(rec := dirs.get(rel)) is bytes}
    for rel in old:
        if rel not in dirs:
            delta[rel] = b""  # gone
    return delta
