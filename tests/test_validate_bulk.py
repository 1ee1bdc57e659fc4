"""validate.checked (a tree checked at once, restore's planning) accepts exactly what the
entry-by-entry check accepts, and gives the same entries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import decode_tree
from git_snapshot.store.validate import checked
from git_snapshot.store.validate import tree_problems

honest = st.builds(
    Entry,
    st.binary(min_size=1, max_size=3).filter(lambda n: b"/" not in n and b"\0" not in n),
    st.sampled_from([FILE, DIR]),
    st.sampled_from([0, 0o644, 0o7777]),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 255),
    st.integers(0, 255),
)
link = st.builds(
    lambda name, target: Entry(name, SYMLINK, 0o777, 1, len(target), target),
    st.sampled_from([b"l", b"m"]),
    st.sampled_from([b"t", b"t" * 4095]),
)
# one field of one entry made what no honest snapshot holds (or honest: a link)
damage = st.one_of(
    st.tuples(st.just("name"), st.sampled_from([b"", b".", b"..", b"a/b", b"a\0b", b"n" * 256])),
    st.tuples(st.just("kind"), st.sampled_from([0, 9, SYMLINK])),
    st.tuples(st.just("mode"), st.sampled_from([0o10000, 0o177777, 2**32 - 1])),
    st.tuples(st.just("ref"), st.sampled_from([b"", b"a\0b", b"x" * 31, b"x" * 33, b"t" * 4096])),
    st.tuples(st.just("size"), st.sampled_from([0, 3, 4095])),
    st.tuples(st.just("name"), st.sampled_from([b"n" * 255, b"zz"])),
)


def encode(es: list[Entry]) -> bytes:
    parts = [TREE_MAGIC]
    for e in es:
        head = (e.kind, e.label, e.flags, e.mode, e.mtime_ns, e.size, len(e.name), len(e.ref))
        parts += [HEAD.pack(*head), e.name, e.ref]
    return b"".join(parts)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(honest, link), max_size=5),
    st.lists(st.tuples(st.integers(0, 4), damage), max_size=1),
    st.booleans(),
    st.integers(0, 80),
)
def test_checked_is_the_entry_by_entry_check(
    es: list[Entry], damages: list[tuple[int, tuple[str, object]]], unsorted: bool, cut: int
) -> None:
    es = sorted({e.name: e for e in es}.values(), key=lambda e: e.name)
    for at, (field, value) in damages:
        if es:
            es[at % len(es)] = es[at % len(es)]._replace(**{field: value})  # type: ignore[arg-type]
    if unsorted:
        es.reverse()
    data = encode(es)
    for raw in (data, data[: len(data) - cut] if cut else data + b"\0"):
        try:
            decoded = decode_tree(raw)
        except CorruptObject:
            assert checked(raw) is None
            continue
        expected = None if tree_problems(decoded) else decoded
        got = checked(raw)
        assert got == expected
        if got is not None:
            assert all(type(e) is Entry for e in got)


def test_a_tree_that_is_not_a_tree_is_not_checked() -> None:
    assert checked(b"GSTREE2\n") is None
    assert checked(TREE_MAGIC) == []


DAMAGES = [
    ("name", b""),
    ("name", b"."),
    ("name", b".."),
    ("name", b"a/b"),
    ("name", b"a\0b"),
    ("name", b"n" * 256),
    ("kind", 0),
    ("kind", 9),
    ("kind", SYMLINK),
    ("mode", 0o10000),
    ("mode", 2**32 - 1),
    ("ref", b"x" * 31),
    ("ref", b"x" * 33),
    ("name", b"a"),  # repeated
    ("name", b"0"),  # out of order
]


@pytest.mark.parametrize(("field", "value"), DAMAGES)
@pytest.mark.parametrize("kind", [FILE, DIR])
def test_each_problem_is_refused_at_once(field: str, value: object, kind: int) -> None:
    good = [Entry(b"a", FILE, 0o644, 1, 1, b"x" * 32), Entry(b"b", kind, 0o755, 1, 0, b"y" * 32)]
    assert checked(encode(good)) == good
    bad = [good[0], good[1]._replace(**{field: value})]  # type: ignore[arg-type]
    assert tree_problems(decode_tree(encode(bad)))
    assert checked(encode(bad)) is None
