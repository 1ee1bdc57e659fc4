"""Red team on store/_ctree.c (session 18): build() leaks nothing. The watcher daemon calls it
for every changed folder for as long as it runs: a reference kept on any path (a plain file,
an entry of other(), a callback that raised, an answer refused) grows it without end.

Each case is called many times; the references to everything it was given or handed back
(names, stats, the record, where, damaged, hidden, the callbacks, the entries and rstats and
rkeys other() returns: shared objects, so that a tuple kept alive shows in their counts) must
be what they were, and the memory Python allocated (tracemalloc: PyMem and objects, what
_ctree.c allocates) must not grow with the number of calls."""

from __future__ import annotations

import contextlib
import gc
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from ctreehelp import native as _ctree
from ctreehelp import needs_c

from git_snapshot.store import filescache

pytestmark = needs_c

_S, _K = filescache.STAT.size, filescache.KEY
REG, DIR = 0o100644, 0o40755


class Boom(Exception):
    pass


def _case(n: int, where_kind: str, fail: str, size: int = 5) -> tuple[list[Any], list[Any]]:
    """build()'s arguments for a folder of *n* names (every third a folder, the rest files
    whose lstat is the record's but every fifth), and the objects whose references count:
    *fail* names the callback that raises or gives a refused answer (on its third call, or
    other()'s third answer)."""
    names = [b"n%05d" % (n - i) for i in range(n)]  # (not in name order: sorted by build)
    stats = [
        filescache.STAT.pack(size + i, 1000 + i, 7, 300 + i, DIR if i % 3 == 0 else REG)
        for i in range(n)
    ]
    ostats = [s if i % 5 else filescache.NO_STAT for i, s in enumerate(stats)]
    keys = [bytes([i % 250 + 1]) * _K for i in range(n)]
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, ostats, keys, b"\0".join(names), n)
    same = where_kind == "same"
    where = {} if same else {x: i for i, x in enumerate(names)}
    damaged = {keys[1]: "gone"} if n > 1 else None
    hidden = frozenset(names[-1:])
    stats_b = b"".join(stats)
    # other()'s answers: shared, so a kept reference to one shows
    rstat, rkey = b"\x01" * _S, b"\x02" * _K
    entries = [(x, 1, 0o644, 5, 7, b"r" * 32, 0, 0) for x in names]
    bad_entry = (b"x", 256, 0o644, 5, 7, b"r", 0, 0)  # kind out of struct's range
    bad_answer = (None, b"short", rkey)
    label = 1000  # (not a cached small int)
    calls = [0, 0, 0]

    def classify(rel: bytes, is_dir: bool, parent: int) -> int:
        calls[0] += 1
        if fail == "classify" and calls[0] % 3 == 0:
            raise Boom
        if fail == "label" and calls[0] % 3 == 0:
            return 256
        return parent % 7

    def exclude(rel: bytes, is_dir: bool) -> Any:
        calls[1] += 1
        if fail == "exclude" and calls[1] % 3 == 0:
            raise Boom
        return rel.endswith(b"7")

    def other(todo: list[int]) -> Any:
        calls[2] += 1
        if fail == "other" and calls[2] % 3 == 0:
            raise Boom
        if fail == "short" and calls[2] % 3 == 0:
            return [answer(i) for i in todo[1:]]
        got = [answer(i) for i in todo]
        if fail == "entry" and len(got) > 2:
            got[2] = bad_entry, rstat, rkey
        if fail == "answer" and len(got) > 2:
            got[2] = bad_answer
        todo.clear()  # (the list is the callback's to change)
        return got

    def answer(i: int) -> Any:
        return (None if i % 7 == 0 else entries[i]), rstat, rkey

    args = [names, stats_b, rec, n, same, where, damaged, hidden, False, classify, exclude]
    # "inherited": the folder's label (out of a byte's range) given to its files: refused
    args += [b"some/where/", label, 1000 if fail == "inherited" else None, other]
    # (where's values are small ints: shared by everything, their counts move on their own)
    counted = [*args, *names, *entries, rstat, rkey, bad_entry, bad_answer, *keys]
    if fail in ("done", "done-bad"):  # the folders walked already: build takes them
        done: dict[int, Any] = {
            i: (names[i], 2, 0o755, 5, 0, b"d" * _K, 0, 0) for i in range(n) if i % 3 == 0
        }
        if fail == "done-bad" and n > 3:
            done[3] = (names[3], 2, 0o755, 5, 0, b"d" * _K, 256, 0)  # label out of range
        args.append(done)
        counted += [done, *done.values()]
    return args, counted


FAILS: tuple[str, ...] = (
    *("", "classify", "label", "exclude", "other", "short", "entry", "answer", "inherited"),
    *("done", "done-bad"),  # build's done: the folders walked already (walker._Walker.tree)
)
CASES = [
    (n, where_kind, fail, 5)
    for n in (0, 1, 40, 300)
    for where_kind in ("same", "where")
    for fail in FAILS
]
# files of 2**62 bytes: the plain files' total past int64 (a Python int in _ctree.c)
CASES += [(40, "same", fail, 2**62) for fail in ("", "other")]


def _calls(build: Callable[..., Any], args: list[Any], times: int) -> None:
    for _ in range(times):
        with contextlib.suppress(Boom, TypeError, ValueError, _struct_error):
            build(*args)


_struct_error = __import__("struct").error


def _refcounts(objs: list[Any]) -> list[int]:
    return [sys.getrefcount(o) for o in objs]


@pytest.mark.parametrize(("n", "where_kind", "fail", "size"), CASES)
def test_no_reference_kept(n: int, where_kind: str, fail: str, size: int) -> None:
    args, counted = _case(n, where_kind, fail, size)
    _calls(_ctree.build, args, 3)  # (the first calls may fill caches: struct's, interned)
    before = _refcounts(counted)
    _calls(_ctree.build, args, 30)
    assert _refcounts(counted) == before


def _growth(build: Callable[..., Any], cases: list[tuple[list[Any], list[Any]]], times: int) -> int:
    """The bytes Python holds more after *times* rounds of *cases* than after a few."""
    for args, _ in cases:
        _calls(build, args, 3)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(times):
            for args, _ in cases:
                _calls(build, args, 1)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_no_memory_kept() -> None:
    """Every case 300 times (20,000 calls): a leak of 16 bytes a call would be 300 KB, one
    of the big totals' ints ~19 KB; less than 8 KB may grow (2 KB measured: tracemalloc's
    own, the first calls' caches)."""
    cases = [_case(*case) for case in CASES if case[0] <= 40]
    grew = _growth(_ctree.build, cases, 300)
    assert grew < 8 * 1024, grew
