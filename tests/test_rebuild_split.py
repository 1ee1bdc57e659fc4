"""treebytes.split, the fast reading of a tree's entries that the rebuild, diff, log and find
use (names checked as they come), gives the answer of a plain reading (``reference``: sort,
count, check) for every input: well formed trees, and trees with names out of order,
repeated, empty, too long, '.', '..', holding '/' or NUL, cut short or with bytes left over
(either the same dict or None)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from git_snapshot.store import treebytes
from git_snapshot.store.objects import DIR
from git_snapshot.store.objects import FILE
from git_snapshot.store.objects import HEAD
from git_snapshot.store.objects import SYMLINK
from git_snapshot.store.objects import TREE_MAGIC
from git_snapshot.store.treebytes import split


def reference(data: bytes) -> dict[bytes, bytes] | None:
    """treebytes.split as it was written first (5c78911): the plain way."""
    if not data.startswith(TREE_MAGIC):
        return None
    out: dict[bytes, bytes] = {}
    pos, end, count = len(TREE_MAGIC), len(data), 0
    try:
        while pos < end:
            nlen, rlen = treebytes._LENGTHS.unpack_from(data, pos + treebytes._LENGTHS_AT)
            npos = pos + HEAD.size + nlen
            after = npos + rlen
            out[data[pos + HEAD.size : npos]] = data[pos:after]
            pos = after
            count += 1
    except struct.error:
        return None
    if pos != end or len(out) != count:  # truncated, or a name repeated
        return None
    if not out:
        return out
    names = list(out)
    if names != sorted(names) or b"." in out or b".." in out:
        return None
    joined = b"\0".join(names)
    if b"/" in joined or joined.count(b"\0") != count - 1:
        return None
    lengths = list(map(len, names))
    if min(lengths) == 0 or max(lengths) > treebytes.MAX_NAME:
        return None
    return out


_NAMES = st.one_of(
    st.binary(min_size=0, max_size=12),
    st.sampled_from([b".", b"..", b"a/b", b"a\0b", b"", b"x" * 255, b"x" * 256, b"a", b"b"]),
)
_ENTRY = st.tuples(
    st.sampled_from([FILE, DIR, SYMLINK]),
    _NAMES,
    st.binary(min_size=0, max_size=40),  # the ref: a key, or a link's target
)


def _tree(entries: list[tuple[int, bytes, bytes]]) -> bytes:
    parts = [TREE_MAGIC]
    for kind, name, ref in entries:
        parts.append(HEAD.pack(kind, 0, 0, 0o644, 1, len(ref), len(name), len(ref)))
        parts += [name, ref]
    return b"".join(parts)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(_ENTRY, max_size=8),
    st.booleans(),  # names sorted (and made unique) first, as the walker writes them
    st.one_of(st.none(), st.integers(min_value=-40, max_value=-1)),  # cut short
    st.binary(max_size=3),  # bytes left over
    st.booleans(),  # the magic damaged
)
def test_split_answers_as_the_plain_reading(
    entries: list[tuple[int, bytes, bytes]],
    ordered: bool,
    cut: int | None,
    extra: bytes,
    bad_magic: bool,
) -> None:
    if ordered:
        entries = sorted(
            {name: (k, name, ref) for k, name, ref in entries}.values(), key=lambda e: e[1]
        )
    data = _tree(entries)
    if cut is not None:
        data = data[:cut]
    data += extra
    if bad_magic:
        data = b"X" + data[1:]
    assert split(data) == reference(data)


def test_split_reads_a_well_formed_tree() -> None:
    """(Not only None twice: the answer for trees as the walker writes them.)"""
    entries = [(FILE, b"a", b"k" * 32), (DIR, b"b", b"t" * 32), (SYMLINK, b"c", b"../x")]
    data = _tree(entries)
    got = split(data)
    assert got is not None and list(got) == [b"a", b"b", b"c"]
    assert got == reference(data)
    assert split(_tree(entries[::-1])) is None
    assert split(_tree([*entries, entries[-1]])) is None


def test_no_git_id_labels_are_worktree_s() -> None:
    """rebuild takes no git id of files labelled untracked or ignored (gitwrote._written_during
    never asks for one): its constants are worktree's labels."""
    from git_snapshot import worktree
    from git_snapshot.store import rebuild

    assert rebuild._NO_ID_LABELS == (worktree.UNTRACKED, worktree.IGNORED)
