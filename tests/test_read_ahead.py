"""Random readers of many group members (diff --stat, -p): a group decoded only as far as the
members read end (PackReader.members), and contents read ahead in storage order by threads
(store.diff.read_blobs)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
import zstandard
from storehelpers import D
from storehelpers import F
from storehelpers import build
from storehelpers import flip_byte
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import packs
from git_snapshot.store import validate
from git_snapshot.store.diff import read_blobs
from git_snapshot.store.objects import CorruptObject
from git_snapshot.store.packs import PackedObject
from git_snapshot.store.packs import scan_pack

WORDS = [bytes(random.Random(i).choices(b"abcdefghij", k=1 + i % 9)) for i in range(300)]


def text_files(seed: int, n: int, size: int = 2500) -> dict[bytes, bytes]:
    rnd = random.Random(seed)
    return {
        b"f%04d.js" % i: b"%d\n" % i + b" ".join(rnd.choices(WORDS, k=size // 5))[:size]
        for i in range(n)
    }


def grouped(store: Store) -> list[tuple[str, PackedObject]]:
    return [
        (n, o) for n in store.pack_names() for o in scan_pack(store.pack_path(n)) if o.inner >= 0
    ]


def test_a_random_reader_decodes_a_group_only_as_far_as_its_member(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """400 small files in one group (real thresholds, several zstd blocks), its checksum
    damaged: a whole-group read fails, members() gives the first members right (decoded
    from the start only as far as they end), one at a time or all in one call, and fails
    on a member whose read reaches the end of the frame."""
    files = text_files(1, 400)
    build(tmp_path / "src", D({k: F(v) for k, v in files.items()}))
    monkeypatch.setattr(packs, "CLOSE_HALF", 1 << 30)  # (the flush's group kept whole)
    take(store, "s", tmp_path / "src")
    objs = grouped(store)
    assert len(objs) == 400 and len({o.offset for _, o in objs}) == 1
    name, first = objs[0]
    flip_byte(Path(store.pack_path(name)), first.offset + first.length - 2)  # its checksum
    store.reader.close()
    reader = store.reader
    with pytest.raises(zstandard.ZstdError):
        reader.read(name, first.offset, first.length, first.size, first.inner)
    by_key = {hashlib.sha256(v).digest(): v for v in files.values()}
    total = sum(o.size for _, o in objs)
    assert total > 4 * (128 << 10)  # several blocks
    front = [o for _, o in objs if o.inner + o.size < total // 2]
    for o in front:
        (data,) = reader.members(name, o.offset, o.length, [(o.inner, o.size)])
        assert data == by_key[o.key]
    got = reader.members(name, first.offset, first.length, [(o.inner, o.size) for o in front])
    assert got == [by_key[o.key] for o in front]
    last = objs[-1][1]
    with pytest.raises(zstandard.ZstdError):  # this one needs the end of the frame
        reader.members(name, last.offset, last.length, [(first.inner, 1), (last.inner, last.size)])
    (got1,) = reader.members(name, first.offset, first.length, [(first.inner, first.size)])
    assert got1 == by_key[first.key]  # a fresh start after the failure


@pytest.mark.parametrize("threads", [1, 2])
def test_read_blobs_gives_each_content_checked_and_leaves_out_the_damaged(
    monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path, threads: int
) -> None:
    """Three snapshots of small files in many small groups and packs, read in one batch:
    each content is the file's; a member of a damaged group is left out, and the reader's
    own read of it then names it damaged."""
    monkeypatch.setattr(packs, "GROUP_OBJECT", 2 << 10)
    monkeypatch.setattr(packs, "GROUP_BYTES", 8 << 10)
    want: dict[bytes, bytes] = {}
    snaps = []
    for seed in range(3):
        files = text_files(seed, 60, size=1800)
        files[b"big.bin"] = random.Random(seed).randbytes(300 << 10)  # a frame of its own
        build(tmp_path / f"src{seed}", D({k: F(v) for k, v in files.items()}))
        snaps.append(take(store, "s", tmp_path / f"src{seed}"))
        want.update({hashlib.sha256(v).digest(): v for v in files.values()})
    assert len(store.pack_names()) == 3  # one per snapshot: a task each
    entries = [e for s in snaps for e in validate.read_tree(store, s.root, b"")]
    assert read_blobs(store, entries, threads=threads) == want
    name, victim = grouped(store)[5]
    flip_byte(Path(store.pack_path(name)), victim.offset + victim.length - 2)
    store.reader.close()
    got = read_blobs(store, entries, threads=threads)
    assert victim.key not in got and len(got) < len(want)
    assert all(want[k] == v for k, v in got.items())
    (e,) = [e for e in entries if e.ref == victim.key][:1]
    with pytest.raises(CorruptObject):
        validate.read_blob(store, e)


def test_a_random_reader_refuses_a_group_header_that_lies(store: Store, tmp_path: Path) -> None:
    """members() takes the content's size from the record's header, not the member table:
    a header claiming another size, or a table count past the record, is damage."""
    files = text_files(2, 50)
    build(tmp_path / "src", D({k: F(v) for k, v in files.items()}))
    take(store, "s", tmp_path / "src")
    name, o = grouped(store)[3]
    path = Path(store.pack_path(name))
    good = path.read_bytes()
    head = o.offset - packs.REC.size
    size_at = head + 34  # REC: marker, type, key, then the size
    for at, value in [(size_at, o.size), (o.offset, 10**6)]:  # the size, the member count
        data = bytearray(good)
        width = 8 if at == size_at else 4
        data[at : at + width] = (int.from_bytes(data[at : at + width], "little") + value).to_bytes(
            width, "little"
        )
        path.write_bytes(bytes(data))
        store.reader.close()
        with pytest.raises(zstandard.ZstdError):
            store.reader.members(name, o.offset, o.length, [(o.inner, o.size)])
    path.write_bytes(good)
    store.reader.close()
    (got,) = store.reader.members(name, o.offset, o.length, [(o.inner, o.size)])
    assert hashlib.sha256(got).digest() == o.key
