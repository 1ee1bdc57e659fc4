"""Red team on store/_ctree.c (session 18): the C build of a changed folder's tree and record
against its twin store/ctree_py.py on hostile input, beyond tests/test_ctree.py's folders.

The old record is what a files cache on disk gave (any bytes: cut short, counts that lie,
stats and keys of anything, names joined by NUL that are not the listing's); the listing's
names are any bytes but NUL and '/', and its packed lstats any 40 bytes (negative sizes,
every mode); the callbacks (classify, exclude, other) may raise at any call, give odd
answers, or fields that struct.pack refuses. Whatever happens, C must give the twin's result
or raise the twin's exception, after the same calls back into Python in the same order. Run
with ASan (docs/JOURNAL.md, 'Session 18 (RED18)') this is also the hunt for reads out of
bounds; tests/test_red18_leaks.py counts references and memory."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Any

import pytest
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import ctree_py
from git_snapshot.store import filescache

pytestmark = needs_c

_S, _K, _H = filescache.STAT.size, filescache.KEY, filescache.HEAD.size
REG, DIR, LNK = 0o100644, 0o40755, 0o120777
EXAMPLES = int(os.environ.get("RED18_EXAMPLES", "400"))

name_st = st.binary(min_size=1, max_size=40).filter(lambda b: b"/" not in b and b"\0" not in b)
sizes = st.sampled_from([0, 1, 4096, 2**40, 2**62, 2**63 - 1] * 3 + [-1, -(2**63)])
mtimes = st.sampled_from([0, 1, -5, 1_700_000_000_123_456_789, 2**63 - 1, -(2**63)])
# (0o110644: no file type, one bit off a regular file's; fifo, socket, block, char devices)
NEAR = [bytes(31) + b"\x01", b"\x80" + bytes(31)]  # a byte off NO_KEY
ODD_MODES = [0o110644, 0o10644, 0o140755, 0o60644, 0o20644]
modes = st.sampled_from([REG] * 8 + [0o100755, 0o107777, DIR, LNK, 0, *ODD_MODES, -1, -2]).flatmap(
    lambda m: (
        st.just(m)
        if m >= 0
        else st.integers(0, 2**64 - 1).map(  # any bits (-2: a regular file's type among them)
            lambda b: b if m == -1 else b & ~0o170000 | 0o100000
        )
    )
)


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True once in *n* draws (st.integers(0, n - 1) == 0 would be drawn far more often: 0
    is where hypothesis looks first)."""
    return st.sampled_from([False] * (n - 1) + [True])


@st.composite
def a_stat(draw: Any) -> bytes:
    if draw(one_in(10)):
        raw: bytes = draw(st.binary(min_size=_S, max_size=_S))
        return raw
    return filescache.STAT.pack(
        draw(sizes), draw(mtimes), draw(st.sampled_from([0, 7])), draw(st.integers(0, 3)),
        draw(modes),
    )  # fmt: skip


@st.composite
def hostile(draw: Any) -> dict[str, Any]:
    """A listing, an old record of it as a damaged or hostile files cache may hold, and the
    walker's arguments for them (where: the record's names split as walker.tree does)."""
    names = draw(st.lists(name_st, unique=True, max_size=30))
    stats = [draw(a_stat()) for _ in names]
    onames = [x for x in names if not draw(one_in(5))] + draw(st.lists(name_st, max_size=5))
    onames = list(draw(st.permutations(onames)))  # (duplicates: a hostile record's)
    at = {x: i for i, x in enumerate(names)}
    ostats = [stats[at[x]] if x in at and not draw(one_in(5)) else draw(a_stat()) for x in onames]
    keys = [
        draw(st.sampled_from([bytes([i % 255 + 1]) * 32, b"\xaa" * 32, filescache.NO_KEY, *NEAR]))
        if not draw(one_in(6))
        else draw(st.binary(min_size=32, max_size=32))
        for i in range(len(onames))
    ]
    hn = len(onames)
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, ostats, keys, b"\0".join(onames), hn)
    old: Any = rec
    damage = draw(
        st.sampled_from(
            ["none"] * 8 + ["short", "flip", "hn", "bytes", "none-rec", "type", "head-only"]
        )
    )
    if damage == "short":
        old = rec[: draw(st.integers(0, len(rec)))]
    elif damage == "flip":
        b = bytearray(rec)
        for _ in range(draw(st.integers(1, 8))):
            if b:
                b[draw(st.integers(0, len(b) - 1))] ^= draw(st.integers(1, 255))
        old = bytes(b)
    elif damage == "hn":  # a count the record does not hold (or holds fewer of)
        hn = draw(st.sampled_from([hn + 1, hn - 1, 0, 2**31, 2**32 - 1, 2**40, -1]))
    elif damage == "bytes":
        old = draw(st.binary(max_size=400))
        hn = draw(st.integers(0, 8))
    elif damage == "none-rec":
        old = None
    elif damage == "type":  # not bytes: no record (the twin's isinstance)
        old = draw(st.sampled_from([bytearray(rec), memoryview(rec), "x", 0]))
    elif damage == "head-only":
        old = rec[:_H]
    if draw(one_in(3)):  # the listing's names, in its order: same may be true
        onames = list(names)
    same = draw(st.booleans()) and hn == len(names) and onames == names
    where: dict[Any, Any] = {}
    if isinstance(old, bytes) and hn > 0 and len(old) >= _H + (_S + _K) * hn:
        split = old[_H + (_S + _K) * hn :].split(b"\0")
        if len(split) == hn:
            where = dict(zip(split, range(hn)))
    hostile_indices = draw(st.sampled_from([0, 0, 0, 1, 2]))  # (ints: walker.tree's zip)
    for _ in range(hostile_indices):
        where[draw(st.sampled_from([*names, b"x"]))] = draw(
            st.sampled_from([-1, 0, hn - 1, hn, 2**62, 2**64, -(2**70), True])
        )
    key_pool = [*keys, b"\xaa" * 32]
    return dict(
        names=names,
        stats=b"".join(stats),
        old=old,
        hn=hn,
        same=same,
        where=where,
        damaged=draw(
            st.sampled_from(
                [None, set(), {b"\xaa" * 32}, frozenset(key_pool[:2]), dict.fromkeys(key_pool)]
            )
        ),
        hidden=draw(st.sampled_from([None, set(), frozenset(names[:2]), {b".git"}])),
        general=draw(one_in(10)),
        rel=draw(st.sampled_from([b"", b"a/", b"x\xff/y/"])),
        label=draw(st.integers(0, 3)),
        inherit=draw(st.sampled_from([None, None, 0, 1, 3, 2.0, "3"])),
        # the callbacks: which exist, what they answer, when one raises
        classify=draw(st.sampled_from([None, "ok", "ok", "odd"])),
        exclude=draw(st.sampled_from([None, "ok", "ok", "odd"])),
        entries=draw(st.sampled_from(["ok", "ok", "odd"])),
        raise_at=draw(st.sampled_from([None, None, None, 0, 1, 2, 5, 9, 20, 40])),
        seed=draw(st.integers(0, 2**16)),
    )


class Boom(Exception):
    """A callback's own exception: it must come out of build as it is."""


ODD_LABELS: list[Any] = [0, 1, 255, True, 256, -1, 2**64, 2.0, None, "x"]
# an entry's integer field (kind, mode, mtime, size, label, flags) out of its struct's range
BAD_FIELDS: list[tuple[int, Any]] = [(1, 256), (2, -1), (3, 2**63), (4, -1), (6, 256), (7, -1)]
BAD_FIELDS += [(4, 2**64), (2, 2**32), (1, 1.5), (6, None)]
ODD_BOOLS: list[Any] = [True, False, 0, 1, None, b"", b"x", [], [0]]


def run(impl: Callable[..., Any], f: dict[str, Any]) -> tuple[Any, list[Any]]:
    """*impl*'s build of *f* (its result, or its exception's type and message), and every
    call it made back into Python."""
    calls: list[Any] = []
    seed = f["seed"]

    def call(what: tuple[Any, ...]) -> int:
        calls.append(what)
        if f["raise_at"] == len(calls) - 1:
            raise Boom(len(calls))
        return len(calls) + int(seed)

    def classify(rel: bytes, is_dir: bool, parent: int) -> Any:
        c = call(("classify", rel, is_dir, parent))
        if f["classify"] == "odd":
            return ODD_LABELS[c % len(ODD_LABELS)]
        return (len(rel) + parent) % 4

    def exclude(rel: bytes, is_dir: bool) -> Any:
        c = call(("exclude", rel, is_dir))
        if f["exclude"] == "odd":
            return ODD_BOOLS[c % len(ODD_BOOLS)]
        return rel.endswith(b"\x01")

    def other(todo: list[int]) -> list[Any]:
        c = call(("other", tuple(todo)))
        return [answer(i, c + k) for k, i in enumerate(todo)]

    def answer(i: int, c: int) -> Any:
        name = f["names"][i]
        sb = f["stats"][_S * i : _S * (i + 1)]
        if c % 4 == 0:
            return None, filescache.NO_STAT, filescache.NO_KEY
        ref = bytes([i % 256]) * (i % 40)
        e: Any = (name, 1 + i % 3, 0o644, i * 1000 - 7, i, ref, i % 5, i % 2)
        if f["entries"] == "odd" and c % 3 == 0:
            at, bad = BAD_FIELDS[c % len(BAD_FIELDS)]  # a field struct.pack refuses
            e = (*e[:at], bad, *e[at + 1 :])
        return e, sb, bytes([c % 256]) * 32

    args = [f[k] for k in ("names", "stats", "old", "hn", "same", "where", "damaged", "hidden")]
    args += [f["general"], classify if f["classify"] else None]
    args += [exclude if f["exclude"] else None, f["rel"], f["label"], f["inherit"], other]
    try:
        got: Any = impl(*args)
    except struct.error:
        got = struct.error  # (messages differ: C's is 'argument out of range' for all)
    except Exception as exc:
        got = (type(exc), str(exc))
    return got, calls


def same_as_twin(f: dict[str, Any]) -> None:
    c, twin = run(_ctree.build, f), run(ctree_py.build, f)
    assert c == twin


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile())
def test_hostile_records_give_the_twin_s_result(f: dict[str, Any]) -> None:
    same_as_twin(f)


def _head(n: int) -> bytes:
    return filescache.HEAD.pack(b"k" * 32, 0, 0, 0, 0, 0, 0, 0, n, 1)


def _calls_of(build: Callable[..., Any], names: list[bytes], stats: bytes, old: Any, hn: int,
              where: dict[bytes, int], same: bool = False) -> Any:  # fmt: skip
    """*build*'s result for a folder whose other entries are all left out (None)."""
    seen: list[Any] = []

    def other(todo: list[int]) -> list[Any]:
        seen.append(tuple(todo))
        return [(None, filescache.NO_STAT, filescache.NO_KEY) for _ in todo]

    args = [names, stats, old, hn, same, where, None, None, False, None, None, b"", 0, None]
    args.append(other)
    return build(*args), seen


@pytest.mark.parametrize("past", [0, 1, 2])
def test_an_index_at_or_past_the_record_s_count_is_not_read(past: int) -> None:
    """where[name] = hn + past: the bytes there (the record's keys, then its names, then
    nothing) are made the listing's lstat, so that a bound off by one takes the file as
    plain, its key read from past the record's end (ASan: a heap read out of bounds)."""
    sb = filescache.STAT.pack(5, 1, 1, 1, REG)
    hn = 1
    # head, one stat (another's), then the bytes a stat at hn + past would be: sb
    old = _head(hn) + filescache.NO_STAT + b"\x07" * (40 * past) + sb
    assert len(old) >= _H + (_S + _K) * hn  # (a record that holds its count)
    for j in (hn + past, hn + past + 1):
        c = _calls_of(_ctree.build, [b"a"], sb, old, hn, {b"a": j})
        assert c == _calls_of(ctree_py.build, [b"a"], sb, old, hn, {b"a": j})
        assert c[1] == [(0,)]  # not plain: other()'s


@pytest.mark.parametrize("cut", [1, 2, 31, 32, 40, 72])
def test_a_record_a_few_bytes_short_is_no_record(cut: int) -> None:
    """A record *cut* bytes shorter than its count needs, its last file's lstat the
    listing's: no record (every entry other()'s), never its key read from past the end."""
    names = [b"a", b"b"]
    sts = [filescache.STAT.pack(5 + i, 1, 1, 1, REG) for i in range(2)]
    keys = [b"\x01" * 32, b"\x02" * 32]
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, sts, keys, b"", 2)[:-cut]
    for same in (True, False):
        where = {} if same else {b"a": 0, b"b": 1}
        c = _calls_of(_ctree.build, names, b"".join(sts), rec, 2, where, same)
        assert c == _calls_of(ctree_py.build, names, b"".join(sts), rec, 2, where, same)
        assert c[1] == [(0, 1)]


class _BadBool:
    def __bool__(self) -> bool:
        raise ZeroDivisionError


WRONG: list[Any] = [None, 0, -1, 2**70, 1.5, "s", b"b", bytearray(b"bb"), memoryview(b"m")]
WRONG += [[], [b"a"], (), {}, {b"a": 1}, set(), object(), _BadBool(), type, len, iter([b"a"])]


@pytest.mark.parametrize("at", range(15))
def test_a_wrong_argument_is_an_exception_never_a_crash(at: int) -> None:
    """Each argument in turn replaced by objects of the wrong type: C raises (its TypeError
    may be the twin's AttributeError or ValueError), or gives the twin's result; it never
    crashes nor reads what it was not given (ASan)."""
    names = [b"b", b"a", b"c"]
    sts = [filescache.STAT.pack(5, 1, 1, 1, REG), filescache.STAT.pack(1, 1, 1, 2, DIR)]
    sts.append(filescache.STAT.pack(3, 1, 1, 3, REG))
    keys = [b"\x01" * 32, b"\x02" * 32, b"\x03" * 32]
    rec = filescache.record(b"k" * 32, 0, 0, None, 0, 0, 1, sts, keys, b"\0".join(names), 3)

    def other(todo: list[int]) -> list[Any]:
        return [((names[i], 2, 0o755, 0, 0, b"r" * 32, 0, 0), sts[i], b"\x05" * 32) for i in todo]

    base: list[Any] = [names, b"".join(sts), rec, 3, False, {x: i for i, x in enumerate(names)}]
    base += [{b"\x09" * 32}, {b".git"}, False, lambda r, d, lab: 1, lambda r, d: False, b"x/"]
    base += [0, None, other]
    for wrong in WRONG:
        args = list(base)
        args[at] = wrong
        try:
            twin: Any = ctree_py.build(*args)
        except Exception:
            twin = None
        try:
            c = _ctree.build(*args)
        except Exception:  # (any exception is an answer here)
            continue
        assert c == twin, wrong
