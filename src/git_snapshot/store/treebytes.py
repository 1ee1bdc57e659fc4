"""Trees as stored bytes, for readers of many trees (diff): read in batches, compared entry by
entry as bytes, decoded only where two versions of a folder differ.

A tree's entries are encoded one after the other (objects.encode_tree), so an entry that did
not change between two versions of a folder (same name, kind, mode, mtime, size and content)
has the same bytes in both: comparing the bytes tells it apart without building an Entry.
Stdlib only (diff runs in a hook).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from git_snapshot.store.core import Store
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import Entry

_LENGTHS = struct.Struct("<HI")  # name length, ref length: the last fields of HEAD
_LENGTHS_AT = HEAD.size - _LENGTHS.size
MAX_NAME = 255  # validate.MAX_NAME (not imported: validate reads through Store)
KEY_LEN = 32  # validate.KEY_LEN
MODE_BITS = 0o7777  # validate.MODE_BITS
_new = tuple.__new__  # an Entry without the Python-level __new__ of a NamedTuple


def load(store: Store, keys: Iterable[bytes]) -> dict[bytes, bytes]:
    """The stored bytes of the objects *keys*, each checked against its key: their locations
    looked up in a few queries, read in storage order."""
    todo = set(keys)
    locs = store.index.locate_many(todo)

    def where(key: bytes) -> tuple[str, int]:
        loc = locs.get(key)
        return ("", 0) if loc is None else (loc.pack, loc.offset)

    # a key the index lacks: read_object looks it up again and says it is missing
    return {key: store.read_object(key, locs.get(key)) for key in sorted(todo, key=where)}


def split(data: bytes) -> dict[bytes, bytes] | None:
    """A tree's entries as name -> the entry's bytes, in stored order; None unless the tree is
    well formed with sorted, unique names that are safe on their own (what validate checks of
    a name): the caller then reads it the checked way, which names the problem.

    Names are checked to rise strictly as they come (sorted, unique, the first not empty: no
    list to sort, no count), NUL and '/' by one search of their concatenation: about half the
    cost of sorting a list of them (store/rebuild.split, whose answers tests/test_rebuild_split.py
    compares with this one's)."""
    if data[:8] != TREE_MAGIC:
        return None
    out: dict[bytes, bytes] = {}
    pos = 8
    end = len(data)
    unpack = _LENGTHS.unpack_from
    at = _LENGTHS_AT
    head = HEAD.size
    prev = b""  # the first name must be above it: not empty
    try:
        while pos < end:
            nlen, rlen = unpack(data, pos + at)
            npos = pos + head + nlen
            name = data[pos + head : npos]
            if name <= prev:
                return None  # unsorted, repeated, empty, or cut short
            after = npos + rlen
            out[name] = data[pos:after]
            prev = name
            pos = after
    except struct.error:
        return None
    if pos != end:
        return None  # truncated
    if not out:
        return out
    if b"." in out or b".." in out:
        return None
    joined = b"".join(out)
    if b"/" in joined or b"\0" in joined or max(map(len, out)) > MAX_NAME:
        return None
    return out


def entry(raw: bytes) -> Entry | None:
    """One file or folder entry from its bytes (a value of split, whose name is checked); None
    for a link, or an entry validate would refuse: the caller checks those the slow way."""
    kind, label, flags, mode, mtime_ns, size, nlen, _ = HEAD.unpack_from(raw)
    at = HEAD.size + nlen
    ref = raw[at:]
    if (kind != FILE and kind != DIR) or mode & ~MODE_BITS or len(ref) != KEY_LEN:
        return None  # a link (rare: validate.entry_problem looks at it), or bad
    return _new(Entry, (raw[HEAD.size : at], kind, mode, mtime_ns, size, ref, label, flags))
