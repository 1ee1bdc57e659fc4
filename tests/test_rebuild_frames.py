"""A rebuilt snapshot's trees (one zstd frame each, thousands on a 1 % hook of a big tree) are
compressed by the writer's pool in one zstd call per batch (packs._compress_many): a pool
thread that takes the GIL back after every small frame stalls the walking thread, itself bound
by the GIL. The frames are the ones compressing each object alone gives."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
import zstandard

from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store.objects import TREE


def _items() -> list[tuple[Any, bool, int]]:
    trees = [(b"GSTREE01" + os.urandom(40) + b"n" * i, False, -1) for i in range(200)]
    blobs = [(os.urandom(100) * 3, False, 3) for _ in range(3)]  # fewer than MANY_MIN
    group = [([b"a" * 100, b"b" * 50], False, 3)]  # a group's members: one frame
    empty = [(b"", False, -1)]
    big = [(os.urandom(1000) + b"big" * 70_000 * (1 + i), False, packs.LEVEL) for i in range(8)]
    return trees[:100] + blobs + group + empty + big + trees[100:]


def _alone(d: Any, level: int) -> bytes:
    data = d if isinstance(d, bytes) else b"".join(d)
    return zstandard.ZstdCompressor(level=level, write_checksum=True).compress(data)


def test_small_frames_without_the_dictionary_take_one_call_per_level(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = _items()
    one_by_one: list[int] = []
    real = packs._compress

    def counted(data: bytes, zdict: Any, level: int = packs.LEVEL) -> bytes:
        if data:  # (_compress_many makes its compressor with an empty one)
            one_by_one.append(level)
        return real(data, zdict, level)

    monkeypatch.setattr(packs, "_compress", counted)
    frames = packs._compress_all(items, None)
    assert frames == [_alone(d, level) for d, _, level in items]
    # the 200 trees and the empty one in one call, the 8 big ones in another; the 3 blobs
    # (fewer than MANY_MIN at their level) and the group one by one
    assert sorted(one_by_one) == [3, 3, 3, 3]
    for frame, (d, _, _) in zip(frames, items, strict=True):
        data = d if isinstance(d, bytes) else b"".join(d)
        assert zstandard.ZstdDecompressor().decompress(frame) == data


def test_without_the_batch_call_each_is_compressed_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zstandard without multi_compress_to_buffer (its cffi backend) gives the same frames."""
    items = _items()
    monkeypatch.setattr(packs, "_compress_many", lambda datas, level: None)
    assert packs._compress_all(items, None) == [_alone(d, level) for d, _, level in items]


def test_a_pool_writes_trees_that_read_back(store: Store) -> None:
    """Trees written through a pool (a rebuild's writer), many per batch, read back as
    written."""
    w = packs.PackWriter(store.path, threads=1, pool_after=0, level=3, tree_level=-1)
    datas = [b"GSTREE01" + os.urandom(30) * (1 + i % 5) for i in range(700)]
    keys = [hashlib.sha256(d).digest() for d in datas]
    for k, d in zip(keys, datas, strict=True):
        w.add(TREE, k, d)
    store.index.add_packs(w.finish())
    for k, d in zip(keys, datas, strict=True):
        assert store.read_object(k) == d
