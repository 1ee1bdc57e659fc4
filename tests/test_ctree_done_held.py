"""ctree.build's *done* (the folders walked already, walker._Walker.tree) may be the only
holder of a folder's entry, and an entry's field is read through its __index__ (Python code,
which can change *done*): build holds each entry it takes before reading a field of it (a
use after free when it held it after: f7e48a03's own fix, found under AddressSanitizer)."""

from __future__ import annotations

import gc
import struct
from typing import Any

import pytest

from git_snapshot.store import ctree_py
from git_snapshot.store import filescache
from git_snapshot.store import objects

try:
    from git_snapshot.store import _ctree
except ImportError:  # (the twin only: nothing of C's to check)
    _ctree = None  # type: ignore[assignment]

_S = filescache.STAT.size
N = 8


def _dir_stat() -> bytes:
    return (bytes(32) + struct.pack("<q", 0o40755)).ljust(_S, b"\0")


class _Clears:
    """A field whose __index__ empties *done* (the entry's only holder) and fills the memory
    freed with other bytes of the same sizes."""

    def __init__(self, value: int, done: dict[int, Any]) -> None:
        self.value, self.done = value, done
        self.junk: list[bytes] = []

    def __index__(self) -> int:
        self.done.clear()
        gc.collect()
        self.junk += [bytes([0xEE]) * k for k in (2, 3, 32) for _ in range(50)]
        return self.value


def _build(build: Any) -> tuple[bytes, list[Any]]:
    names = [b"d%d" % i for i in range(N)]
    done: dict[int, Any] = {}
    for i in range(N):
        # each name and ref made here: held by the entry alone
        name, ref = b"d%d" % i, bytes([i + 1]) * 32
        mode: Any = _Clears(0o755, done) if i % 2 else 0o755
        done[i] = (name, objects.DIR, mode, 1000 + i, 0, ref, 0, 0)
    del name, ref, mode

    def other(todo: list[int]) -> list[Any]:  # (those done no longer held: the same)
        return [
            ((b"d%d" % i, objects.DIR, 0o755, 1000 + i, 0, bytes([i + 1]) * 32, 0, 0), s, k)
            for i in todo
            for s, k in [(_dir_stat(), bytes([i + 1]) * 32)]
        ]

    got = build(names, _dir_stat() * N, None, 0, True, {}, None, None, True, None, None,
                b"", 0, None, other, done)  # fmt: skip
    return got[0], [
        (e.name, e.kind, e.mode, e.mtime_ns, e.ref) for e in objects.decode_tree(got[0])
    ]


EXPECTED = [(b"d%d" % i, objects.DIR, 0o755, 1000 + i, bytes([i + 1]) * 32) for i in range(N)]


@pytest.mark.parametrize("impl", ["c", "twin"])
def test_an_entry_held_by_done_alone_is_held_while_its_fields_are_read(impl: str) -> None:
    if impl == "c" and _ctree is None:
        pytest.skip("the C module is not built")
    build = _ctree.build if impl == "c" else ctree_py.build
    for _ in range(3):
        _, entries = _build(build)
        assert entries == EXPECTED
