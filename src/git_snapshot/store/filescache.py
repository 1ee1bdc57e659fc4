"""The files cache: what each file of a worktree looked like when its content was stored.

A file whose size, mtime, ctime and inode all match its cache entry is neither read nor hashed:
its content key is taken from here. One cache file per snapshotted directory, replaced
atomically. It is only a cache: a damaged or stale one is discarded, never trusted. Garbage
collection bumps the store's generation, which invalidates every cache (their keys may name
objects that are gone).
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from git_snapshot.store.safewrite import atomic_file

# relative path -> (size, mtime_ns, ctime_ns, inode, content key)
CacheEntry = tuple[int, int, int, int, bytes]
# relative folder -> (tree key, files, bytes and skipped paths below it, inode, mtime_ns,
# ctime_ns): what the watcher's dirty set reuses for a folder with no change below it
DirEntry = tuple[bytes, int, int, tuple[tuple[str, str], ...], int, int, int]

_MAGIC = b"GSCACHE2"


def cache_path(cache_dir: str, source: str, directory: str) -> str:
    name = hashlib.sha256(f"{source}\0{directory}".encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(cache_dir, name[:32] + ".cache")


@dataclass
class FilesCache:
    entries: dict[bytes, CacheEntry] = field(default_factory=dict)
    # keys of the trees of the last snapshot: they exist while the generation is the same
    trees: set[bytes] = field(default_factory=set)
    # root tree of the snapshot this cache was saved with: every key above belongs to it
    root: bytes = b""
    dirs: dict[bytes, DirEntry] = field(default_factory=dict)


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
        or hashlib.sha256(blob[head:]).digest() != blob[len(_MAGIC) : head]
    ):
        return FilesCache()
    try:
        gen, root, entries, trees, *more = marshal.loads(blob[head:])
    except (EOFError, ValueError, TypeError):
        return FilesCache()
    dirs = more[0] if more and isinstance(more[0], dict) else {}
    if (
        gen != generation
        or not isinstance(entries, dict)
        or not isinstance(trees, set)
        or not isinstance(root, bytes)
        or not indexed(root)
    ):
        return FilesCache()
    return FilesCache(entries, trees, root, dirs)


def save(path: str, generation: str, cache: FilesCache, tmp_dir: str) -> None:
    payload = marshal.dumps((generation, cache.root, cache.entries, cache.trees, cache.dirs))
    # only a cache: a lost one costs a re-read, so no fsync; the temp file goes to tmp/;
    # written in two parts, not joined first (the payload of L's 200k files is 27 MB)
    with atomic_file(path, tmp_dir=tmp_dir, mode=0o600, durable=False) as f:
        f.write(_MAGIC + hashlib.sha256(payload).digest())
        f.write(payload)
