"""Restore: files of one content (a LICENSE in every package) take it from the first one read,
instead of decompressing its group again each time it was evicted."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
from storehelpers import D
from storehelpers import F
from storehelpers import Node
from storehelpers import build
from storehelpers import flip_byte
from storehelpers import restore
from storehelpers import scan
from storehelpers import take

from git_snapshot.store import Store
from git_snapshot.store import packread
from git_snapshot.store import packs
from git_snapshot.store import restorer
from git_snapshot.store.packs import scan_pack
from git_snapshot.store.restorer import Damaged


@pytest.mark.parametrize("processes", [False, True])
def test_files_of_one_content_decompress_its_group_once(
    monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path, processes: bool
) -> None:
    """In one writer, groups in storage order: each decompressed once (55 times for 50
    groups before). Writer processes (which count in their own memory) restore the same."""
    monkeypatch.setattr(packs, "GROUP_OBJECT", 2 << 10)
    monkeypatch.setattr(packs, "GROUP_BYTES", 8 << 10)
    monkeypatch.setattr(packread, "GROUP_CACHE", 1)
    # jobs of at most 32 folders: four of them, a group's members in two jobs (JOB_DIRS
    # is 128 since 3207ef0: one job would hold them all)
    monkeypatch.setattr(restorer, "JOB_DIRS", 32)
    rnd = random.Random(3)
    licence = b"MIT License, the same text in every package\n" * 20
    folders: dict[bytes, Node] = {}
    for i in range(100):
        files: dict[bytes, Node] = {b"LICENSE": F(licence), b"empty.js": F(b"")}
        for j in range(3):
            files[b"m%d.js" % j] = F(rnd.randbytes(700).hex().encode())
        folders[b"p%02d" % i] = D(files)
    build(tmp_path / "src", D(folders))
    snap = take(store, "s", tmp_path / "src")
    groups = {
        (n, o.offset)
        for n in store.pack_names()
        for o in scan_pack(store.pack_path(n))
        if o.inner >= 0
    }
    assert len(groups) > 10
    calls = []
    decode = packread._read_exactly

    def counted(*args: object) -> bytes:
        calls.append(1)
        return decode(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(packread, "_read_exactly", counted)
    restore(store, snap, tmp_path / "out", threads=2 if processes else 0, processes=processes)
    assert scan(tmp_path / "out") == scan(tmp_path / "src")
    if not processes:
        assert len(calls) == len(groups)


@pytest.mark.parametrize("processes", [False, True])
def test_a_damaged_group_names_its_members_and_every_other_file_is_written(
    monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path, processes: bool
) -> None:
    """A writer decompresses a group once for its members that follow one another: when that
    fails, exactly the files whose content lies in it are named (and recorded), and every
    other file, of the same folders too, is written."""
    monkeypatch.setattr(packs, "GROUP_OBJECT", 2 << 10)
    monkeypatch.setattr(packs, "GROUP_BYTES", 8 << 10)
    rnd = random.Random(5)
    licence = b"the same text in every folder\n" * 30
    folders: dict[bytes, Node] = {}
    for i in range(40):
        files: dict[bytes, Node] = {b"LICENSE": F(licence)}
        for j in range(4):
            files[b"m%d.js" % j] = F(rnd.randbytes(700).hex().encode())
        folders[b"p%02d" % i] = D(files)
    build(tmp_path / "src", D(folders))
    snap = take(store, "s", tmp_path / "src")
    grouped = [
        (n, o) for n in store.pack_names() for o in scan_pack(store.pack_path(n)) if o.inner >= 0
    ]
    name, victim = grouped[len(grouped) // 2]
    lost = {o.key for n, o in grouped if (n, o.offset) == (name, victim.offset)}
    assert len(lost) > 2
    flip_byte(Path(store.pack_path(name)), victim.offset + victim.length - 8)
    store.reader.close()
    src = scan(tmp_path / "src")
    named = {p for p, seen in src.items() if seen.kind == "file" and _key(seen.data) in lost}
    with pytest.raises(Damaged) as caught:
        restore(store, snap, tmp_path / "out", threads=2, processes=processes)
    assert {p for p, _ in caught.value.damaged} == named
    assert lost <= set(store.index.damaged())
    assert scan(tmp_path / "out") == {p: s for p, s in src.items() if p not in named}


def _key(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
