"""A changed folder's tree and files-cache record, in Python: the twin of ``_ctree.c`` (and
its specification: the tests run both on generated folders and compare every result).

``build`` is the loop of ``walker._Walker.tree()`` over a folder whose listing is not its
record's (a file changed, or a folder below it): its entries in name order, each regular file
whose lstat is its record's ("plain") taken here, every other entry given by the caller's
``other(todo)``, called once with all of them (their indices, in name order,
after every plain file was taken: the labeller and the exclusion are pure), which returns for
each ``(entry, rstat, rkey)``: the entry (an 8-tuple as ``objects.Entry``, or None when the
tree leaves it out) and what the new record keeps of it (its packed lstat and key,
``NO_STAT``/``NO_KEY`` for what must be looked at again). A folder the caller walked already
(``done``: index -> its entry) is taken here too, without ``other``."""

from __future__ import annotations

import struct

from git_snapshot.store.filescache import _MODE_TYPE_BYTE
from git_snapshot.store.filescache import HEAD as _RECORD_HEAD
from git_snapshot.store.filescache import KEY as _K
from git_snapshot.store.filescache import NO_KEY
from git_snapshot.store.filescache import NO_STAT
from git_snapshot.store.filescache import STAT as _STAT
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD as _ENTRY_HEAD
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import held_ns

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (the hook path)
if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Container
    from typing import Any

    Other = Callable[[list[int]], list[tuple[Any, bytes, bytes]]]

_H, _S = _RECORD_HEAD.size, _STAT.size
# "f" where the byte _MODE_TYPE_BYTE of a packed STAT (its high nibble: the file type) says a
# regular file (filescache.kinds gives "d" for a directory's)
_REG_BYTES = bytes(ord("f") if b >> 4 == 0o100000 >> 12 else ord(".") for b in range(256))


def build(
    names: list[bytes],
    stats: bytes,
    old: bytes | None,
    hn: int,
    same: bool,
    where: dict[bytes, int],
    damaged: Container[bytes] | None,
    hidden: Container[bytes] | None,
    general: bool,
    classify: Callable[[bytes, bool, int], int] | None,
    exclude: Callable[[bytes, bool], bool] | None,
    rel: bytes,
    label: int,
    inherit: int | None,
    other: Other,
    done: dict[int, Any] | None = None,
) -> tuple[bytes, bytes, bytes, int, int]:
    """The folder's tree (its entries in name order), its new record's stats and keys (in
    the listing's order, as *names* and *stats*: one packed lstat per name), and the files
    and bytes of the plain files.

    A plain file: unless *general* (an overlay: every entry is *other*'s), a regular file
    (per *stats*) not in *hidden* (the names omitted here), at index j of the old record
    *old* (the record's *hn* entries: j is i when *same*, the listing being the record's,
    else ``where[name]``), whose packed lstat is the record's j, not excluded (*exclude*
    called with its path below the top, *rel* + name), with a key (not NO_KEY) not in
    *damaged*; its entry's label is *classify*'s (path, False, *label*), 0 without one, but
    *label* itself, without a call, when *label* is *inherit* (a label a folder gives every
    entry below it: the caller's rule, None for none). The path is made only for a call. An
    *old* too short for *hn* entries is no record (hn 0).

    Any other entry whose index *done* maps to a folder's entry (a tuple of 8 whose kind is
    the int DIR, whose ref is 32 bytes: one the caller walked already) is that entry, with
    its packed lstat of *stats* and its ref in the new record, without *other*: a changed
    folder's parents give it only folders (the walk's other() then did no more than that)."""
    if done is not None and not isinstance(done, dict):
        raise TypeError("done is a dict or None")
    n = len(names)
    if len(stats) != _S * n:
        raise ValueError("stats: one packed lstat per name")
    if not isinstance(old, bytes) or hn < 0 or len(old) < _H + (_S + _K) * hn:
        old, hn = b"", 0
    if not hidden:
        hidden = None
    fixed = 0  # a plain file's label without a call
    if inherit is not None and label == inherit:
        classify, fixed = None, label
    keys_at = _H + _S * hn
    pack, unpack = _ENTRY_HEAD.pack, _STAT.unpack
    rstats = [NO_STAT] * n
    rkeys = [NO_KEY] * n
    files = size_sum = 0
    regular_at = stats[_MODE_TYPE_BYTE::_S].translate(_REG_BYTES) if hn and not general else b""
    order = sorted(range(n), key=names.__getitem__)
    heads: list[bytes | None] = [None] * n  # a plain file's entry head (by its place in order)
    walked: dict[int, tuple[bytes, bytes, bytes]] = {}  # a folder of *done*'s (by its place
    # in order): its entry's head, name and ref
    todo: list[int] = []
    for o, i in enumerate(order):
        if regular_at and regular_at[i] == 102:  # "f"
            name = names[i]
            j = i if same else where.get(name)
            a = _S * i
            sb = stats[a : a + _S]
            if (
                (hidden is None or name not in hidden)
                and j is not None
                and 0 <= j < hn
                and old[_H + _S * j : _H + _S * (j + 1)] == sb
            ):
                rel_name = rel + name if exclude is not None or classify is not None else b""
                if exclude is None or not exclude(rel_name, False):
                    key = old[keys_at + _K * j : keys_at + _K * (j + 1)]
                    if key != NO_KEY and not (damaged and key in damaged):
                        rstats[i] = sb
                        rkeys[i] = key
                        files += 1
                        size, mtime, _, _, mode = unpack(sb)
                        size_sum += size
                        heads[o] = pack(
                            FILE,
                            fixed if classify is None else classify(rel_name, False, label),
                            0,
                            mode & 0o7777,
                            mtime,
                            size,
                            len(name),
                            32,
                        )
                        continue
        if done is not None:
            e = done.get(i)
            if (
                isinstance(e, tuple)
                and len(e) == 8
                and type(e[1]) is int
                and e[1] == DIR
                and type(e[5]) is bytes
                and len(e[5]) == _K
            ):
                a = _S * i
                rstats[i] = stats[a : a + _S]
                rkeys[i] = e[5]
                # encoded now, as C's entry_size does: one that cannot be fails before other()
                taken = _head(pack, e)
                if not isinstance(e[0], bytes):
                    raise TypeError("an entry's name and ref are bytes")
                walked[o] = (taken, e[0], e[5])
                continue
        todo.append(i)
    answers = iter(other(todo) if todo else ())
    parts = [TREE_MAGIC]
    add = parts.append
    for o, i in enumerate(order):
        head = heads[o]
        if head is not None:
            add(head)
            add(names[i])
            add(rkeys[i])
            continue
        got = walked.get(o)
        if got is not None:
            parts += got
            continue
        e, rstats[i], rkeys[i] = next(answers)
        if e is not None:
            add(_head(pack, e))
            add(e[0])
            add(e[5])
    return b"".join(parts), b"".join(rstats), b"".join(rkeys), files, size_sum


def _head(pack: Callable[..., bytes], e: Any) -> bytes:
    """objects.encode_into's head of the entry *e*, by index: an Entry or a plain 8-tuple."""
    try:
        return pack(e[1], e[6], e[7], e[2], e[3], e[4], len(e[0]), len(e[5]))
    except struct.error:  # a far time: held (objects.held_ns)
        return pack(e[1], e[6], e[7], e[2], held_ns(e[3]), e[4], len(e[0]), len(e[5]))
