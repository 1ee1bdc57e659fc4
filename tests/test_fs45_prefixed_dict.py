"""A pack's dictionary frames made with the dictionary's bytes right before the input in memory
(packs._prefixed_frame: zstd's faster search, not its "extDict" one), read back with the pack's
dictionary like python-zstandard's frames; without zstandard's cffi module, those as before."""

from __future__ import annotations

import random
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import zstandard
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take
from test_packs_dict import dictionary_of
from test_packs_dict import pack_files
from test_packs_dict import text_tree

from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store.verify import verify

OFF = "zstandard's cffi module is not in use (not installed, or GIT_SNAPSHOT_PURE_PYTHON=1)"


def _dictionary(seed: int) -> zstandard.ZstdCompressionDict:
    rnd = random.Random(seed)
    words = [bytes(rnd.choices(b"abcdefghijklmnop", k=rnd.randrange(3, 9))) for _ in range(400)]
    content = b" ".join(rnd.choices(words, k=60_000))[: 256 << 10]
    zdict = zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    zdict.precompute_compress(compression_params=packs._dict_params())
    return zdict


def _members(seed: int, n: int, size: int) -> list[bytes]:
    rnd = random.Random(seed)
    words = [bytes(rnd.choices(b"abcdefghijklmnop", k=rnd.randrange(3, 9))) for _ in range(400)]
    return [b" ".join(rnd.choices(words, k=size // 6))[:size] + b"%d" % i for i in range(n)]


def test_a_group_frame_is_made_after_the_dictionary_and_read_with_it() -> None:
    """The frame of a group (and of a blob of its own) with the pack's dictionary comes from
    the dictionary-prefixed path where zstandard's cffi module is there: the old code made it
    by python-zstandard's dictionary, whose bytes lie elsewhere (zstd's slower extDict search,
    41 % of a first snapshot's CPU on M)."""
    if packs._cffi() is None:
        pytest.skip(OFF)
    zdict = _dictionary(1)
    dec = zstandard.ZstdDecompressor(
        dict_data=zstandard.ZstdCompressionDict(
            zdict.as_bytes(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
    )
    for seed, n, size in ((2, 600, 3500), (3, 3, 100), (4, 1, 0), (5, 1, 300 << 10)):
        members = _members(seed, n, size)
        whole = b"".join(members)
        frame = packs._group_frame(members, zdict, packs.LEVEL)
        assert frame == packs._prefixed_frame(members, len(whole), zdict)
        assert dec.decompress(frame) == whole
        if n == 1:  # a blob of its own: the same path
            assert packs._compress(whole, zdict) == frame
    # python-zstandard's frame of the same bytes reads the same: either may sit in a pack
    old = zstandard.ZstdCompressor(dict_data=zdict, compression_params=packs._dict_params())
    members = _members(6, 500, 3000)
    assert dec.decompress(old.compress(b"".join(members))) == b"".join(members)
    # a new dictionary (a pack's next epoch) gets a context of its own
    other = _dictionary(7)
    frame = packs._group_frame(members, other, packs.LEVEL)
    assert packs._COMPRESSORS.prefixed is not None
    assert packs._COMPRESSORS.prefixed.zdict is other
    dec2 = zstandard.ZstdDecompressor(
        dict_data=zstandard.ZstdCompressionDict(
            other.as_bytes(), dict_type=zstandard.DICT_TYPE_RAWCONTENT
        )
    )
    assert dec2.decompress(frame) == b"".join(members)


def _tree() -> D:
    tree = text_tree(11, 900, 6000)
    rnd = random.Random(12)
    words = [bytes(rnd.choices(b"qrstuvwxyz", k=5)) for _ in range(200)]
    big = b" ".join(rnd.choices(words, k=80_000))  # a blob of its own (~470 KiB)
    tree.children[b"big.txt"] = F(big)
    return tree


@pytest.mark.parametrize("prefixed", [True, False])
def test_snapshots_with_either_frames_come_back_exact(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefixed: bool
) -> None:
    """A snapshot big enough for a dictionary, groups and a pool: made through the prefixed
    path (counted) or without zstandard's cffi module (_CFFI None: python-zstandard's frames,
    the path of an install without cffi), its contents come back byte for byte and verify
    reads every object; a second snapshot made the other way reads in the same store."""
    if prefixed and packs._cffi() is None:
        pytest.skip(OFF)
    made = []
    real = packs._prefixed_frame

    def counted(members: list[bytes], n: int, zdict: zstandard.ZstdCompressionDict) -> bytes | None:
        frame = real(members, n, zdict)
        made.append(frame is not None)
        return frame

    monkeypatch.setattr(packs, "_prefixed_frame", counted)
    monkeypatch.setattr(packs, "POOL_AFTER", 64 << 10)
    if not prefixed:
        monkeypatch.setattr(packs, "_CFFI", None)
    src = tmp_path / "src"
    build(src, _tree())
    snap = take(store, "s", src)
    assert [dictionary_of(p) is not None for p in pack_files(store)] == [True]
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok
    if prefixed:
        assert made and all(made)
    else:
        assert not any(made)
    # the other way, after an edit of every tenth file (new objects in a new pack): the first
    # snapshot of another source, since a source's later snapshots use no dictionary (review
    # RF45: with the same source this made no dictionary frame at all)
    monkeypatch.setattr(packs, "_CFFI", False if not prefixed else None)
    second = packs._cffi() is not None  # the prefixed path now (where cffi is there)
    made.clear()
    before = set(pack_files(store))
    other = tmp_path / "other"
    shutil.copytree(src, other, symlinks=True)
    for i, path in enumerate(sorted(other.rglob("*.js"))):
        if i % 10 == 0:
            path.write_bytes(path.read_bytes() + b" edited")
    snap2 = take(store, "t", other)
    added = [p for p in pack_files(store) if p not in before]
    assert [dictionary_of(p) is not None for p in added] == [True]
    assert made and all(m == second for m in made)
    assert snapshot_contents(store, snap2) == scan(other)
    assert snapshot_contents(store, snap) == scan(src)
    assert snapshot_contents(store, snap, mtimes=False) != snapshot_contents(
        store, snap2, mtimes=False
    )
    assert verify(store, read_data=True).ok


def test_threads_asking_while_the_module_loads_all_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool's threads ask for zstandard's cffi module at once when a first snapshot's
    dictionary is chosen: one loads it, the others wait for it. They used to get None while
    it loaded, and compressed that frame through python-zstandard: the same snapshot's packs
    differed from run to run (a 344 KiB blob of M: 65,575 bytes in one run, 65,302 in the
    next)."""
    real = packs._load_cffi()
    if real is None:
        pytest.skip(OFF)
    loading = threading.Event()

    def slow() -> tuple[Any, Any] | None:
        loading.set()
        time.sleep(0.2)  # (an order forced, not a time measured)
        return real

    monkeypatch.setattr(packs, "_load_cffi", slow)
    monkeypatch.setattr(packs, "_CFFI", False)
    got: list[object] = []
    first = threading.Thread(target=lambda: got.append(packs._cffi()))
    first.start()
    assert loading.wait(10)
    others = [threading.Thread(target=lambda: got.append(packs._cffi())) for _ in range(4)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join()
    assert got == [real] * 5
