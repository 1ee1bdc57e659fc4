"""A writer process's job as it is sent, written in C (_ctree.job_message) against its twin
(restore_write._job_message_py: marshal.dumps((work, held), 2)): the same bytes for any job
of a job's shape (work items of (int, bytes, int, int, bytes, location or None), a location
of (str, int, int, int, int), held keys), and None, nothing written, for each thing of
another shape, where marshal writes otherwise or raises (then restore_write._job_message
runs marshal.dumps itself); nothing kept. A restore's writer processes get every job so.
And each job item's path, made by _ctree.gather as restorer._gather_py makes it."""

from __future__ import annotations

import marshal
from typing import Any

import pytest
from ctreehelp import keeps_nothing
from ctreehelp import native as _ctree
from ctreehelp import outcome
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import restore_write

needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "job_message"), reason="_ctree.job_message not built"
)
T = 1_600_000_000_123_456_789
I64 = st.integers(-(2**63), 2**63 - 1)
_loc = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(["", "p", "6a825dace99788e5af6d224e64d87eb6.pack", "pé€😀"]), *[I64] * 4
    ),
)
_work = st.tuples(
    st.one_of(st.integers(0, 300), I64),
    st.binary(max_size=40),
    st.sampled_from([0o644, 0o755, 0o1777, 0, 2**31, -1]),
    st.one_of(st.just(T), I64),
    st.binary(max_size=40),
    _loc,
)


def _twin(work: Any, held: Any) -> Any:
    return outcome(restore_write._job_message_py, (work, held))


@needs_c
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(work=st.lists(_work, max_size=20), held=st.lists(st.binary(max_size=40), max_size=5))
def test_job_message_c_writes_what_marshal_writes(work: list[Any], held: list[bytes]) -> None:
    got = _ctree.job_message(work, held)
    assert got is not None
    assert got == marshal.dumps((work, held), 2)
    assert marshal.loads(got) == (work, held)


@needs_c
def test_job_message_c_writes_ints_at_each_bound_as_marshal() -> None:
    edges = [0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**45, -(2**45), 2**63 - 1]
    edges += [-(2**63), 2**15, 2**15 - 1, 2**30, 2**60 + 7]
    for v in edges:
        work = [(v, b"n", v, v, b"k", ("p", v, v, v, v))]
        assert _ctree.job_message(work, []) == marshal.dumps((work, []), 2), v


class _Int(int):
    pass


class _Bytes(bytes):
    pass


class _Tuple(tuple):  # type: ignore[type-arg]
    pass


class _Str(str):
    pass


class _List(list):  # type: ignore[type-arg]
    pass


W = (3, b"n", 0o644, T, b"k" * 32, ("p", 1, 2, 3, -1))


def _with(i: int, value: Any) -> list[Any]:
    w = list(W)
    w[i] = value
    return [tuple(w)]


def _loc_with(i: int, value: Any) -> list[Any]:
    loc = list(W[5])
    loc[i] = value
    return _with(5, tuple(loc))


# each shape the C declines (None), one per check in _ctree.job_message
DECLINED: list[tuple[str, Any, Any]] = [
    ("work no exact list", _List([W]), []),
    ("work a tuple", (W,), []),
    ("held no exact list", [W], _List([b"k"])),
    ("an item no exact tuple", [_Tuple(W)], []),
    ("an item of 5 fields", [W[:5]], []),
    ("an item of 7 fields", [(*W, 0)], []),
    ("a bool for the fd", _with(0, True), []),
    ("an int subclass for the mode", _with(2, _Int(0o644)), []),
    ("a float for the mtime", _with(3, 1.5), []),
    ("an mtime beyond 64 bits", _with(3, 2**64), []),
    ("an mtime below -2**63", _with(3, -(2**63) - 1), []),
    ("a name of a bytes subclass", _with(1, _Bytes(b"n")), []),
    ("a name as str", _with(1, "n"), []),
    ("a key as bytearray", _with(4, bytearray(b"k")), []),
    ("a location as list", _with(5, ["p", 1, 2, 3, -1]), []),
    ("a location of a tuple subclass", _with(5, _Tuple(("p", 1, 2, 3, -1))), []),
    ("a location of 4 fields", _with(5, ("p", 1, 2, 3)), []),
    ("a location's pack as bytes", _loc_with(0, b"p"), []),
    ("a location's pack of a str subclass", _loc_with(0, _Str("p")), []),
    ("a location's pack with a lone surrogate", _loc_with(0, "p\ud800"), []),
    ("a location's offset a bool", _loc_with(1, False), []),
    ("a location's place beyond 64 bits", _loc_with(4, 2**70), []),
    ("held bytes of a subclass", [W], [_Bytes(b"k")]),
    ("held a str", [W], ["k"]),
]


@needs_c
@pytest.mark.parametrize("case", range(len(DECLINED)), ids=[c[0] for c in DECLINED])
def test_job_message_c_declines_what_is_of_another_shape(case: int) -> None:
    _, work, held = DECLINED[case]
    assert _ctree.job_message(work, held) is None
    # what the caller writes instead: marshal's answer (its bytes, or its error)
    want = _twin(work, held)
    assert outcome(restore_write._job_message, (work, held)) == want


@needs_c
def test_job_message_c_keeps_nothing() -> None:
    held = [b"h" * 32]
    work = [W, (4, b"m", 0o600, -T, b"link", None)]
    watched = [work[0], work[1], held[0], W[5]]
    calls = [(work, held), ([_Tuple(W)], held), (work, [1]), (_with(3, 2**70), held)]
    keeps_nothing(_ctree.job_message, calls, watched)


@needs_c
def test_job_message_c_refuses_wrong_arguments() -> None:
    with pytest.raises(TypeError):
        _ctree.job_message([W])  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _ctree.job_message([W], [], [])  # type: ignore[call-arg]


def test_job_message_is_the_c_where_built() -> None:
    if _ctree is not None and hasattr(_ctree, "job_message"):
        assert restore_write._c_job_message is _ctree.job_message
    work = [W, (4, b"m", 0o600, -T, b"link", None)]
    assert restore_write._job_message(work, [b"k"]) == marshal.dumps((work, [b"k"]), 2)


# _ctree.gather: each item's path is rel + its name (restorer._gather_py's +), joined in C
# for two exact bytes, by the + of what they are otherwise (a subclass's own, an error)
class _Rel(bytes):
    def __add__(self, other: Any) -> Any:
        return b"sub:" + bytes(self) + other


@needs_c
@pytest.mark.parametrize("rel", [b"x/", b"", _Rel(b"y/"), "s/", None], ids=repr)
def test_gather_c_makes_each_items_path_as_the_twin(rel: Any) -> None:
    from git_snapshot.store import restorer
    from git_snapshot.store.objects import DIR
    from git_snapshot.store.objects import FILE
    from git_snapshot.store.objects import Entry

    key = b"k" * 32
    entries = [
        Entry(b"a", FILE, 0o644, T, 3, key),
        Entry(b"d", DIR, 0o755, T, 0, b"d" * 32),
        Entry(_Bytes(b"f"), FILE, 0o644, T, 3, key),
    ]
    locs = {key: ("p", 0, 5, 3, -1)}
    want = outcome(restorer._gather_py, (entries, None, rel, locs, 1 << 20))
    got = outcome(_ctree.gather, (entries, None, rel, locs, 1 << 20))
    assert got == want
    if isinstance(want, tuple):
        assert [type(i[3]) for i in got[0]] == [type(i[3]) for i in want[0]]
