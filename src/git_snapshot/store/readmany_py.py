"""A folder's small files read whole and hashed, a batch at a time, in Python: the twin of
``_readmany.c`` and its specification (the tests run both on generated folders and compare
every answer). The walk itself never calls this twin: without the C module it reads each file
with ``reading._read_listed`` as it meets it (store/readmany.py), and ``store``'s work is done
entry by entry in ``_Walker._built``."""

from __future__ import annotations

import hashlib
import operator
import os
import stat

from git_snapshot.store.filescache import STAT
from git_snapshot.store.reading import _read_listed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_BUDGET = 1 << 30  # the most bytes one call may be asked to read
_I64, _U64 = range(-(1 << 63), 1 << 63), range(1 << 64)


def read(
    pre: bytes, names: list[bytes], stats: list[Any], which: list[int], start: int, budget: int
) -> list[tuple[bytes, bytes] | None]:
    """The entries ``which[start]``, ``which[start + 1]``, ... (indices into *names* and
    *stats*: the entry at ``pre + names[i]`` listed with the lstat ``stats[i]``, None if it
    went), taken while the listed sizes of the regular files among them add up to at most
    *budget*, up to the next folder (the walk walks it before it takes the entries after it:
    a batch is never held while a subfolder is walked), always one at least, each answered
    in that order with (content, SHA-256) when ``_read_listed`` finds it as listed, else None
    (the caller reads it the careful way). An
    entry not listed as a regular file, whose listed size is over *budget*, or whose stat has
    a field no file has, is answered None unopened and counts nothing."""
    if not isinstance(pre, bytes) or not all(isinstance(x, list) for x in (names, stats, which)):
        raise TypeError("read(bytes, list, list, list, int, int)")
    start, budget = operator.index(start), operator.index(budget)
    if not 0 <= budget <= MAX_BUDGET:
        raise ValueError("budget out of range")
    if not 0 <= start <= len(which):
        raise IndexError("start out of range")
    taken: list[tuple[bytes, Any, bool]] = []
    total = 0
    for k in range(start, len(which)):
        i = which[k]
        if type(i) is not int:
            raise TypeError("an index that is not an int")
        if not (0 <= i < len(names) and i < len(stats)):
            raise IndexError("an index out of range")
        name, st = names[i], stats[i]
        if not isinstance(name, bytes):
            raise TypeError("a name that is not bytes")
        tried = (
            st is not None and _fits(st) and stat.S_ISREG(st.st_mode) and 0 <= st.st_size <= budget
        )
        folder = st is not None and _fits(st) and stat.S_ISDIR(st.st_mode)
        if taken and (folder or (tried and total + st.st_size > budget)):
            break  # the next call's
        if tried:
            total += st.st_size
        taken.append((name, st, tried))
    return [_one(pre + name, st) if tried else None for name, st, tried in taken]


def _one(path: bytes, st: Any) -> tuple[bytes, bytes] | None:
    if b"\0" in path or len(path) >= os.pathconf("/", "PC_PATH_MAX"):
        return None  # (os.open's ValueError, or ENAMETOOLONG: the careful way says it)
    data = _read_listed(path, st)
    return None if data is None else (data, hashlib.sha256(data).digest())


def _fits(st: Any) -> bool:
    """Every field ``_read_listed`` compares is an int a file's stat can hold."""
    fields = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode)
    if any(type(v) is not int for v in fields):
        raise TypeError("a stat field that is not an int")
    signed, unsigned = fields[:3], fields[3:]
    return all(v in _I64 for v in signed) and all(v in _U64 for v in unsigned)


def store(
    pre: bytes,
    names: list[bytes],
    stats: list[Any],
    packed: bytes,
    which: list[int],
    done: dict[int, Any],
    pending: set[bytes],
    add: Any,
    racy_after: int,
    label: Any,
    mark: bytes,
    budget: int,
    blob: Any,
    kind: Any,
    no_stat: bytes,
    no_key: bytes,
) -> tuple[dict[int, tuple[Any, bytes, bytes]], int, int, bytes | None]:
    """What ``_Walker._built``'s ``other()`` does with each file it reads as listed, for a
    whole folder in one call: the entries of *which* not in *done*, listed as a regular file
    of at most *budget* bytes whose name does not start with *mark*, are read as ``read``
    reads them, in batches of at most *budget* bytes. Each one found as listed is given to
    *add* as ``add(blob, key, content, True)`` unless its key is in *pending* (it is added
    there), and answered with its tree entry ``(name, kind, mode & 0o7777, mtime_ns, size,
    key, label, 0)``, and for the files cache its packed lstat (entry i's ``STAT.size``
    bytes of *packed*) and key when its mtime and ctime are both before *racy_after*, else
    *no_stat* and *no_key*. Returns those answers by entry index, the number of files and
    bytes they hold, and the last key (None: none). Entries not answered are the caller's
    (the careful way)."""
    if type(pending) is not set:
        raise TypeError("pending is a set")
    budget = operator.index(budget)
    if not 0 <= budget <= MAX_BUDGET:
        raise ValueError("budget out of range")
    if len(stats) != len(names) or len(packed) != STAT.size * len(names):
        raise ValueError("one stat and one packed lstat per name")
    mine: list[int] = []
    for i in which:
        if type(i) is not int:
            raise TypeError("an index that is not an int")
        if not 0 <= i < len(names):
            raise IndexError("an index out of range")
        if not isinstance(names[i], bytes):
            raise TypeError("a name that is not bytes")
        st = stats[i]
        if (
            i not in done
            and st is not None
            and _fits(st)
            and stat.S_ISREG(st.st_mode)
            and 0 <= st.st_size <= budget
            and not names[i].startswith(mark)
        ):
            mine.append(i)
    got: dict[int, tuple[Any, bytes, bytes]] = {}
    files = size = 0
    last = None
    k = 0
    while k < len(mine):
        batch = read(pre, names, stats, mine, k, budget)
        for i, one in zip(mine[k : k + len(batch)], batch):
            if one is None:
                continue
            data, key = one
            if key not in pending:
                add(blob, key, data, True)
                pending.add(key)
            st = stats[i]
            entry = (names[i], kind, st.st_mode & 0o7777, st.st_mtime_ns, st.st_size, key, label, 0)
            if max(st.st_mtime_ns, st.st_ctime_ns) < racy_after:
                got[i] = (entry, packed[STAT.size * i : STAT.size * (i + 1)], key)
            else:
                got[i] = (entry, no_stat, no_key)
            files += 1
            size += st.st_size
            last = key
        k += len(batch)
    return got, files, size, last
