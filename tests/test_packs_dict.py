"""Packs of version 2: a per-pack dictionary for small objects, frames compressed by a thread
pool; repair, gc and verify on such packs; packs of version 1 still read."""

from __future__ import annotations

import hashlib
import os
import random
import struct
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import flip_byte
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store.gc import gc
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import PACK_MAGIC
from git_snapshot.store.packs import PACK_MAGIC_V1
from git_snapshot.store.packs import REC
from git_snapshot.store.packs import FinishedPack
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.repair import repair
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_by_policy
from git_snapshot.store.verify import verify

WORDS = [bytes(random.Random(i).choices(b"abcdefghij", k=1 + i % 9)) for i in range(300)]


def text_tree(seed: int, files: int, size: int = 2500) -> D:
    """Small files of shared words (what a dictionary helps with), in a few folders."""
    rnd = random.Random(seed)
    root = D({b"d%d" % i: D() for i in range(5)})
    for i in range(files):
        data = b" ".join(rnd.choices(WORDS, k=size // 5))[: rnd.randrange(size)]
        folder = root.children[b"d%d" % (i % 5)]
        assert isinstance(folder, D)
        folder.children[b"f%04d.js" % i] = F(b"%d\n" % i + data)
    return root


def dictionary_of(path: Path) -> bytes | None:
    with open(path, "rb") as f:
        head = f.read(len(PACK_MAGIC) + REC.size)
    assert head[: len(PACK_MAGIC)] == PACK_MAGIC
    marker = REC.unpack_from(head, len(PACK_MAGIC))[0]
    return head if marker == b"D" else None


def pack_files(store: Store) -> list[Path]:
    return [Path(store.pack_path(n)) for n in store.pack_names()]


@pytest.fixture
def small_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thresholds scaled down so that small trees get a dictionary and a pool."""
    monkeypatch.setattr(packs, "DICT_MIN", 8 << 10)
    monkeypatch.setattr(packs, "DICT_SAMPLE", 64 << 10)
    monkeypatch.setattr(packs, "POOL_AFTER", 16 << 10)
    monkeypatch.setattr(packs, "QUEUE", 3)


def test_small_files_share_a_dictionary_and_come_back_exact(store: Store, tmp_path: Path) -> None:
    """Real thresholds: 300 KiB of small files is enough for a dictionary."""
    src = tmp_path / "src"
    build(src, text_tree(1, 400))
    plain = sum(len(zstandard.compress(p.read_bytes(), 3)) for p in src.rglob("*.js"))
    snap = take(store, "s", src)
    (pack,) = pack_files(store)
    assert dictionary_of(pack) is not None
    assert snap.added_bytes < 0.9 * plain  # the dictionary earned its place
    assert snapshot_contents(store, snap) == scan(src)
    assert verify(store, read_data=True).ok


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(0, 70 << 10), min_size=1, max_size=40),
    seed=st.integers(0, 1000),
)
def test_round_trip_is_byte_exact(
    small_dict: None, tmp_path_factory: pytest.TempPathFactory, sizes: list[int], seed: int
) -> None:
    """Objects below, at and above the dictionary's size limit, empty ones, duplicates, in
    the pool's order: every byte comes back."""
    rnd = random.Random(seed)
    tmp = tmp_path_factory.mktemp("rt")
    files: dict[bytes, Node] = {}
    for i, n in enumerate(sizes):
        files[b"f%02d" % i] = F(b" ".join(rnd.choices(WORDS, k=n // 4 + 1))[:n])
    files[b"dup"] = files[b"f00"]
    build(tmp / "src", D({b"a": D(files), b"b": D(dict(list(files.items())[:3]))}))
    with Store(tmp / "store") as store:
        snap = take(store, "s", tmp / "src")
        assert snapshot_contents(store, snap) == scan(tmp / "src")
        keys = [e.ref for _, e in store.walk(snap.root) if e.kind == BLOB]
        assert all(store.location(k)[0] for k in keys)  # each in a pack
        for p in pack_files(store):  # every object the headers name is readable
            for o in scan_pack(str(p)):
                assert hashlib.sha256(store.read_object(o.key)).digest() == o.key


def test_repair_rebuilds_from_dictionary_packs(
    small_dict: None, store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, text_tree(2, 120))
    first = take(store, "s", src)
    (src / "d1" / "f0001.js").write_bytes(b"changed")
    second = take(store, "s", src)
    assert any(dictionary_of(p) for p in pack_files(store))
    want = {s.id: snapshot_contents(store, s) for s in (first, second)}
    store.index.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store.index_path + suffix):
            os.unlink(store.index_path + suffix)
    with Store(store.path, repairing=True) as fixed:
        report = repair(fixed)
        assert report.ok and report.snapshots == 2
        got = {s.id: snapshot_contents(fixed, s) for s in fixed.snapshots()}
    assert got == want


def test_gc_repacks_a_partly_live_dictionary_pack(
    small_dict: None, store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, text_tree(3, 200))
    take(store, "s", src)
    for p in sorted((src / "d2").iterdir())[:35]:  # most of the pack stays live
        p.write_bytes(b"gone " + p.name.encode())
    for p in sorted(src.rglob("*.js"))[40:]:
        p.unlink()
    kept = take(store, "s", src)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    before = set(store.pack_names())
    report = gc(store)
    assert report.packs_rewritten >= 1 and report.objects_removed > 0
    assert not before >= set(store.pack_names())  # a new pack holds the live part
    assert snapshot_contents(store, kept) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_damaged_dictionary_is_found_and_healed_by_the_next_snapshot(
    small_dict: None, store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, text_tree(4, 60))
    snap = take(store, "s", src)
    (pack,) = pack_files(store)
    assert dictionary_of(pack) is not None
    flip_byte(pack, len(PACK_MAGIC) + REC.size + 20)  # inside the dictionary's frame
    store.reader.close()
    report = verify(store, read_data=True)
    assert not report.ok
    damaged = store.index.damaged()
    assert damaged  # every object that needs the dictionary, named for the next snapshot
    # trees and the record (format 4: P records) need no dictionary and still read
    assert snap.record not in damaged and snap.root not in damaged
    assert snap.record is not None and store.read_object(snap.record)
    assert store.read_object(snap.root)
    healed = take(store, "s", src)
    assert healed.root == snap.root
    assert store.index.damaged() == {}
    assert snapshot_contents(store, snap) == scan(src)  # the old snapshot reads again


def test_a_damaged_object_in_a_dictionary_pack_is_named(
    small_dict: None, store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, text_tree(5, 60))
    snap = take(store, "s", src)
    (pack,) = pack_files(store)
    victim = next(o for o in scan_pack(str(pack)) if o.type == BLOB and o.size > 500)
    flip_byte(pack, victim.offset + victim.length // 2)
    store.reader.close()
    with pytest.raises(CorruptObject):
        store.read_object(victim.key)
    assert victim.key in store.index.damaged()
    take(store, "s", src)  # stored afresh
    assert store.index.damaged() == {}
    assert snapshot_contents(store, snap) == scan(src)


def test_a_version_1_pack_is_still_read(store: Store) -> None:
    """A pack written before version 2 (magic GSNPACK1, no dictionary) reads, scans, repairs
    and is repacked by gc."""
    data = b"old content " * 100
    key = hashlib.sha256(data).digest()
    frame = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(data)
    name = "0" * 32 + ".pack"
    body = PACK_MAGIC_V1 + REC.pack(b"R", BLOB, key, len(data), len(frame)) + frame
    Path(store.pack_path(name)).write_bytes(body)
    offset = len(PACK_MAGIC_V1) + REC.size
    obj = PackedObject(key, BLOB, offset, len(frame), len(data), -1)
    store.index.add_packs([FinishedPack(name, len(body), [obj])])
    assert store.read_object(key) == data
    assert b"".join(store.stream_blob(key)) == data
    assert list(scan_pack(store.pack_path(name))) == [obj]
    assert store.reader.dictionary(name) is None
    assert struct.unpack_from("<c", body, len(PACK_MAGIC_V1))[0] == b"R"


def test_a_long_walk_gets_a_new_dictionary_per_epoch(
    small_dict: None, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packs, "DICT_EPOCH", 100 << 10)
    src = tmp_path / "src"
    build(src, text_tree(6, 300))
    snap = take(store, "s", src)
    dicts = {dictionary_of(p) for p in pack_files(store)}
    assert len(dicts - {None}) >= 3  # each pack its own (the short tail may have none)
    assert snapshot_contents(store, snap) == scan(src)


def markers(path: Path) -> list[tuple[bytes, int]]:
    """(marker, type) of each record of a pack, from its headers."""
    body = path.read_bytes()
    out, pos = [], len(PACK_MAGIC)
    while pos < len(body):
        marker, type_, _, _, length = REC.unpack_from(body, pos)
        out.append((marker, type_))
        pos += REC.size + length
    return out


def test_trees_need_no_dictionary_and_a_later_snapshot_writes_none(
    small_dict: None, store: Store, tmp_path: Path
) -> None:
    """Format 4: trees and records are P records (no dictionary), blobs use it; a snapshot
    after the first (a files cache) stores its few changes without a dictionary."""
    src = tmp_path / "src"
    build(src, text_tree(7, 200))
    first = take(store, "s", src)
    (pack,) = pack_files(store)
    assert dictionary_of(pack) is not None
    got = markers(pack)
    assert {m for m, t in got if t in (2, 3)} == {b"P"}  # trees, the record
    assert {m for m, t in got if t == BLOB} <= {b"R"} and (b"G", 0) in got
    for p in sorted(src.rglob("*.js"))[:120]:
        p.write_bytes(p.read_bytes() + b" changed")
    snap = take(store, "s", src)
    new = set(pack_files(store)) - {pack}
    assert new and all(dictionary_of(p) is None for p in new)
    assert snapshot_contents(store, snap) == scan(src)
    assert snapshot_contents(store, first) != snapshot_contents(store, snap)
