"""Packs of version 3: small blobs in group records (one zstd frame for many, with a member
table); damage and lies in a group; packs of version 2 still read and repacked; the index
migrated from schema 2."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
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
from storehelpers import restore
from storehelpers import scan
from storehelpers import snapshot_contents
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import index as index_mod
from git_snapshot.store import packs
from git_snapshot.store.gc import gc
from git_snapshot.store.index import Index
from git_snapshot.store.objects import BLOB
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import PACK_MAGIC
from git_snapshot.store.packs import REC
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import group_table
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.remote.cache import pack_from_doc
from git_snapshot.store.repair import repair
from git_snapshot.store.restorer import Damaged
from git_snapshot.store.retention import Policy
from git_snapshot.store.retention import forget_by_policy
from git_snapshot.store.verify import verify

WORDS = [bytes(random.Random(i).choices(b"abcdefghij", k=1 + i % 9)) for i in range(300)]
FIXTURE_V2 = Path(__file__).parent / "fixtures" / "pack-v2.pack"


def text_tree(seed: int, files: int, size: int = 2500, folders: int = 5) -> D:
    rnd = random.Random(seed)
    root = D({b"d%d" % i: D() for i in range(folders)})
    for i in range(files):
        data = b" ".join(rnd.choices(WORDS, k=size // 5))[: rnd.randrange(size)]
        folder = root.children[b"d%d" % (i % folders)]
        assert isinstance(folder, D)
        folder.children[b"f%04d.js" % i] = F(b"%d\n" % i + data)
    return root


def members(store: Store) -> list[PackedObject]:
    return [o for n in store.pack_names() for o in scan_pack(store.pack_path(n)) if o.inner >= 0]


def groups(store: Store) -> set[frozenset[bytes]]:
    """The keys of each group of the store's packs."""
    out: dict[tuple[str, int], set[bytes]] = {}
    for n in store.pack_names():
        for o in scan_pack(store.pack_path(n)):
            if o.inner >= 0:
                out.setdefault((n, o.offset), set()).add(o.key)
    return {frozenset(keys) for keys in out.values()}


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups of at most 8 KiB of blobs of at most 2 KiB: small trees make many groups."""
    monkeypatch.setattr(packs, "GROUP_OBJECT", 2 << 10)
    monkeypatch.setattr(packs, "GROUP_BYTES", 8 << 10)
    monkeypatch.setattr(packs, "GROUP_MEMBERS", 9)
    monkeypatch.setattr(packs, "DICT_MIN", 8 << 10)
    monkeypatch.setattr(packs, "DICT_SAMPLE", 64 << 10)
    monkeypatch.setattr(packs, "POOL_AFTER", 16 << 10)


def test_small_files_are_grouped_and_come_back_exact(store: Store, tmp_path: Path) -> None:
    """Real thresholds: 400 small files go into one group (the last, closed by the flush: cut
    in two halves past 2 * CLOSE_HALF), smaller than one frame each."""
    src = tmp_path / "src"
    build(src, text_tree(1, 400))
    snap = take(store, "s", src)
    (pack,) = store.pack_names()
    with open(store.pack_path(pack), "rb") as f:
        assert f.read(len(PACK_MAGIC)) == PACK_MAGIC
    grouped = members(store)
    groups = {o.offset: o.length for o in grouped}
    raw = sum(p.stat().st_size for p in src.rglob("*.js"))
    assert len(grouped) == 400 and len(groups) == (2 if raw >= 2 * packs.CLOSE_HALF else 1)
    each = sum(len(zstandard.compress(p.read_bytes(), 3)) for p in src.rglob("*.js"))
    assert sum(groups.values()) < 0.75 * each
    assert snapshot_contents(store, snap) == scan(src)
    restore(store, snap, tmp_path / "out")
    assert scan(tmp_path / "out") == scan(src)
    assert verify(store, read_data=True).ok


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(0, 3 << 10), min_size=1, max_size=40),
    seed=st.integers(0, 1000),
    threads=st.sampled_from([1, 2]),
)
def test_group_round_trip_is_byte_exact(
    small_groups: None,
    tmp_path_factory: pytest.TempPathFactory,
    sizes: list[int],
    seed: int,
    threads: int,
) -> None:
    """Blobs below, at and above the group limit, empty ones, duplicates, groups closed by
    size, by member count and by the end of the walk, compressed here or in a pool: every
    member the headers name reads back, and every file restores byte for byte."""
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
        seen = set()
        for o in members(store):
            assert o.key not in seen
            seen.add(o.key)
            assert o.size <= packs.GROUP_OBJECT
            data = store.read_object(o.key)
            assert len(data) == o.size and hashlib.sha256(data).digest() == o.key
        restore(store, snap, tmp / "out", threads=threads, processes=False)
        assert scan(tmp / "out") == scan(tmp / "src")


def test_a_damaged_group_damages_each_member_and_the_next_snapshot_heals_them(
    small_groups: None, store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, text_tree(2, 40, size=1500))
    snap = take(store, "s", src)
    grouped = members(store)
    victim = grouped[len(grouped) // 2]
    same = {o.key for o in grouped if o.offset == victim.offset}
    assert len(same) > 2
    flip_byte(Path(store.pack_path(store.pack_names()[0])), victim.offset + victim.length - 8)
    store.reader.close()
    with pytest.raises(CorruptObject, match="unreadable"):
        store.read_object(victim.key)
    assert same <= set(store.index.damaged())  # every member, named
    with pytest.raises(Damaged) as exc:
        restore(store, snap, tmp_path / "out")
    assert len(exc.value.damaged) >= len(same)  # named; the rest is written
    assert verify(store, read_data=True).ok is False
    healed = take(store, "s", src)
    assert healed.root == snap.root
    assert not same & set(store.index.damaged())
    assert snapshot_contents(store, snap) == scan(src)  # the old snapshot reads again
    assert verify(store, read_data=True).ok


def _group_pack(store: Store, name: str, table: bytes, frame: bytes, size: int) -> str:
    """A pack holding one group record of *table* and *frame* (whatever they claim)."""
    body = table + frame
    head = REC.pack(b"G", 0, hashlib.sha256(table).digest(), size, len(body))
    Path(store.pack_path(name)).write_bytes(PACK_MAGIC + head + body)
    return store.pack_path(name)


def _enter(store: Store, name: str, objects: list[PackedObject]) -> None:
    store.index.add_packs(
        [packs.FinishedPack(name, os.path.getsize(store.pack_path(name)), objects)]
    )


def test_a_member_table_that_lies_gives_a_clear_error(store: Store) -> None:
    """Sizes past the end of the frame, a key twice, a count past the record, a truncated
    frame: scan_pack (repair, push) refuses the group with one ValueError; a read through the
    index names the object damaged; nothing crashes and no wrong byte comes back."""
    a, b = b"first member " * 50, b"second member " * 40
    ka, kb = hashlib.sha256(a).digest(), hashlib.sha256(b).digest()
    frame = zstandard.ZstdCompressor(level=3).compress(a + b)
    start = len(PACK_MAGIC) + REC.size

    # sizes past the end: the table claims more than the frame holds
    table = group_table([(BLOB, ka, len(a)), (BLOB, kb, len(b) + 1000)])
    _group_pack(store, "a" * 32 + ".pack", table, frame, len(a) + len(b) + 1000)
    got = list(scan_pack(store.pack_path("a" * 32 + ".pack")))  # the table itself is whole
    assert [o.key for o in got] == [ka, kb]
    _enter(store, "a" * 32 + ".pack", got)
    with pytest.raises(CorruptObject, match=r"truncated|unreadable"):
        store.read_object(kb)
    assert {ka, kb} <= set(store.index.damaged())

    # a key twice
    table = group_table([(BLOB, ka, len(a)), (BLOB, ka, len(b))])
    path = _group_pack(store, "b" * 32 + ".pack", table, frame, len(a) + len(b))
    with pytest.raises(ValueError, match="a key twice"):
        list(scan_pack(path))
    lying = PackedObject(kb, BLOB, start, len(table) + len(frame), len(b), len(a))
    store.index.db.execute("DELETE FROM damaged")
    store.index.db.execute("DELETE FROM objects")
    _enter(store, "b" * 32 + ".pack", [lying])
    store.reader.close()
    with pytest.raises(CorruptObject, match="a key twice"):
        store.read_object(kb)

    # a count that runs past the record, and a table cut short
    table = packs.COUNT.pack(10**6) + table[packs.COUNT.size :]
    path = _group_pack(store, "c" * 32 + ".pack", table, frame, len(a) + len(b))
    with pytest.raises(ValueError, match="damaged"):
        list(scan_pack(path))

    # a truncated frame: the second member's bytes are not all there
    table = group_table([(BLOB, ka, len(a)), (BLOB, kb, len(b))])
    path = _group_pack(store, "d" * 32 + ".pack", table, frame[: len(frame) // 2], len(a) + len(b))
    got = list(scan_pack(path))
    store.index.db.execute("DELETE FROM objects")
    _enter(store, "d" * 32 + ".pack", got)
    store.reader.close()
    for key in (ka, kb):
        with pytest.raises(CorruptObject):
            store.read_object(key)

    # a frame whose header claims a huge content: never more than the table's sizes in memory
    huge = zstandard.ZstdCompressor(level=3).compress(bytes(64 << 20))
    path = _group_pack(store, "e" * 32 + ".pack", table, huge, len(a) + len(b))
    got = list(scan_pack(path))
    store.index.db.execute("DELETE FROM objects")
    _enter(store, "e" * 32 + ".pack", got)
    store.reader.close()
    with pytest.raises(CorruptObject):
        store.read_object(ka)


def test_repair_reads_groups_and_stops_at_a_lying_table(
    small_groups: None, store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    build(src, text_tree(3, 60, size=1500))
    snap = take(store, "s", src)
    want = snapshot_contents(store, snap)
    assert len({o.offset for o in members(store)}) > 3
    store.index.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store.index_path + suffix):
            os.unlink(store.index_path + suffix)
    with Store(store.path, repairing=True) as fixed:
        report = repair(fixed)
        assert report.ok and report.snapshots == 1
        assert snapshot_contents(fixed, fixed.snapshots()[0]) == want
        # a lying table in a copy of the pack: repair names the pack, nothing crashes
        (name,) = fixed.pack_names()
        data = bytearray(Path(fixed.pack_path(name)).read_bytes())
        first = next(o for o in scan_pack(fixed.pack_path(name)) if o.inner >= 0)
        data[first.offset + packs.COUNT.size + 1] ^= 0xFF  # a key in the first table
        Path(fixed.pack_path("f" * 32 + ".pack")).write_bytes(bytes(data))
        again = repair(fixed)
        assert any(n == "f" * 32 + ".pack" and "table" in why for n, why in again.bad_packs)
        assert snapshot_contents(fixed, fixed.snapshots()[0]) == want


def test_gc_copies_a_whole_live_group_and_regroups_a_partly_live_one(
    small_groups: None, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(packs, "DICT_MIN", 1 << 40)  # no dictionary: groups copy as they are
    src = tmp_path / "src"
    build(src, text_tree(4, 80, size=1500))
    (src / "big").write_bytes(random.Random(4).randbytes(200 << 10))  # dead soon: sparse pack
    take(store, "s", src)
    before = groups(store)
    for p in sorted((src / "d1").iterdir())[:4]:  # a few members die
        p.write_bytes(b"gone " + p.name.encode())
    (src / "big").unlink()
    kept = take(store, "s", src)
    forget_by_policy(store, Policy(keep_last=1), ["s"])
    report = gc(store)
    assert report.packs_rewritten >= 1 and report.objects_removed > 0
    after = groups(store)
    assert after & before  # groups whose members all live were copied whole
    dead = {hashlib.sha256(b"gone f%04d.js" % i).digest() for i in range(80)}
    assert any(not g <= dead and g not in before for g in after)  # and the others regrouped
    assert snapshot_contents(store, kept) == scan(src)
    assert verify(store, read_data=True).ok


def test_a_version_2_pack_is_read_repaired_and_repacked(store_dir: Path, tmp_path: Path) -> None:
    """tests/fixtures/pack-v2.pack was written by the version before groups (GSNPACK2 with a
    dictionary record; 40 small files of text_tree(7) in three folders and one of 70 KiB):
    repair finds its snapshot, every file reads back, and gc repacks it into groups."""
    name = "ea1efbcb77a5b6f3ee063c40d0647f7a.pack"
    Store(store_dir).close()
    shutil.copyfile(FIXTURE_V2, store_dir / "packs" / name)
    with Store(store_dir, repairing=True) as fixing:
        assert fixing.reader.dictionary(name) is not None
        report = repair(fixing)
        assert report.ok and report.snapshots == 1
    store = Store(store_dir)
    (old,) = store.snapshots()
    src = tmp_path / "src"
    tree = text_tree(7, 40, folders=3)
    tree.children[b"big.js"] = F(b" ".join(random.Random(7).choices(WORDS, k=20000))[: 70 << 10])
    build(src, tree)
    assert snapshot_contents(store, old, mtimes=False) == scan(src, mtimes=False)
    # gc repacks it once most of it is dead
    (src / "big.js").write_bytes(b"changed")
    for p in [*(src / "d0").iterdir(), *(src / "d1").iterdir()]:
        p.write_bytes(b"changed " + p.name.encode())
    try:
        take(store, "v2", src)
        forget_by_policy(store, Policy(keep_last=1), ["v2"])
        assert gc(store).packs_rewritten >= 1
        assert name not in store.pack_names()
        kept = {e.ref for _, e in store.walk(store.snapshots()[-1].root) if e.kind == BLOB}
        assert kept & {o.key for o in members(store)}  # the old small files now lie in groups
        last = store.snapshots()[-1]
        assert snapshot_contents(store, last, mtimes=False) == scan(src, mtimes=False)
        assert verify(store, read_data=True).ok
    finally:
        store.close()


def test_an_index_of_schema_2_is_migrated(tmp_path: Path) -> None:
    path = str(tmp_path / "index.sqlite")
    # schema 2: objects without member, and no recent table (schema 5's, made by the migration)
    old_schema = index_mod.SCHEMA.replace(
        "    type INTEGER NOT NULL,\n    member INTEGER NOT NULL DEFAULT -1",
        "    type INTEGER NOT NULL",
        1,
    )
    recent = old_schema.index("-- Objects of snapshots rebuilt")
    old_schema = (
        old_schema[:recent] + old_schema[old_schema.index("CREATE TABLE IF NOT EXISTS damaged") :]
    )
    assert "member" not in old_schema and "recent" not in old_schema
    db = sqlite3.connect(path)
    db.executescript(old_schema)
    db.execute("INSERT INTO packs(id, name, size) VALUES (1, 'p.pack', 100)")
    db.execute("INSERT INTO objects VALUES (?, 1, 8, 50, 40, 1)", (b"k" * 32,))
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()
    index = Index(path)
    try:
        assert index.db.execute("PRAGMA user_version").fetchone()[0] == index_mod.SCHEMA_VERSION
        loc = index.locate(b"k" * 32)
        assert loc is not None and (loc.offset, loc.length, loc.size, loc.inner) == (8, 50, 40, -1)
    finally:
        index.close()
    again = Index(path)  # a second open writes nothing
    again.close()


def test_remote_pack_documents_without_groups_still_load() -> None:
    key = b"\1" * 32
    fields = ["key", "type", "offset", "length", "size"]
    old = {"id": "ab", "size": 10, "fields": fields, "rows": [[key.hex(), 1, 58, 30, 40]]}
    (o,) = pack_from_doc(old).objects
    assert (o.key, o.offset, o.inner) == (key, 58, -1)
    new = dict(old, fields=[*fields, "inner"], rows=[[key.hex(), 1, 58, 30, 40, 7]])
    (o,) = pack_from_doc(new).objects
    assert o.inner == 7
    with pytest.raises(CorruptObject):
        pack_from_doc(dict(old, fields=["key", "type"]))
    with pytest.raises(CorruptObject):
        pack_from_doc(dict(new, rows=[[key.hex(), 1, 58]]))


@settings(max_examples=40, deadline=None)
@given(
    groups=st.lists(
        st.lists(st.binary(max_size=3000), max_size=12).map(
            lambda ms: [*ms, b"x" * (len(ms) * 4001 % 70_000)]  # some big, some small
        ),
        min_size=1,
        max_size=6,
    ),
    level=st.sampled_from([2, packs.LEVEL, -1]),
    with_dict=st.booleans(),
)
def test_a_group_joined_in_the_threads_buffer_is_the_frame_of_its_members_joined(
    groups: list[list[bytes]], level: int, with_dict: bool
) -> None:
    """A group's members are joined in a buffer the thread keeps from group to group (not a
    fresh ``b"".join``: 512 page faults a 2 MiB group), bigger or smaller than the last: the
    frame is the one of their bytes joined, byte for byte, and reads back as them."""
    from git_snapshot.store import zstd

    zdict = None
    if with_dict:
        zdict = zstd.load().ZstdCompressionDict(b"alpha beta gamma delta epsilon " * 200)
        level = packs.LEVEL  # (a dictionary's frames are at the writer's level)
    for members in groups:
        frame = packs._group_frame(members, zdict, level)
        assert frame == packs._compress(b"".join(members), zdict, level)
        d = (
            zstandard.ZstdDecompressor(dict_data=zdict)
            if zdict is not None
            else zstandard.ZstdDecompressor()
        )
        assert d.decompress(frame) == b"".join(members)


def test_a_writer_done_lets_go_of_its_threads_group_buffer(tmp_path: Path) -> None:
    """The buffer a group is joined in lives as long as its thread: a pool's go with the
    pool, and the writer's own thread (which compresses when the pool is behind, or with no
    pool) lets go of its own when the writer is done: the watcher's worker lives for hours."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "packs").mkdir()
    w = packs.PackWriter(str(tmp_path))  # no pool: groups compressed in this thread
    for i in range(40):
        w.add(BLOB, hashlib.sha256(b"%d" % i).digest(), b"%d " % i * 2000)
    w.flush()
    assert len(packs._COMPRESSORS.joined) >= 40 * 1000
    w.finish()
    assert len(packs._COMPRESSORS.joined) == 0
