"""Reading packs (their format: store/packfmt.py): PackReader, and scan_pack, which reads one
without the index."""

from __future__ import annotations

import _thread
import os
import stat  # (os imports it: nothing more to load on the hook path)

from git_snapshot.store.packfmt import CHUNK
from git_snapshot.store.packfmt import COUNT
from git_snapshot.store.packfmt import DICT_MAX_SIZE
from git_snapshot.store.packfmt import GROUP_LIMIT
from git_snapshot.store.packfmt import MAGICS
from git_snapshot.store.packfmt import MEMBER
from git_snapshot.store.packfmt import OBJECT_MARKERS
from git_snapshot.store.packfmt import PACK_MAGIC
from git_snapshot.store.packfmt import PACK_MAGIC_V1
from git_snapshot.store.packfmt import REC
from git_snapshot.store.packfmt import PackedObject
from git_snapshot.store.packfmt import _zstd
from git_snapshot.store.packfmt import _zstd_error
from git_snapshot.store.packfmt import parse_table

TYPE_CHECKING = False  # typing's own, without importing typing (the hook path imports this)
if TYPE_CHECKING:
    import collections
    import hashlib
    from collections.abc import Callable
    from collections.abc import Iterable
    from collections.abc import Iterator
    from typing import Any
    from typing import BinaryIO

    import zstandard
else:  # off the hook's imports: OpenSSL on first use, the C deque and OrderedDict alone
    import _collections as collections

    from git_snapshot import hashes as hashlib

# Groups each reading thread keeps. Restore's jobs (by folder, spread over the writers) meet a
# group several times: a whole restore of M took 17 s CPU keeping 1, 14 s keeping 4, 10.2 s
# keeping 8, 10.6 s keeping 16 (format 2: 9.8 s; shared machine).
GROUP_CACHE = 8


class _Decompressors(_thread._local):  # threading.local
    def __init__(self) -> None:
        self.plain: zstandard.ZstdDecompressor | None = None
        self.dicts: collections.OrderedDict[str, zstandard.ZstdDecompressor] = (
            collections.OrderedDict()
        )
        # the last groups this thread decompressed: (pack, offset) -> content
        self.groups: collections.OrderedDict[tuple[str, int], bytes] = collections.OrderedDict()
        self.zdicts: collections.OrderedDict[str, zstandard.ZstdCompressionDict | None] = (
            collections.OrderedDict()
        )


DICT_CACHE = 4  # packs whose dictionaries each reading thread keeps
HEAD = len(PACK_MAGIC) + REC.size  # where the first object's frame can start, at the earliest


# what a pack file's name may hold instead of a file, by S_IFMT (os.open of a FIFO waits for a
# writer for ever, and a read of a device may never end or do something)
_NOT_FILES = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def not_a_file(mode: int) -> str | None:
    """What a pack's name holding a file of *mode* holds instead of a pack file ("a FIFO"),
    or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return _NOT_FILES.get(stat.S_IFMT(mode), "not a regular file")


class NotAFile(OSError):
    """A pack's name that holds something other than a regular file: damage (hostile or
    mistaken content), not the disk failing a read that may work later."""


def open_pack(path: str, what: str = "pack") -> BinaryIO:
    """The pack file at *path*, opened for reading as a walk opens a worktree's file
    (reading.open_file): O_NONBLOCK, so that a FIFO put in its place never blocks the open (a
    hook waiting on it would hang the user's git), then refused by fstat unless it is a
    regular file (NotAFile, "pack is a FIFO, not a file"; *what* names it). A symlink to a
    regular file is read: what it holds is checked as any pack's content is. A store's pack
    another user owns and this one may not read is a UserError with the chown that gives
    it back (location.refuse_foreign): not damage, which no repair or verify mends (RED40
    C1: `sudo -E git ...`)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError:
        if what == "pack":  # (in the store's packs/; "it": a file remote's)
            from git_snapshot.store import location

            location.refuse_foreign(os.path.dirname(os.path.dirname(path)), path)
        raise
    try:
        kind = not_a_file(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotAFile(f"{what} is {kind}, not a file")
        os.set_blocking(fd, True)  # (a regular file's reads never block: kept plain)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class PackReader:
    """Reads objects back; keeps packs open while it lives. Safe to share between threads
    (positioned reads; zstd contexts per thread)."""

    def __init__(self, root: str) -> None:
        self._packdir = os.path.join(root, "packs")
        self._files: dict[str, BinaryIO] = {}
        self._dict_records: dict[str, bytes | None] = {}
        self._lock = _thread.allocate_lock()
        self._local = _Decompressors()

    def _file(self, pack: str) -> BinaryIO:
        f = self._files.get(pack)
        if f is None:
            with self._lock:
                f = self._files.get(pack)
                if f is None:
                    f = open_pack(os.path.join(self._packdir, pack))
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
            raise _zstd_error("not a pack")
        if head[: len(PACK_MAGIC)] != PACK_MAGIC_V1 and len(head) == len(PACK_MAGIC) + REC.size:
            marker, _, key, size, length = REC.unpack_from(head, len(PACK_MAGIC))
            if marker == b"D":
                if size > DICT_MAX_SIZE or length > DICT_MAX_SIZE:
                    raise _zstd_error("the pack's dictionary is damaged")
                frame = self._pread(pack, len(head), length)
                zstandard = _zstd()
                content = zstandard.ZstdDecompressor().decompress(frame, max_output_size=size)
                if len(content) != size or hashlib.sha256(content).digest() != key:
                    raise _zstd_error("the pack's dictionary is damaged")
        self._dict_records[pack] = content
        return content

    def _plain(self) -> zstandard.ZstdDecompressor:
        """This thread's decompressor without a dictionary."""
        local = self._local
        if local.plain is None:
            zstandard = _zstd()
            local.plain = zstandard.ZstdDecompressor()
        return local.plain

    def _dctx(self, pack: str) -> zstandard.ZstdDecompressor:
        """This thread's decompressor for the frames of *pack* that use its dictionary."""
        local = self._local
        d = local.dicts.get(pack)
        if d is not None:
            local.dicts.move_to_end(pack)
            return d
        content = self.dictionary(pack)
        if content is None:
            return self._plain()
        if not TYPE_CHECKING:  # type checkers see the module imported above
            zstandard = _zstd()
        d = zstandard.ZstdDecompressor(
            dict_data=zstandard.ZstdCompressionDict(
                content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
        )
        local.dicts[pack] = d
        if len(local.dicts) > DICT_CACHE:
            local.dicts.popitem(last=False)
        return d

    def read(self, pack: str, offset: int, length: int, size: int, inner: int = -1) -> bytes:
        """An object's content (not checked against its key: the caller does that); *inner*
        >= 0: a member of the group record whose body lies at *offset*."""
        if inner >= 0:
            content = self.group(pack, offset, length)
            if inner + size > len(content):
                raise _zstd_error("object lies past the end of its group")
            return content[inner : inner + size]
        if offset >= HEAD:  # the record's header with its frame, in one read
            rec = self._pread(pack, offset - REC.size, REC.size + length)
            dctx = self._plain() if rec[:1] == b"P" else self._dctx(pack)
            data = dctx.decompress(memoryview(rec)[REC.size :], max_output_size=size)
        else:  # an index row that cannot be right: the frame decides
            data = self._dctx(pack).decompress(
                self.frame(pack, offset, length), max_output_size=size
            )
        if len(data) != size:
            raise _zstd_error("object has the wrong size")
        return data

    def intact(self, pack: str, o: PackedObject) -> bool:
        """Whether object *o* of *pack* reads back matching its key (a group is decompressed
        once for its members: each thread keeps the last groups it read). Read in chunks
        (stream): read whole, an object of one large file took twice its size in memory and
        a push on a smaller machine ended in MemoryError (RED39 F1)."""
        h = hashlib.sha256()
        try:
            for chunk in self.stream(pack, o.offset, o.length, o.size, o.inner):
                h.update(chunk)
        except (OSError, ValueError, _zstd().ZstdError):
            return False
        return h.digest() == o.key

    def group(self, pack: str, offset: int, length: int) -> bytes:
        """The content of the group record whose body (table and frame) lies at *offset*:
        its members' bytes in table order. Each thread keeps the last GROUP_CACHE it read."""
        groups = self._local.groups
        content = groups.get((pack, offset))
        if content is not None:
            groups.move_to_end((pack, offset))
            return content
        body = self._pread(pack, offset, length)
        try:
            members, start = parse_table(body, f"pack {pack} at {offset}")
        except ValueError as exc:
            raise _zstd_error(str(exc)) from None
        total = sum(s for _, _, s in members)
        content = _read_exactly(self._dctx(pack), memoryview(body)[start:], total)
        groups[pack, offset] = content
        if len(groups) > GROUP_CACHE:
            groups.popitem(last=False)
        return content

    def members(
        self, pack: str, offset: int, length: int, wanted: list[tuple[int, int]]
    ) -> list[bytes]:
        """The contents of members of one group, *wanted* as (place in the group's content,
        size), for a random reader (diff): the group is decompressed from its start, in one
        call, only as far as the last of them ends (for one member, on average half of it).
        Not checked against their keys (the caller does that), nor is the rest of the group:
        damage past them is found by the readers of the whole group (read, restore,
        verify)."""
        end = max(inner + size for inner, size in wanted)
        where = (pack, offset)
        content = self._local.groups.get(where)
        if content is None:
            body, start, total = self._group_frame(pack, offset, length)
            if end > total:
                raise _zstd_error("object lies past the end of its group")
            reader = self._own_dctx(pack).stream_reader(
                memoryview(body)[start:], read_across_frames=False
            )
            content = _read_up_to(reader, end)
            if end == total:  # all of it: the frame must end there (its checksum read)
                if reader.read(1):
                    raise _zstd_error("group holds more than its table says")
                self._local.groups[where] = content
                if len(self._local.groups) > GROUP_CACHE:
                    self._local.groups.popitem(last=False)
        elif end > len(content):
            raise _zstd_error("object lies past the end of its group")
        return [content[inner : inner + size] for inner, size in wanted]

    def _group_frame(self, pack: str, offset: int, length: int) -> tuple[bytes, int, int]:
        """A group record read with its header: (header and body, where its frame starts,
        its content's size). The size is the header's, not summed over the member table (a
        table of 4,096 members parsed in Python cost a random reader as much as decoding the
        frame halfway); the frame must declare the same, and the caller checks each member
        against its key. An index row that cannot be right goes through the table's checks."""
        if offset < HEAD:
            body = self._pread(pack, offset, length)
            try:
                members, start = parse_table(body, f"pack {pack} at {offset}")
            except ValueError as exc:
                raise _zstd_error(str(exc)) from None
            return body, start, sum([s for _, _, s in members])
        rec = self._pread(pack, offset - REC.size, REC.size + length)
        marker, _, _, total, got = REC.unpack_from(rec)
        (count,) = COUNT.unpack_from(rec, REC.size) if length >= COUNT.size else (0,)
        start = REC.size + COUNT.size + count * MEMBER.size
        if marker != b"G" or got != length or count == 0 or start >= len(rec):
            raise _zstd_error(f"pack {pack} at {offset}: not a group record")
        if total > GROUP_LIMIT:
            raise _zstd_error(f"pack {pack} at {offset}: group table is damaged (too big)")
        zstandard = _zstd()
        declared = zstandard.get_frame_parameters(memoryview(rec)[start:]).content_size
        if declared not in (total, zstandard.CONTENTSIZE_UNKNOWN):
            raise _zstd_error(f"group holds {declared} bytes, its header says {total}")
        return rec, start, total

    def _own_dctx(self, pack: str) -> zstandard.ZstdDecompressor:
        """A decompressor for one partly read group (a stream cannot share its context:
        another decompression in between resets it), with *pack*'s dictionary if it has
        one; the dictionary object is kept per thread, so zstd digests it once."""
        if not TYPE_CHECKING:  # type checkers see the module imported above
            zstandard = _zstd()
        zdicts = self._local.zdicts
        if pack in zdicts:
            zdict = zdicts[pack]
            zdicts.move_to_end(pack)
        else:
            content = self.dictionary(pack)
            zdict = zdicts[pack] = (
                None
                if content is None
                else zstandard.ZstdCompressionDict(
                    content, dict_type=zstandard.DICT_TYPE_RAWCONTENT
                )
            )
            if len(zdicts) > DICT_CACHE:
                zdicts.popitem(last=False)
        return zstandard.ZstdDecompressor(dict_data=zdict)

    def group_members(
        self, pack: str, offset: int, length: int
    ) -> tuple[list[tuple[int, bytes, int]], bytes]:
        """The member table of a group record and its body (gc copies it whole)."""
        body = self._pread(pack, offset, length)
        try:
            members, _ = parse_table(body, f"pack {pack} at {offset}")
        except ValueError as exc:
            raise _zstd_error(str(exc)) from None
        return members, body

    def frame(self, pack: str, offset: int, length: int) -> bytes:
        return self._pread(pack, offset, length)

    def _pread(self, pack: str, offset: int, length: int) -> bytes:
        data = os.pread(self._file(pack).fileno(), length, offset)
        if len(data) != length:
            raise _zstd_error("pack is truncated")
        return data

    def stream(
        self, pack: str, offset: int, length: int, size: int, inner: int = -1
    ) -> Iterator[bytes]:
        """The object in chunks of at most CHUNK bytes: memory stays bounded however well
        the object compressed (a group member, small, in one)."""
        if inner >= 0:
            yield self.read(pack, offset, length, size, inner)
            return
        plain = offset >= HEAD and self._pread(pack, offset - REC.size, 1) == b"P"
        src = _Slice(self._file(pack).fileno(), offset, length)
        dctx = self._plain() if plain else self._dctx(pack)
        reader = dctx.stream_reader(src, read_across_frames=False)  # type: ignore[arg-type]
        produced = 0
        while True:
            out = reader.read(CHUNK)
            if not out:
                break
            produced += len(out)
            yield out
        if produced != size:
            raise _zstd_error("object is truncated")

    def close(self) -> None:
        with self._lock:
            for f in self._files.values():
                f.close()
            self._files.clear()
            self._dict_records.clear()
        self._local = _Decompressors()


def _read_exactly(dctx: zstandard.ZstdDecompressor, frame: memoryview, size: int) -> bytes:
    """*size* bytes decompressed from *frame*, which must hold exactly that many: never more
    memory than *size*, whatever the frame's header claims. A frame whose header gives that
    size (the writer's do) is decompressed in one call (zstd then checks the size): 20 %
    less CPU than through a stream, which copies everything through its window."""
    zstandard = _zstd()
    declared = zstandard.get_frame_parameters(frame).content_size
    if declared == size:
        data = dctx.decompress(frame, max_output_size=size)
        if len(data) != size:
            raise _zstd_error("group is truncated")
        return data
    if declared != zstandard.CONTENTSIZE_UNKNOWN:
        raise _zstd_error(f"group holds {declared} bytes, its table says {size}")
    reader = dctx.stream_reader(frame, read_across_frames=False)
    data = _read_up_to(reader, size)
    if reader.read(1):
        raise _zstd_error("group holds more than its table says")
    return data


def _read_up_to(reader: Any, size: int) -> bytes:
    """The next *size* bytes of a zstd stream reader: one call, unless it stops short."""
    parts = [reader.read(size)]
    got = len(parts[0])
    while got < size:
        more = reader.read(size - got)
        if not more:
            raise _zstd_error("group is truncated")
        parts.append(more)
        got += len(more)
    return parts[0] if len(parts) == 1 else b"".join(parts)


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
            raise _zstd_error("pack is truncated")
        self._left -= len(data)
        self._pos += len(data)
        return data


def scan_pack(
    path: str, damaged: Callable[[str, int, int], Iterable[PackedObject]] | None = None
) -> Iterator[PackedObject]:
    """Objects of a pack read from its headers and group tables alone (for repair, push and
    tests); the dictionary record is not an object and is skipped. With *damaged*, a group
    whose table is damaged (its record's framing intact) is passed to it (why, its body's
    offset and length), what it returns is yielded for the group's members (repair re-derives
    them from the content), and the scan goes on at the next record (what follows, a
    snapshot's record among it, is not lost with it); without, it raises ValueError, as any
    other damage."""
    try:
        f = open_pack(path)
    except NotAFile as exc:  # damage, as content that is not a pack is (RED34 D9)
        raise ValueError(f"{path}: {exc}") from None
    with f:
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
            if marker not in (b"R", b"P", b"G") and not (marker == b"D" and first):
                raise ValueError(f"{path}: bad record at {pos}")
            if pos + REC.size + length > end:
                raise ValueError(f"{path}: truncated record at {pos}")
            if marker in OBJECT_MARKERS:
                yield PackedObject(key, type_, pos + REC.size, length, size, -1)
            elif marker == b"G":
                try:
                    members = list(_members(f, path, pos, key, size, length))
                except ValueError as exc:
                    if damaged is None:
                        raise
                    members = list(damaged(str(exc), pos + REC.size, length))
                yield from members
            first = False
            pos += REC.size + length
            f.seek(pos)


def _members(
    f: BinaryIO, path: str, pos: int, key: bytes, size: int, length: int
) -> Iterator[PackedObject]:
    """The members of the group record at *pos*, whose table *f* is at."""
    where = f"{path}: group at {pos}"
    (count,) = COUNT.unpack(f.read(COUNT.size)) if length >= COUNT.size else (0,)
    n = COUNT.size + count * MEMBER.size
    if count == 0 or n > length:
        raise ValueError(f"{where}: its table is damaged")
    table = COUNT.pack(count) + f.read(n - COUNT.size)
    members, _ = parse_table(table, where)
    if hashlib.sha256(table).digest() != key or sum(s for _, _, s in members) != size:
        raise ValueError(f"{where}: its table is damaged")
    inner = 0
    for type_, k, s in members:
        yield PackedObject(k, type_, pos + REC.size, length, s, inner)
        inner += s
