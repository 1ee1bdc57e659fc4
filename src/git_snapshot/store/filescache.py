"""The files cache: what each folder of a worktree held when its content was stored.

One record per folder: its tree key, and its listing as the last snapshot saw it, packed into
one bytes object (names, the lstat of each, the key of each). A folder whose listing is
byte-for-byte the record's keeps its tree key without encoding or hashing anything; in a
changed folder, a file whose size, mtime, ctime, inode and mode all match its record is
neither read nor hashed. One cache file per snapshotted directory, replaced atomically. It is
only a cache: a damaged or stale one is discarded, never trusted. Garbage collection bumps the
store's generation, which invalidates every cache (their keys may name objects that are gone).
"""

from __future__ import annotations

import hashlib
import marshal
import os
import struct

from git_snapshot.store.safewrite import atomic_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
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

# what the watcher's dirty set reuses for a folder with no change below it: (tree key, files,
# bytes and skipped paths below it, inode, mtime_ns, ctime_ns)
DirEntry = tuple[bytes, int, int, tuple[tuple[str, str], ...], int, int, int]

_MAGIC = b"GSCACHE3"


def cache_path(cache_dir: str, source: str, directory: str) -> str:
    name = hashlib.sha256(f"{source}\0{directory}".encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(cache_dir, name[:32] + ".cache")


class FilesCache:
    """A plain class (no dataclasses import on the hook's path)."""

    __slots__ = ("dirs", "root", "rules", "skipped")

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
    head = HEAD.pack(key, files, size, ino, mtime, ctime, own_files, own_size, n, flags)
    if isinstance(stats, bytes) and isinstance(keys, bytes):
        return b"".join((head, stats, keys, names))
    return b"".join([head, *stats, *keys, names])


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
    older index (restored from a backup) must never be handed keys it lacks."""
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError:
        return FilesCache()
    head = len(_MAGIC) + 32
    if (
        blob[: len(_MAGIC)] != _MAGIC
        or hashlib.sha256(memoryview(blob)[head:]).digest() != blob[len(_MAGIC) : head]
    ):
        return FilesCache()
    try:
        gen, root, rules, dirs, skipped = marshal.loads(memoryview(blob)[head:])
    except (EOFError, ValueError, TypeError):
        return FilesCache()
    del blob
    if (
        gen != generation
        or not isinstance(dirs, dict)
        or not isinstance(skipped, dict)
        or not isinstance(root, bytes)
        or not (rules is None or isinstance(rules, str))
        or not indexed(root)
    ):
        return FilesCache()
    # records are checked where they are used (parse, and a listing compared byte for byte)
    return FilesCache(dirs, skipped, root, rules)


def save(path: str, generation: str, cache: FilesCache, tmp_dir: str) -> None:
    payload = marshal.dumps((generation, cache.root, cache.rules, cache.dirs, cache.skipped))
    # only a cache: a lost one costs a re-read, so no fsync; the temp file goes to tmp/;
    # written in two parts, not joined first
    with atomic_file(path, tmp_dir=tmp_dir, mode=0o600, durable=False) as f:
        f.write(_MAGIC + hashlib.sha256(payload).digest())
        f.write(payload)
