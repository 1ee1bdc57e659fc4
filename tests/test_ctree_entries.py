"""_ctree.entries, the C twin of validate._py_entries (a tree's bytes made entries again: every
tree a restore, log, find or diff reads): the same entries, of the same type, and the same
end, for any entries and for every cut of their bytes; hostile bytes never read out of
bounds; nothing kept."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from ctreehelp import keeps_nothing
from ctreehelp import native as _ctree
from ctreehelp import needs_c
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import ctree
from git_snapshot.store import validate
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import encode_tree

_entries = st.builds(
    Entry,
    name=st.binary(max_size=40),
    kind=st.integers(0, 255),
    mode=st.integers(0, 2**32 - 1),
    mtime_ns=st.integers(-(2**63), 2**63 - 1),
    size=st.integers(0, 2**64 - 1),
    ref=st.binary(max_size=70),
    label=st.integers(0, 255),
    flags=st.integers(0, 255),
)


def _both(data: bytes) -> tuple[Any, Any]:
    def py() -> Any:
        try:
            return validate._py_entries(data)
        except struct.error:
            return None

    return _ctree.entries(data, Entry), py()


@needs_c
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_entries, max_size=12), st.binary(max_size=8))
def test_c_is_its_twin_for_every_cut(entries: list[Entry], tail: bytes) -> None:
    data = encode_tree(entries)
    got = _ctree.entries(data, Entry)
    assert got == (entries, len(data))
    assert all(type(e) is Entry for e in got[0])
    for cut in range(len(TREE_MAGIC), len(data) + len(tail) + 1):
        c, py = _both((data + tail)[:cut])
        assert c == py, cut
        if c is not None:
            assert [type(e) for e in c[0]] == [Entry] * len(c[0])


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_hostile_bytes(junk: bytes) -> None:
    """Lengths that point far past the end: cut as slices are, never read beyond."""
    c, py = _both(TREE_MAGIC + junk)
    assert c == py


@needs_c
def test_lengths_past_the_end() -> None:
    head = HEAD.pack(1, 0, 0, 0o644, 5, 3, 0xFFFF, 0xFFFFFFFF)
    data = TREE_MAGIC + head + b"abc"
    c, py = _both(data)
    assert c == py
    assert c is not None and c[1] > len(data) and c[0][0].name == b"abc" and c[0][0].ref == b""


@needs_c
def test_wrong_arguments() -> None:
    bad: list[tuple[Any, ...]] = [(b"x",), (bytearray(TREE_MAGIC), Entry), (TREE_MAGIC, list)]
    for args in [*bad, (TREE_MAGIC, 3)]:
        with pytest.raises(TypeError):
            _ctree.entries(*args)


@needs_c
def test_keeps_nothing() -> None:
    entries = [Entry(b"a%d" % i, 1, 0o644, i, i, b"\x01" * 32) for i in range(50)]
    data = encode_tree(entries)
    calls = [(data, Entry), (data[:-5], Entry), (data[: len(TREE_MAGIC) + 3], Entry), (data,)]
    keeps_nothing(_ctree.entries, calls, [data, Entry])


def test_validate_uses_c_where_built() -> None:
    """validate._entries is the C one wherever ctree chose the C module (the tests run both)."""
    if ctree.NATIVE:
        assert validate._c_entries is _ctree.entries
    else:
        assert validate._c_entries is None
    data = encode_tree([Entry(b"a", 1, 0o644, 1, 2, b"\x02" * 32)])
    assert validate._entries(data) == validate._py_entries(data)
    with pytest.raises(struct.error):
        validate._entries(data[:-40])
