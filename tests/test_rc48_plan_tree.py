"""Review of _ctree.plan_tree (RC48): each of validate's refusals on its own, in a tree whose
other entries and order are honest, so that no other check hides it (the table of
test_rs48_plan_tree put a name sorting before "b" after it: "", "." and ".." were refused
for their order, and C with its empty-name or dot check removed passed it); the names, links
and sizes just inside each limit, which C must take itself; every cut of a tree; a hostile
name or link target stopped before anything is written, by C and by the twin alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from ctreehelp import native as _ctree
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import Crafter
from storehelpers import restore

from git_snapshot.store import Store
from git_snapshot.store import restore_plan
from git_snapshot.store import validate
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.objects import Entry
from git_snapshot.store.objects import encode_tree
from git_snapshot.store.validate import UnsafeTree

needs_c = pytest.mark.skipif(
    _ctree is None or not hasattr(_ctree, "plan_tree"), reason="_ctree.plan_tree not built"
)
T = 1_600_000_000_123_456_789
KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def _raw(kind: int, mode: int, size: int, name: bytes, ref: bytes) -> bytes:
    return HEAD.pack(kind, 0, 0, mode, T, size, len(name), len(ref)) + name + ref


def _file(name: bytes, size: int = 1, ref: bytes = KEY) -> bytes:
    return _raw(FILE, 0o644, size, name, ref)


def _link(name: bytes, target: bytes, size: int = -1) -> bytes:
    return _raw(SYMLINK, 0o777, len(target) if size < 0 else size, name, target)


# (the hostile entry, the twin's words): each sits between honest neighbours, by name order
_REFUSED = [
    (_file(b""), "empty name"),
    (_file(b"."), "unsafe name '.'"),
    (_raw(DIR, 0o755, 0, b"..", KEY), "unsafe name '..'"),
    (_file(b"/"), "unsafe name (holds '/' or NUL)"),
    (_file(b"c/"), "unsafe name (holds '/' or NUL)"),
    (_file(b"c/.."), "unsafe name (holds '/' or NUL)"),
    (_file(b"\0"), "unsafe name (holds '/' or NUL)"),
    (_file(b"c\0"), "unsafe name (holds '/' or NUL)"),
    (_file(b"c" * 256), "name of 256 bytes (at most 255)"),
    (_raw(FILE, 0o10644, 1, b"c", KEY), "mode 0o10644 has bits beyond 0o7777"),
    (_raw(FILE, 2**32 - 1, 1, b"c", KEY), "mode 0o37777777777 has bits beyond 0o7777"),
    (_file(b"c", ref=KEY[:31]), "file reference of 31 bytes (a key has 32)"),
    (_file(b"c", ref=b""), "file reference of 0 bytes (a key has 32)"),
    (_raw(DIR, 0o755, 0, b"c", KEY + b"!"), "directory reference of 33 bytes (a key has 32)"),
    (_link(b"c", b""), "empty symlink target"),
    (_link(b"c", b"t\0"), "symlink target holds a NUL byte"),
    (_link(b"c", b"\0t"), "symlink target holds a NUL byte"),
    (_link(b"c", b"x" * 4096), "symlink target of 4096 bytes (at most 4095)"),
    (_link(b"c", b"abcd", 5), "symlink size 5 does not match its target's 4 bytes"),
    (_link(b"c", b"abcd", 3), "symlink size 3 does not match its target's 4 bytes"),
    (_raw(0, 0o644, 1, b"c", KEY), "unknown entry type 0"),
    (_raw(4, 0o644, 1, b"c", KEY), "unknown entry type 4"),
    (_raw(255, 0o644, 1, b"c", KEY), "unknown entry type 255"),
]


def _name(entry: bytes) -> bytes:
    return entry[29 : 29 + int.from_bytes(entry[23:25], "little")]


@needs_c
@pytest.mark.parametrize("bad", range(len(_REFUSED)))
@pytest.mark.parametrize("where", ["alone", "among"])
def test_each_refusal_alone_is_left_to_the_twin_with_its_words(bad: int, where: str) -> None:
    entry, words = _REFUSED[bad]
    parts = [entry]
    if where == "among":  # honest neighbours on both sides, in name order
        parts = sorted([_file(b"\1"), entry, _file(b"\xff" * 3)], key=_name)
    data = TREE_MAGIC + b"".join(parts)
    assert validate.checked(data) is None
    assert _ctree.plan_tree(data, b"p/", 65536, 4 << 20) is None
    with pytest.raises(UnsafeTree) as exc:
        restore_plan._plan_tree_py(data, b"p/", 65536, 4 << 20)
    assert exc.value.problem == words
    assert exc.value.path == b"p/" + _name(entry)


@needs_c
@pytest.mark.parametrize(
    "names",
    [
        [b"b", b"a"],  # out of order
        [b"b", b"b"],  # repeated
        [b"ab", b"a"],  # a longer name first, the shorter its prefix
        [b"a\xff", b"a\x80"],  # bytes compare unsigned
        [b"a", b"b", b"c", b"b"],
    ],
)
def test_names_out_of_order_are_left_to_the_twin(names: list[bytes]) -> None:
    data = TREE_MAGIC + b"".join(_file(n) for n in names)
    assert _ctree.plan_tree(data, b"", 1, 1) is None
    with pytest.raises(UnsafeTree, match="names out of order or repeated"):
        restore_plan._plan_tree_py(data, b"", 1, 1)


@needs_c
def test_names_links_and_modes_just_inside_each_limit_are_taken_by_c() -> None:
    """What validate accepts near a refused value: C answers it itself, as the twin (a C
    that refused it would only be slower; one that took a refused value, unsafe)."""
    names = [b".a", b".git", b"...", b"..a", b"a.", b"a..", b".\xff", b"\x01", b"\xff" * 255]
    parts = [_raw(FILE, 0o7777, 1, n, KEY) for n in names]
    parts.append(_link(b"l1", b"x" * 4095))
    parts.append(_link(b"l2", b"/abs/../t"))
    parts.append(_raw(DIR, 0, 0, b"z", OTHER))
    parts.sort(key=_name)
    data = TREE_MAGIC + b"".join(parts)
    assert validate.checked(data) is not None
    got = _ctree.plan_tree(data, b"p/", 65536, 4 << 20)
    assert got is not None
    assert got == restore_plan._plan_tree_py(data, b"p/", 65536, 4 << 20)
    assert got == ([(OTHER, b"p/z/")], len(names) + 2, [KEY] * len(names), [KEY] * len(names))


@needs_c
@pytest.mark.parametrize(
    ("shared", "whole", "small", "want"),
    [
        (6, 8, [b"a", b"b"], [b"a", b"b", b"c", b"d"]),  # at most: equal is in
        (-1, 8, [], [b"a", b"b", b"c", b"d"]),  # below 0: none
        (6, -1, [b"a", b"b"], []),
        (-(2**63), -(2**63), [], []),
        (0, 2**63 - 1, [b"a"], [b"a", b"b", b"c", b"d", b"e", b"f"]),
    ],
)
def test_the_files_small_and_whole_are_those_at_most_the_size(
    shared: int, whole: int, small: list[bytes], want: list[bytes]
) -> None:
    sizes = {b"a": 0, b"b": 6, b"c": 7, b"d": 8, b"e": 9, b"f": 2**63 - 1, b"g": 2**64 - 1}
    data = TREE_MAGIC + b"".join(_file(n, s, n * 32) for n, s in sizes.items())
    got = _ctree.plan_tree(data, b"", shared, whole)
    assert got == ([], 7, [n * 32 for n in small], [n * 32 for n in want])
    assert got == restore_plan._plan_tree_py(data, b"", shared, whole)


@needs_c
def test_every_cut_of_a_tree_and_a_wrong_magic_are_left_to_the_twin() -> None:
    whole = TREE_MAGIC + _file(b"a") + _link(b"b", b"tt") + _raw(DIR, 0o755, 0, b"c", KEY)
    assert _ctree.plan_tree(whole, b"", 1, 1) == ([(KEY, b"c/")], 2, [KEY], [KEY])
    for n in range(len(whole)):
        cut = whole[:n]
        answer = _ctree.plan_tree(cut, b"", 1, 1)
        if validate.checked(cut) is None:
            assert answer is None, n
            with pytest.raises(CorruptObject):
                restore_plan._plan_tree_py(cut, b"", 1, 1)
        else:  # (a cut at an entry's end is a tree of fewer entries)
            assert answer == restore_plan._plan_tree_py(cut, b"", 1, 1), n
    for magic in (b"GSTREE2\n", b"gstree1\n", b"GSTREE1\0", b"GSTREE1"):
        assert _ctree.plan_tree(magic + whole[8:], b"", 1, 1) is None
    lies = [  # a length that points past the end (as far as it can)
        HEAD.pack(FILE, 0, 0, 0o644, T, 1, 0xFFFF, 32) + b"a" + KEY,
        HEAD.pack(FILE, 0, 0, 0o644, T, 1, 1, 2**32 - 1) + b"a" + KEY,
        HEAD.pack(SYMLINK, 0, 0, 0o777, T, 2**32 - 1, 1, 2**32 - 1) + b"a" + b"t" * 4000,
    ]
    for lie in lies:
        assert _ctree.plan_tree(TREE_MAGIC + lie, b"", 1, 1) is None


@needs_c
def test_a_tree_of_many_entries_is_planned_as_the_twin_plans_it() -> None:
    entries = [
        Entry(b"n%06d" % i, DIR if i % 7 == 0 else FILE, 0o644, T, i, KEY, 0, 0)
        for i in range(100_000)
    ]
    data = encode_tree(entries)
    got = _ctree.plan_tree(data, b"x/", 65536, 4 << 20)
    assert got is not None
    assert got == restore_plan._plan_tree_py(data, b"x/", 65536, 4 << 20)
    assert len(got[0]) == 14286 and got[1] == 100_000 - 14286


# an honest raw entry, or one with one field spoilt (a length that lies, a mode, a kind, a
# name holding '/' or NUL, a link's target); names from a few letters, '.' among them, so
# that they repeat, prefix one another, and are ".", ".." or near them (".a", "a.", "...")
_letters = st.lists(st.sampled_from([b".", b"a", b"b", b"\x80", b"\xff"]), min_size=1, max_size=3)
_SPOILS = [
    *[None] * 24,
    *("/", "/end", "nul", "nulend", "empty", "long", "mode", "kind", "nlen", "rlen", "key"),
    *("target", "targetnul", "targetlong", "targetsize"),
]


@st.composite
def _fuzz_entry(draw: st.DrawFn) -> tuple[bytes, bytes]:
    spoil = draw(st.sampled_from(_SPOILS))
    kind = draw(st.sampled_from([FILE, FILE, DIR, SYMLINK]))
    if spoil and spoil.startswith("target"):
        kind = SYMLINK
    elif spoil == "key":
        kind = draw(st.sampled_from([FILE, DIR]))
    name = b"".join(draw(_letters))
    mode = draw(st.sampled_from([0o644, 0o755, 0o7777, 0]))
    size = draw(st.sampled_from([0, 6, 7, 2**64 - 1]))
    ref = draw(st.sampled_from([KEY, OTHER]))
    if kind == SYMLINK:
        ref = draw(st.sampled_from([b"t", b"../a", b"x" * 4095]))
        size = len(ref)
    nlen = rlen = -1
    if spoil in ("/", "nul"):
        name = name[:1] + (b"/" if spoil == "/" else b"\0") + name[1:]
    elif spoil in ("/end", "nulend"):
        name += b"/" if spoil == "/end" else b"\0"
    elif spoil in ("empty", "long"):
        name = b"" if spoil == "empty" else b"x" * 256
    elif spoil == "mode":
        mode = draw(st.sampled_from([0o10000, 2**32 - 1]))
    elif spoil == "kind":
        kind = draw(st.sampled_from([0, 4, 255]))
    elif spoil in ("nlen", "rlen"):
        lie = draw(st.sampled_from([0, 1, 0xFFFF, 2**32 - 1]))
        nlen, rlen = (lie & 0xFFFF, -1) if spoil == "nlen" else (-1, lie)
    elif spoil == "key":
        ref = draw(st.sampled_from([b"", KEY[:31], KEY + b"!"]))
    elif spoil and spoil.startswith("target"):
        ref = {"target": b"", "targetnul": b"t\0", "targetlong": b"x" * 4096}.get(spoil, ref)
        size = len(ref) + (1 if spoil == "targetsize" else 0)
    head = HEAD.pack(
        kind, 0, 0, mode, T, size, len(name) if nlen < 0 else nlen, len(ref) if rlen < 0 else rlen
    )
    return head + name + ref, name


@needs_c
@settings(max_examples=500)
@given(
    entries=st.lists(_fuzz_entry(), max_size=6),
    sort=st.booleans(),
    cut=st.sampled_from([0, 0, 0, 0, -1, -30, 1, 29]),
    shared=st.sampled_from([-1, 0, 6, 2**63 - 1]),
    whole=st.sampled_from([-1, 7, 4 << 20]),
    magic=st.sampled_from([TREE_MAGIC] * 7 + [b"GSTREE2\n", b"GSTREE1"]),
)
def test_plan_tree_c_against_checked_and_the_twin_on_any_bytes(
    entries: list[tuple[bytes, bytes]], sort: bool, cut: int, shared: int, whole: int, magic: bytes
) -> None:
    if sort:
        entries.sort(key=lambda e: e[1])
    data = magic + b"".join(e for e, _ in entries)
    if cut < 0:
        data = data[: max(len(data) + cut, 0)]
    else:
        data += b"\1" * cut
    got = _ctree.plan_tree(data, b"p/", shared, whole)
    if validate.checked(data) is None:
        assert got is None
    else:
        assert got == restore_plan._plan_tree_py(data, b"p/", shared, whole)


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        (Entry(b".", FILE, 0o644, T, 4, b""), "unsafe name '.'"),
        (Entry(b"z/", FILE, 0o644, T, 4, b""), "unsafe name (holds '/' or NUL)"),
        (Entry(b"ln", SYMLINK, 0o777, T, 2, b"t\0"), "symlink target holds a NUL byte"),
        (Entry(b"ln", SYMLINK, 0o777, T, 4, b"../"), "symlink size 4 does not"),
    ],
)
def test_a_hostile_entry_stops_the_restore_before_it_writes_by_c_and_by_the_twin(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: Entry, words: str
) -> None:
    c = Crafter(store)
    if entry.kind == FILE:
        entry = entry._replace(ref=c.blob(b"out\n"))
    dirs = []
    for i in range(70):
        files = [c.file(b"f%d" % j, b"%d %d\n" % (i, j)) for j in range(8)]
        if i == 40:
            files.append(entry)
        dirs.append(c.dir(b"pkg%02d" % i, sorted(files)))
    snap = c.commit("crafted", dirs)
    snap.files = 560  # as an honest snapshot would count them: the locations are scanned
    said = []
    for twin in (False, True):
        if twin:
            monkeypatch.setattr(restore_plan, "_plan_tree", restore_plan._plan_tree_py)
        out = tmp_path / f"out{twin}"
        with pytest.raises(UnsafeTree, match="pkg40") as exc:
            restore(store, snap, out, threads=2)
        assert exc.value.problem.startswith(words)
        said.append(str(exc.value))
        assert not out.exists()
    assert said[0] == said[1]
