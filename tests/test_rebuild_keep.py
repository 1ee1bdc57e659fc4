"""The watcher's worker keeps split trees across rebuilds (store/rebuild.keep_trees): past
KEEP_ENTRIES the least recently used go, in one pass over the kept trees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from git_snapshot.store import rebuild


class _Counted(dict):  # type: ignore[type-arg]
    """The kept trees, counting the walks over them (an iterator, items, keys, values)."""

    walks = 0

    def __iter__(self) -> Iterator[Any]:
        self.walks += 1
        return super().__iter__()

    def items(self) -> Any:
        self.walks += 1
        return super().items()

    def keys(self) -> Any:
        self.walks += 1
        return super().keys()

    def values(self) -> Any:
        self.walks += 1
        return super().values()


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Counted]:
    rebuild.keep_trees()
    kept = _Counted()
    monkeypatch.setattr(rebuild, "_KEPT", kept)
    try:
        yield kept
    finally:
        rebuild.keep_trees(False)


def _key(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_eviction_walks_the_kept_trees_once_and_keeps_the_recently_used(
    counted: _Counted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past KEEP_ENTRIES the least recently used trees go down to half, found in ONE walk
    (a pop(next(iter())) per tree walked again over the holes of the pops before it: on L,
    ~13,000 trees at once, 0.1-0.2 s of a preparation); the trees used last stay, and the
    count of kept entries stays exact."""
    monkeypatch.setattr(rebuild, "KEEP_ENTRIES", 4_000)
    tree = {b"a": b"x", b"b": b"y"}  # 2 entries each
    for n in range(2_000):  # 4,000 entries: none goes yet
        rebuild._keep(_key(n), dict(tree))
    assert len(counted) == 2_000 and counted.walks == 0
    used = [_key(n) for n in range(0, 2_000, 7)]
    assert rebuild._take_kept(counted, used).keys() == set(used)  # now the most recent
    rebuild._keep(_key(2_000), dict(tree))  # 4,002 entries: down to 2,000
    assert counted.walks <= 1
    assert rebuild._kept_entries == 2 * len(counted) == 2_000
    assert set(used) | {_key(2_000)} <= set(dict.keys(counted))
    assert _key(1) not in counted and _key(1_999) in counted
