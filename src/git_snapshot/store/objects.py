"""Objects: content hashes, and the encoding of directory trees.

A tree lists the entries of one directory, sorted by name (bytes). Its key is the SHA-256 of
its encoding, so an unchanged directory has the same key in every snapshot and costs nothing.
"""

from __future__ import annotations

import os
import struct

from git_snapshot.ctx import record
from git_snapshot.errors import UserError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)

if TYPE_CHECKING:
    import hashlib
else:  # imported on first use (OpenSSL: 11 M instructions), see git_snapshot/hashes.py
    from git_snapshot import hashes as hashlib

BLOB = 1
TREE = 2
RECORD = 3  # a snapshot record (JSON), so that the index can be rebuilt from the packs alone
FORGET = 4  # a tombstone: JSON list of record keys whose snapshots were forgotten

FILE = 1
DIR = 2
SYMLINK = 3
KIND_NAMES = {FILE: "file", DIR: "dir", SYMLINK: "symlink"}

# Entry flags.
CHANGED_WHILE_READ = 1  # the file kept changing while it was read; stored as last read

# Labels are the caller's; the core stores them and does not interpret them.
LABEL_NONE = 0

TREE_MAGIC = b"GSTREE1\n"
HEAD = struct.Struct("<BBBIqQHI")  # kind, label, flags, mode, mtime_ns, size, name len, ref len

# The times the format's int64 fields hold (here and in the files cache): a file dated after
# 2262-04-11 or before 1677-09-21 (`touch -d 2300-01-01 a` on ext4 or tmpfs) is kept with the
# nearer bound as its time (held_ns); its content, mode and name as they are.
NS_MIN, NS_MAX = -(2**63), 2**63 - 1


def held_ns(ns: int) -> int:
    """*ns* as the format holds a time: within [NS_MIN, NS_MAX]."""
    return NS_MIN if ns < NS_MIN else NS_MAX if ns > NS_MAX else ns


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def digest_fd(fd: int) -> bytes:
    """The key of the content of an open file, read from its current offset."""
    h = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        h.update(chunk)
    return h.digest()


if TYPE_CHECKING:
    from typing import NamedTuple

    class _Entry(NamedTuple):
        name: bytes
        kind: int  # FILE, DIR or SYMLINK
        mode: int  # permission bits (st_mode & 0o7777)
        mtime_ns: int
        size: int  # bytes of a file, length of a link target, 0 for a directory
        ref: bytes  # blob key (file), tree key (dir) or link target (symlink)
        label: int = LABEL_NONE
        flags: int = 0

else:  # no typing import at run time (the hook path)
    _Entry = record(
        "Entry", "name kind mode mtime_ns size ref label flags", defaults=(LABEL_NONE, 0)
    )


class Entry(_Entry):
    __slots__ = ()


def encode_into(parts: list[bytes], e: Entry) -> None:
    try:
        head = HEAD.pack(
            e.kind, e.label, e.flags, e.mode, e.mtime_ns, e.size, len(e.name), len(e.ref)
        )
    except struct.error:  # (a far time, held; any other field out of range raises again)
        head = HEAD.pack(
            e.kind, e.label, e.flags, e.mode, held_ns(e.mtime_ns), e.size, len(e.name), len(e.ref)
        )
    parts.append(head)
    parts.append(e.name)
    parts.append(e.ref)


def encode_tree(entries: list[Entry]) -> bytes:
    """Entries must already be sorted by name and have unique names."""
    parts = [TREE_MAGIC]
    for e in entries:
        encode_into(parts, e)
    return b"".join(parts)


class CorruptObject(UserError):
    """Stored data is damaged or missing (an expected failure: verify names what is hit)."""


def decode_tree(data: bytes) -> list[Entry]:
    if not data.startswith(TREE_MAGIC):
        raise CorruptObject("not a tree")
    out: list[Entry] = []
    pos = len(TREE_MAGIC)
    unpack = HEAD.unpack_from
    size = HEAD.size
    end = len(data)
    try:
        while pos < end:
            kind, label, flags, mode, mtime, fsize, nlen, rlen = unpack(data, pos)
            pos += size
            name = data[pos : pos + nlen]
            pos += nlen
            ref = data[pos : pos + rlen]
            pos += rlen
            if pos > end:
                raise CorruptObject("truncated tree")
            out.append(Entry(name, kind, mode, mtime, fsize, ref, label, flags))
    except struct.error as exc:
        raise CorruptObject("truncated tree") from exc
    return out
